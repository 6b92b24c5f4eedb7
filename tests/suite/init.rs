//! `driftless init`: a new wiki that builds with no other step, and never a file overwritten.

use crate::harness::{files_under, repo, text_of, Wiki};

#[test]
fn init_in_an_empty_folder_then_build_publishes_a_working_wiki() {
    let wiki = Wiki::empty();
    let init = wiki.run_in(&["init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(
        init.stderr.contains("created a wiki in . (8 files)"),
        "{}",
        init.stderr
    );
    // No templates/: the built-in theme is used.
    assert!(!wiki.path("templates").exists());
    assert!(wiki.read(".gitignore").contains("/site"));
    let build = wiki.run_in(&["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let page = words(&text_of(&wiki.main_of("payback/index.html")));
    // The inline figures, the table's derived cells, the chart and the comparison.
    assert!(
        page.contains("Grid electricity costs EUR 0.30/kWh here"),
        "{page}"
    );
    assert!(
        page.contains("saves EUR 195/year and pays for itself in 2.3 years"),
        "{page}"
    );
    assert!(
        page.contains("saves 7.4x more than the balcony kit"),
        "{page}"
    );
    let html = wiki.read("site/payback/index.html");
    assert!(
        html.contains(r#"title="= price / savings">4.5</td>"#),
        "{html}"
    );
    assert!(html.contains("<svg"), "{html}");
    assert!(wiki.path("site/assets/style.css").is_file());
    assert!(wiki.path("values.lock").is_file());
    let check = wiki.run_in(&["check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);

    // The parameter drives the article: an editor's first edit.
    wiki.edit("data/params.yaml", "value: 0.30", "value: 0.40");
    assert_eq!(wiki.run_in(&["build"]).code, 0);
    let page = words(&text_of(&wiki.main_of("payback/index.html")));
    assert!(
        page.contains("saves EUR 260/year and pays for itself in 1.7 years"),
        "{page}"
    );
}

#[test]
fn init_never_overwrites_a_file() {
    let wiki = Wiki::empty();
    wiki.write("README.md", "my notes\n");
    let init = wiki.run_in(&["init"]);
    assert_eq!(init.code, 2, "{}", init.stderr);
    assert!(
        init.stderr.contains("already has README.md") && init.stderr.contains("never overwrites"),
        "{}",
        init.stderr
    );
    // Nothing was written, not even the files that did not exist.
    assert_eq!(wiki.read("README.md"), "my notes\n");
    assert_eq!(files_under(&wiki.root).len(), 1);
}

#[test]
fn init_theme_copies_the_built_in_layouts_out_for_editing() {
    let wiki = Wiki::empty();
    assert_eq!(wiki.run_in(&["init", "."]).code, 0);
    let theme = wiki.run_in(&["init", "--theme"]);
    assert_eq!(theme.code, 0, "{}", theme.stderr);
    for file in [
        "article.html",
        "base.html",
        "data.html",
        "index.html",
        "assets/style.css",
    ] {
        assert_eq!(
            std::fs::read(wiki.path(&format!("templates/{file}"))).unwrap(),
            std::fs::read(repo().join("templates").join(file)).unwrap(),
            "{file}"
        );
    }
    // An edited copy overrides the built-in layout; a second --theme refuses.
    wiki.edit(
        "templates/article.html",
        "<div class=\"prose\">",
        "<div class=\"prose edited\">",
    );
    assert_eq!(wiki.run_in(&["build"]).code, 0);
    assert!(wiki
        .read("site/payback/index.html")
        .contains("prose edited"));
    let again = wiki.run_in(&["init", "--theme"]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("templates/article.html"),
        "{}",
        again.stderr
    );
}

#[test]
fn init_theme_outside_a_wiki_says_what_to_do() {
    let wiki = Wiki::empty();
    let run = wiki.run_in(&["init", "--theme"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not a wiki"), "{}", run.stderr);
    assert!(!wiki.path("templates").exists());
}

/// Text with every run of white space made one space, as a reader sees it.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
