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
    // These tests are about publishing; indexing 3,000 pages for search would only slow them.
    wiki.write("driftless.yaml", "title: Large\nsearch: false\n");
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

/// The page as a freshly built site has it, built elsewhere from the same wiki.
fn fresh_copy(wiki: &Wiki, page: &str) -> String {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("site");
    let run = wiki.run(&["build", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::read_to_string(out.join(page)).unwrap()
}

#[test]
fn a_truncated_or_hand_edited_page_is_repaired_by_the_next_build() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let page = "power/index.html";
    let good = fresh_copy(&wiki, page);
    assert_eq!(wiki.read(&format!("site/{page}")), good);

    // Truncated to nothing.
    std::fs::write(wiki.path(&format!("site/{page}")), b"").unwrap();
    let run = wiki.build();
    assert!(run.stderr.contains("1 written"), "{}", run.stderr);
    assert_eq!(wiki.read(&format!("site/{page}")), good);

    // Edited by hand without changing its size.
    let path = wiki.path(&format!("site/{page}"));
    let edited = good.replacen("Power", "Pwned", 1);
    assert_eq!(edited.len(), good.len());
    std::fs::write(&path, &edited).unwrap();
    wiki.build();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
}

#[cfg(unix)]
#[test]
fn a_build_where_nothing_changed_leaves_the_site_untouched() {
    use std::os::unix::fs::MetadataExt;
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let inode = std::fs::metadata(wiki.path("site")).unwrap().ino();
    // Every input and every published file has the stamp the last build recorded: it stops
    // there, and says what that build said.
    let run = wiki.build();
    assert!(
        run.stderr.contains("nothing changed since the last build: <root>/site is up to date (4 pages, 1 dataset, 11 derived values, 0 errata)"),
        "{}",
        run.stderr
    );
    // An input saved again with the same text: built, and nothing written.
    let text = wiki.read("data/params.yaml");
    std::thread::sleep(std::time::Duration::from_millis(20));
    wiki.write("data/params.yaml", &text);
    let run = wiki.build();
    assert!(run.stderr.contains("no file changed"), "{}", run.stderr);
    assert_eq!(
        std::fs::metadata(wiki.path("site")).unwrap().ino(),
        inode,
        "site/ was swapped although nothing changed"
    );
    // Nor is anything else rewritten: the records of what was written and of what was read
    // live outside the site.
    let records = std::fs::read_dir(wiki.path(".driftless-cache"))
        .unwrap()
        .count();
    assert_eq!(records, 2);
    // A file someone added to site/ is not part of the site: the next build replaces it all.
    wiki.write("site/stray.html", "not ours");
    wiki.build();
    assert!(!wiki.path("site/stray.html").exists());
}

#[cfg(unix)]
#[test]
fn a_site_that_is_a_link_to_a_web_root_is_published_through_the_link() {
    let wiki = Wiki::fixture("build/ripple");
    let web = tempfile::tempdir().unwrap();
    let root = web.path().join("www");
    std::fs::create_dir(&root).unwrap();
    std::os::unix::fs::symlink(&root, wiki.path("site")).unwrap();
    wiki.build();
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    wiki.build();
    assert!(
        std::fs::symlink_metadata(wiki.path("site"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced by a folder"
    );
    assert!(root.join("index.html").is_file());
    assert_eq!(
        crate::harness::files_under(&root),
        wiki.site_files(),
        "the web root does not hold the site"
    );

    // A link to a web root holding someone else's files: refused, nothing deleted.
    let other = web.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("index.html"), "keep me").unwrap();
    std::fs::remove_file(wiki.path("site")).unwrap();
    std::os::unix::fs::symlink(&other, wiki.path("site")).unwrap();
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("refusing to replace"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(other.join("index.html")).unwrap(),
        "keep me"
    );
}

#[test]
fn two_builds_at_once_both_publish_a_complete_site() {
    let wiki = large_wiki();
    wiki.build();
    let expected = wiki.site_files();
    for round in 0..4 {
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_driftless"))
                .args(["build", "--root"])
                .arg(&wiki.root)
                .output()
                .unwrap()
        };
        // Touch the data so that both builds have to write.
        wiki.edit(
            "data/params.yaml",
            &format!("value: 0.{}", 15 + round),
            &format!("value: 0.{}", 16 + round),
        );
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(spawn);
            let b = s.spawn(spawn);
            (a.join().unwrap(), b.join().unwrap())
        });
        for out in [&a, &b] {
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let now = wiki.site_files();
        assert_eq!(
            now.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        assert!(
            stray_folders(&wiki).is_empty(),
            "{:?}",
            stray_folders(&wiki)
        );
        assert!(!wiki.path(".site.lock").exists());
    }
}

#[test]
fn values_lock_is_written_only_once_the_site_is_published() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let lock = wiki.read("values.lock");
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    // A publish that cannot happen: the output's parent is a file.
    wiki.write("blocked", "a file, not a folder");
    let run = wiki.run(&[
        "build",
        "--out",
        wiki.path("blocked/site").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        wiki.read("values.lock"),
        lock,
        "values.lock describes a site that was never published"
    );
    let run = wiki.build();
    assert_ne!(wiki.read("values.lock"), lock);
    assert!(
        run.stderr.contains("values.lock: ")
            && run.stderr.contains("derived values changed (")
            && run.stderr.contains("gpus 3"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn a_new_values_lock_has_the_usual_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let wiki = Wiki::fixture("build/ripple");
    let _ = std::fs::remove_file(wiki.path("values.lock"));
    wiki.build();
    let mode = std::fs::metadata(wiki.path("values.lock"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644);
}

/// A site whose folders were made read-only is replaced and its old copy removed: no
/// `.site.*` folder is left behind. (As root the permissions bind nothing; the test then shows
/// only that nothing is left behind.)
#[cfg(unix)]
#[test]
fn a_read_only_site_is_replaced_without_leaving_its_old_copy() {
    use std::os::unix::fs::PermissionsExt;
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    for entry in walkdir::WalkDir::new(wiki.path("site")).contents_first(true) {
        let entry = entry.unwrap();
        let mode = if entry.file_type().is_dir() {
            0o555
        } else {
            0o444
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        stray_folders(&wiki).is_empty(),
        "{:?}",
        stray_folders(&wiki)
    );
    assert!(!wiki.site_files().is_empty());
    assert!(run.stderr.contains("built"), "{}", run.stderr);
}
