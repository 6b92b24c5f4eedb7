//! Hostile content: data and front matter reach HTML escaped, raw HTML in articles is shown as
//! text unless the wiki allows it, script links are refused, and nothing can be read from outside
//! the wiki's folder.

use crate::harness::Wiki;

#[test]
fn values_from_data_and_front_matter_are_escaped() {
    let wiki = Wiki::fixture("escaping/hostile");
    wiki.edit("content/index.md", "[click](javascript:alert(3))\n", "");
    wiki.build();
    let html = wiki.read("site/index.html");
    assert!(
        !html.contains("<script>"),
        "a script tag reached the page:\n{html}"
    );
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>bold"), "{html}");
    assert!(!html.contains("href=\"javascript:"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;cell&#39;)&lt;/script&gt;")
            || html.contains("&lt;script&gt;alert('cell')&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("*emph*"),
        "Markdown in a data cell must show as written:\n{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert('raw html')&lt;/script&gt;")
            || html.contains("&lt;script&gt;alert(&#39;raw html&#39;)&lt;/script&gt;"),
        "{html}"
    );
    let catalog = wiki.read("site/data/index.html");
    assert!(!catalog.contains("<script>alert"), "{catalog}");
}

#[test]
fn raw_html_passes_only_when_the_wiki_allows_it_and_never_with_scripts() {
    let wiki = Wiki::fixture("escaping/hostile");
    wiki.edit("content/index.md", "[click](javascript:alert(3))\n", "");
    wiki.write(
        "driftless.yaml",
        "title: Trusted\nmarkdown:\n  raw_html: true\n",
    );
    wiki.write(
        "content/more.md",
        "---\ntitle: More\n---\nA <em class=\"note\" onclick=\"alert(5)\">note</em>.\n",
    );
    wiki.build();
    let html = wiki.read("site/index.html");
    // The script element is removed, not shown as text.
    assert!(!html.contains("raw html"), "{html}");
    let more = wiki.read("site/more/index.html");
    assert!(more.contains("<em class=\"note\">note</em>"), "{more}");
    // Data stays escaped even then.
    assert!(!html.contains("<script>alert('cell')"), "{html}");
}

#[test]
fn a_script_link_in_an_article_fails_the_build() {
    let wiki = Wiki::fixture("escaping/hostile");
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("the link `javascript:alert(3)` uses a scheme that can run code"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> content/index.md:11:"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_script_source_url_is_refused() {
    let wiki = Wiki::fixture("escaping/hostile");
    wiki.edit(
        "data/things.yaml",
        "source: \"<b>bold</b> source\"",
        "source_url: \"javascript:alert(4)\"",
    );
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`javascript:alert(4)` is not a web address"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> data/things.yaml:2:"),
        "{}",
        run.stderr
    );
}

#[test]
fn layouts_cannot_include_files_outside_templates() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.edit(
        "templates/base.html",
        "</footer>",
        "{% include \"../../../../etc/passwd\" %}</footer>",
    );
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("template not found"), "{}", run.stderr);
    assert!(!wiki.path("site").exists());
}

#[cfg(unix)]
#[test]
fn a_data_file_linking_outside_the_wiki_is_refused() {
    let wiki = Wiki::fixture("build/ripple");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.yaml"),
        "params:\n  secret: { value: 1 }\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        wiki.path("data/secret.yaml"),
    )
    .unwrap();
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("data/secret.yaml is a link to a place outside the wiki"),
        "{}",
        run.stderr
    );
}
