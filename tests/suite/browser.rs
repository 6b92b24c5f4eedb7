//! The shipped wiki in a real browser (Debian's Chromium, driven by playwright-core from
//! tests/browser/): navigation, search, provenance, wiki and red links, no sideways scrolling at
//! 390 px, axe with no serious or critical finding, the Nu HTML checker with no error.
//!
//! It needs `/usr/bin/chromium` (`apt-get install chromium`, which `.ci/run` does), Node.js and
//! Java; the npm packages are installed from tests/browser/package-lock.json on first use.

use std::path::Path;
use std::process::Command;

use crate::harness::{repo, Wiki};

#[test]
fn the_shipped_wiki_reads_right_in_a_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the browser tests need Debian's Chromium at {chromium}: `apt-get install chromium` \
         (bash .ci/run installs it)"
    );
    let dir = repo().join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        let npm = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm (Node.js) is needed for the browser tests");
        assert!(npm.success(), "npm ci in tests/browser failed");
    }
    // The shipped wiki, plus an article with a wiki link and a red link (allowed as a warning).
    let wiki = Wiki::shipped();
    wiki.write(
        "content/browser-check.md",
        "---\ntitle: Browser check\n---\nSee [[NVIDIA RTX Pro 6000 (Blackwell)|the RTX Pro 6000 page]] and [[No such page]].\n",
    );
    let config = wiki.read("driftless.yaml");
    wiki.write(
        "driftless.yaml",
        &format!("{config}links: {{ red_links: warning }}\n"),
    );
    wiki.build();
    let shots = std::env::var("DRIFTLESS_SCREENSHOTS").ok();
    let mut node = Command::new("node");
    node.arg("check.mjs")
        .arg(wiki.path("site"))
        .current_dir(&dir);
    if let Some(s) = &shots {
        node.arg(s);
    }
    let out = node.output().expect("run node tests/browser/check.mjs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("all browser checks passed"), "{report}");
}
