//! The README's examples work as written: the quick start's commands, and the article example
//! in the shipped wiki.

use crate::harness::{repo, Wiki};

/// The first fenced block of `lang` after the heading `heading` that holds `needle`.
fn block_after(heading: &str, lang: &str, needle: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let from = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let mut rest = &readme[from..];
    let open = format!("```{lang}\n");
    loop {
        let start = rest.find(&open).expect("a fenced block") + open.len();
        let end = start + rest[start..].find("```").expect("a closed block");
        if rest[start..end].contains(needle) {
            return rest[start..end].to_string();
        }
        rest = &rest[end + 3..];
    }
}

#[test]
fn the_quick_start_commands_work_as_written() {
    let script = block_after("## Start a wiki", "sh", "driftless init");
    let commands: Vec<&str> = script
        .lines()
        .filter_map(|l| l.split('#').next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(commands.contains(&"driftless init my-wiki"), "{commands:?}");
    let wiki = Wiki::empty();
    std::fs::create_dir_all(&wiki.root).unwrap();
    let mut cwd = wiki.root.clone();
    let mut ran = 0;
    for command in commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["cd", dir] => cwd = cwd.join(dir),
            // `serve` runs until stopped: tests/suite/serve.rs drives it.
            ["driftless", "serve", ..] => {}
            ["driftless", args @ ..] => {
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftless"))
                    .args(args)
                    .current_dir(&cwd)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "`{command}`: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                ran += 1;
            }
            _ => panic!("a command the test does not know: {command}"),
        }
    }
    assert_eq!(ran, 2);
    assert!(cwd.join("site/payback/index.html").is_file());
}

#[test]
fn the_article_example_builds_in_the_shipped_wiki() {
    let example = block_after("## Writing an article", "markdown", "title:");
    let wiki = Wiki::shipped();
    wiki.write(
        "content/readme-example.md",
        &example.replace("order: 1", "order: 99"),
    );
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = wiki.read("site/readme-example/index.html");
    assert!(
        page.contains("cheaper") || page.contains("more expensive"),
        "{page}"
    );
    assert!(page.contains("<table"), "{page}");
}
