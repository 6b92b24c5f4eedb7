//! Atomic publish: a failed or killed build leaves the previous site byte-identical and no
//! temporary folders behind.

use std::process::Command;
use std::time::Duration;

use crate::harness::Wiki;

fn stray_folders(wiki: &Wiki) -> Vec<String> {
    std::fs::read_dir(&wiki.root)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".site."))
        .collect()
}

#[test]
fn a_failed_build_leaves_the_previous_site_as_it_was() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let before = wiki.site_files();
    wiki.edit(
        "data/gpus.yaml",
        "formula: watts / tok_s",
        "formula: watts + tok_s",
    );
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot add"), "{}", run.stderr);
    assert!(
        run.stderr.contains("site was left as it was"),
        "{}",
        run.stderr
    );
    assert_eq!(before, wiki.site_files());
    assert!(stray_folders(&wiki).is_empty());
}

/// A wiki large enough that a build takes a while: the kill lands mid-way.
fn large_wiki() -> Wiki {
    let wiki = Wiki::fixture("build/ripple");
    for i in 0..3000 {
        wiki.write(
            &format!("content/bulk/page-{i:04}.md"),
            &format!(
                "---\ntitle: Page {i}\n---\n## Section\n\n{}\n\n{{{{ table(gpus) }}}}\n",
                "Some prose about the electricity cost of inference. ".repeat(40)
            ),
        );
    }
    wiki
}

#[cfg(unix)]
#[test]
fn a_build_killed_at_any_moment_leaves_the_previous_site_or_the_complete_new_one() {
    let wiki = large_wiki();
    wiki.build();
    let before = wiki.site_files();
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    // The complete new site, built elsewhere: after a kill, site/ must be one of the two.
    let elsewhere = tempfile::tempdir().unwrap();
    let expected = elsewhere.path().join("site");
    let run = wiki.run(&["build", "--out", expected.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = crate::harness::files_under(&expected);
    assert_ne!(before, after);
    for delay_ms in [5, 20, 50, 100, 200, 400, 700, 1000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(["build", "--root"])
            .arg(&wiki.root)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait().unwrap();
        let now = wiki.site_files();
        assert!(
            now == before || now == after,
            "after a kill at {delay_ms} ms, site/ is neither the previous site nor the complete new one"
        );
        if now == after {
            // The kill came after the atomic swap: the new site was published whole.
            break;
        }
    }
    // The next build publishes and clears what killed builds left behind.
    wiki.build();
    assert!(
        stray_folders(&wiki).is_empty(),
        "left behind: {:?}",
        stray_folders(&wiki)
    );
    assert_ne!(before, wiki.site_files());
}
