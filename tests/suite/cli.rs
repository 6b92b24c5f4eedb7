//! The command line: help, exit codes for usage and I/O errors.

use std::process::Command;

use crate::harness::Wiki;

fn driftless(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_driftless"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn help_lists_the_commands_and_their_options() {
    let (code, out, _) = driftless(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("build") && out.contains("check"), "{out}");
    let (code, out, _) = driftless(&["build", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--root") && out.contains("--out") && out.contains("--threads"),
        "{out}"
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let (code, _, err) = driftless(&["build", "--no-such-flag"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = driftless(&["frobnicate"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_folder_that_is_not_a_wiki_exits_with_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = driftless(&["build", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("has no content/ folder: is this a driftless wiki?"),
        "{err}"
    );
    let (code, _, err) = driftless(&["build", "--root", "/no/such/folder"]);
    assert_eq!(code, 2);
    assert!(err.contains("/no/such/folder is not a folder"), "{err}");
}

#[test]
fn out_publishes_elsewhere_and_refuses_to_replace_foreign_folders() {
    let wiki = Wiki::fixture("build/ripple");
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("public");
    let run = wiki.run(&["build", "--out", target.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(target.join("power/index.html").is_file());
    assert!(!wiki.path("site").exists());
    // A folder with files driftless did not write is never replaced.
    let foreign = out.path().join("home");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("thesis.tex"), "precious").unwrap();
    let run = wiki.run(&["build", "--out", foreign.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("refusing to replace"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(foreign.join("thesis.tex")).unwrap(),
        "precious"
    );
}
