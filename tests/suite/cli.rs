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

#[test]
fn an_absurd_thread_count_is_bounded_with_a_message() {
    let wiki = Wiki::fixture("build/ripple");
    let run = wiki.run(&["build", "--threads", "100000"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--threads 100000 is more than this machine can use; using "),
        "{}",
        run.stderr
    );
}

/// Runs driftless with one of its output streams going into a pipe whose reader is gone
/// (`driftless check | head -0`); returns the exit code and the other stream.
fn into_closed_pipe(wiki: &Wiki, args: &[&str], stream: &str) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftless"));
    cmd.args(args).arg("--root").arg(&wiki.root);
    if stream == "stderr" {
        cmd.stderr(writer).stdout(std::process::Stdio::piped());
    } else {
        cmd.stdout(writer).stderr(std::process::Stdio::piped());
    }
    let out = cmd.output().unwrap();
    let other = if stream == "stderr" {
        &out.stdout
    } else {
        &out.stderr
    };
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(other).to_string(),
    )
}

#[test]
fn a_closed_pipe_ends_the_output_quietly_with_the_runs_own_exit_code() {
    let wiki = Wiki::fixture("build/ripple");
    // Findings on standard output: check of a wiki with a stale lock.
    wiki.build();
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    let (code, text) = into_closed_pipe(&wiki, &["check"], "stdout");
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("panicked"), "{text}");
    // Messages on standard error: the build summary.
    let (code, text) = into_closed_pipe(&wiki, &["build"], "stderr");
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("panicked"), "{text}");
}
