//! Any text as the Markdown of an article, rendered to HTML with raw HTML off and on. Besides
//! panics and hangs, one property is asserted: no event-handler attribute (`onclick=`, ...) and
//! no URL with a scheme that can run code (`javascript:`, `vbscript:`, `data:`), however it was
//! written (heading attributes, entities, raw HTML, reference links, autolinks), reaches the
//! page.

#![no_main]

use std::collections::HashMap;
use std::sync::LazyLock;

use driftless::markdown::LinkResolver;
use libfuzzer_sys::fuzz_target;

static SLUGS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    [("index.md", ""), ("guide/fuzz.md", "guide/fuzz")]
        .into_iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
});

fuzz_target!(|markdown: &str| {
    // The build refuses articles holding invisible control characters before they reach the
    // renderer (`fsutil::refuse_nul`).
    if markdown.chars().any(driftless::fsutil::is_hidden_control) {
        return;
    }
    for raw_html in [false, true] {
        let resolver = LinkResolver {
            slugs_by_path: &SLUGS,
            drafts: &[],
            static_files: &Default::default(),
            wiki: &Default::default(),
            figures: &[],
            provenance: None,
            dir: "guide",
            slug: "guide/fuzz",
            raw_html,
        };
        let page = driftless::markdown::render(markdown, &[], &resolver);
        if let Some(bad) = unsafe_attribute(&page.html) {
            panic!("raw_html: {raw_html}: {bad}\n--- input ---\n{markdown}\n--- page ---\n{}", page.html);
        }
    }
});

/// The first attribute of a tag in `html` that could run a script, described.
fn unsafe_attribute(html: &str) -> Option<String> {
    let b = html.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' || !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        // A start tag: its name, then attributes up to `>`.
        i += 1;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            let start = i;
            while i < b.len() && !b"=>/ \t\n\r\x0c".contains(&b[i]) {
                i += 1;
            }
            let name = html[start..i].to_ascii_lowercase();
            let mut value = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                match b.get(i) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = html[i + 1..].find(q as char).map_or(b.len(), |e| i + 1 + e);
                        value = html[i + 1..end].to_string();
                        i = (end + 1).min(b.len());
                    }
                    _ => {
                        let s = i;
                        while i < b.len() && !b.get(i).is_some_and(|c| c.is_ascii_whitespace() || *c == b'>') {
                            i += 1;
                        }
                        value = html[s..i].to_string();
                    }
                }
            }
            if name.starts_with("on") {
                return Some(format!("event-handler attribute `{name}`"));
            }
            if ["href", "src", "action", "formaction", "xlink:href", "srcset", "poster"].contains(&name.as_str())
                && runs_code(&value)
            {
                return Some(format!("script URL in `{name}`: {value}"));
            }
        }
    }
    None
}

/// Whether a URL attribute value, as a browser decodes it, has a scheme that can run code.
fn runs_code(value: &str) -> bool {
    let decoded = decode_entities(value);
    let compact: String = decoded
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"].iter().any(|s| compact.starts_with(s))
}

/// Decodes numeric character references and the few named ones that matter for a scheme.
fn decode_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find(';').unwrap_or(rest.len());
        let ent = &rest[1..end];
        let c = if let Some(hex) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
            u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
        } else if let Some(dec) = ent.strip_prefix('#') {
            dec.parse().ok().and_then(char::from_u32)
        } else {
            match ent {
                "colon" => Some(':'),
                "tab" | "Tab" => Some('\t'),
                "newline" | "NewLine" => Some('\n'),
                "amp" => Some('&'),
                _ => None,
            }
        };
        match c {
            Some(c) if end < rest.len() => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
