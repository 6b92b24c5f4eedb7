//! The corpus of broken wikis (tests/fixtures/broken/<case>/) and of unusual but valid ones
//! (tests/fixtures/unusual/<case>/).
//!
//! Each broken case is copied into a fresh temporary folder (built with the built-in theme
//! unless it has templates/ of its own) and built with the release binary. The build must fail with the expected exit code, without panicking, without
//! creating any output, naming `file:line:col` for every error, and its report (with the
//! temporary path replaced by `<root>`) must match the snapshot in tests/snapshots/.
//!
//! Each unusual case must build, and the published files must hold the texts its expect.txt
//! lists (`path in site: text`, one per line), and none of the texts it lists as
//! `path in site !: text`.
//!
//! Accept new or changed reports with `cargo insta accept` or `INSTA_UPDATE=always`, after
//! reading them: a report must say what is wrong and how to fix it, at the right place.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fewest broken cases the corpus may hold.
const MIN_BROKEN_CASES: usize = 45;

/// Cases whose exit code is not 1 (a problem in the wiki's content or data).
const EXIT_CODES: &[(&str, i32)] = &[
    // Not a wiki at all: a usage error.
    ("no-content-folder", 2),
];

/// Cases whose errors concern a whole file, so their `-->` line names the file without a line.
const WHOLE_FILE: &[&str] = &[
    "content-symlink-outside",
    "csv-empty",
    "csv-huge-line",
    "csv-without-schema",
    "data-file-empty",
];

/// Cases with several errors: every one must be reported, at these positions.
const ALL_REPORTED: &[(&str, &[&str])] = &[
    (
        "pages-settings-mistakes",
        &[
            "data/gpus.yaml:4:17",
            "data/gpus.yaml:4:25",
            "data/gpus.yaml:4:45",
        ],
    ),
    (
        "multiple-errors",
        &[
            "data/gpus.yaml:6:18",
            "data/gpus.yaml:9:20",
            "data/params.yaml:5:5",
            "data/prices.csv:3:6",
        ],
    ),
    (
        "heading-attributes-not-allowed",
        &["content/notes.md:4:10", "content/notes.md:8:10"],
    ),
    (
        "link-script-url-forms",
        &[
            "content/notes.md:4:14",
            "content/notes.md:6:3",
            "content/notes.md:8:14",
            "content/notes.md:10:15",
        ],
    ),
    (
        "address-reserved",
        &["content/data/gpus.csv.md:1:1", "content/notes.md:3:7"],
    ),
    (
        "formula-too-long-chain",
        &["data/gpus.yaml:6:3025", "data/gpus.yaml:7:1531"],
    ),
    (
        "template-argument-mistakes",
        &[
            "content/a-table.md:4:4",
            "content/b-span.md:4:18",
            "content/c-compare.md:4:10",
            "content/d-precision.md:4:36",
        ],
    ),
    (
        "link-missing-page",
        &[
            "content/notes.md:4:15",
            "content/notes.md:4:37",
            "content/notes.md:6:20",
        ],
    ),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The case folders of a corpus, sorted by name.
fn cases(corpus: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(fixtures().join(corpus))
        .unwrap_or_else(|e| panic!("cannot list tests/fixtures/{corpus}: {e}"))
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

/// The one-line README.md every case carries.
fn readme(case: &str, dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("README.md"))
        .unwrap_or_else(|e| panic!("{case}: cannot read README.md: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() == 1 && !lines[0].trim().is_empty(),
        "{case}: README.md must be one line saying what the case shows"
    );
    lines[0].trim().to_string()
}

/// Copies a folder byte for byte (the fixtures hold files that are not UTF-8 on purpose).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The page with each `<a class="figure" ...>figure</a>` replaced by the figure.
fn unwrap_figure_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<a class=\"figure\"") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let open_end = after.find('>').expect("a closed tag") + 1;
        let inner = &after[open_end..];
        let close = inner.find("</a>").expect("a closed link");
        out.push_str(&inner[..close]);
        rest = &inner[close + 4..];
    }
    out.push_str(rest);
    out
}

/// A case copied into a temporary folder, ready to build.
struct Wiki {
    dir: tempfile::TempDir,
    /// Temporary folders the case refers to from outside the wiki (kept alive with it).
    _outside: Vec<tempfile::TempDir>,
}

impl Wiki {
    fn root(&self) -> &Path {
        self.dir.path()
    }
}

fn prepare(case: &str, src: &Path) -> Wiki {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_dir(src, root);
    let mut outside = Vec::new();
    match case {
        // Lines of many megabytes are too big to commit: they are written into the copy.
        // 70 MB is over the size limit of an input file; 20 MB is read, and the row is wrong.
        "csv-huge-line" => append(
            &root.join("data/gpus.csv"),
            &format!("a,{}\n", "x".repeat(70_000_000)),
        ),
        "csv-long-line" => append(
            &root.join("data/gpus.csv"),
            &format!("a,{},extra\n", "x".repeat(20_000_000)),
        ),
        // A symbolic link from content/ to an article outside the wiki.
        "content-symlink-outside" => {
            let elsewhere = tempfile::tempdir().unwrap();
            let secret = elsewhere.path().join("secret.md");
            std::fs::write(&secret, "---\ntitle: Secret\n---\nNot part of the wiki.\n").unwrap();
            symlink(&secret, &root.join("content/leak.md"));
            outside.push(elsewhere);
        }
        _ => {}
    }
    Wiki {
        dir,
        _outside: outside,
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) {
    std::os::windows::fs::symlink_file(target, link).unwrap();
}

/// Runs `driftless build` on a wiki: (exit code, stderr).
fn build(root: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_driftless"))
        .arg("build")
        .arg("--root")
        .arg(root)
        .arg("--out")
        .arg(root.join("site"))
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the driftless binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report with the temporary folder shown as `<root>`.
fn normalize(stderr: &str, root: &Path) -> String {
    let mut text = stderr.replace("\r\n", "\n");
    let mut forms = vec![root.to_path_buf()];
    if let Ok(c) = root.canonicalize() {
        forms.push(c);
    }
    forms.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    for p in forms {
        text = text.replace(&p.to_string_lossy().into_owned(), "<root>");
    }
    text
}

fn entries(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every `error:` is followed by a `-->` line naming `file:line:col` (or only the file, for the
/// cases about a whole file); returns the locations.
fn check_locations(case: &str, report: &str, exit: i32) -> Vec<String> {
    let lines: Vec<&str> = report.lines().collect();
    let mut locations = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with("error:") {
            continue;
        }
        let next = lines.get(i + 1).map(|l| l.trim_start()).unwrap_or("");
        let Some(loc) = next.strip_prefix("--> ") else {
            assert!(
                exit == 2,
                "{case}: `{line}` is not followed by a `--> file:line:col` line"
            );
            continue;
        };
        let parts: Vec<&str> = loc.rsplitn(3, ':').collect();
        let has_line = parts.len() == 3
            && parts[0].parse::<u32>().is_ok_and(|c| c > 0)
            && parts[1].parse::<u32>().is_ok_and(|l| l > 0);
        assert!(
            has_line || WHOLE_FILE.contains(&case),
            "{case}: `{line}` names no line and column: `{next}`"
        );
        locations.push(loc.to_string());
    }
    locations
}

fn check_broken(case: &str, dir: &Path) {
    let description = readme(case, dir);
    let wiki = prepare(case, dir);
    let root = wiki.root();
    let before = entries(root);
    let (code, stderr) = build(root);
    let report = normalize(&stderr, root);
    let expected = EXIT_CODES
        .iter()
        .find(|(c, _)| *c == case)
        .map_or(1, |(_, code)| *code);

    assert!(
        !report.contains("panicked"),
        "{case}: the build panicked:\n{report}"
    );
    assert_eq!(
        code,
        Some(expected),
        "{case}: expected exit code {expected}:\n{report}"
    );
    assert!(
        !root.join("site").exists(),
        "{case}: a failed build created site/"
    );
    assert_eq!(
        entries(root),
        before,
        "{case}: a failed build left files in the wiki's folder"
    );
    assert!(
        report.starts_with("error: "),
        "{case}: the report does not start with an error:\n{report}"
    );
    let locations = check_locations(case, &report, expected);
    if expected == 1 {
        let errors = report.lines().filter(|l| l.starts_with("error:")).count();
        let summary = format!("{errors} error{}", if errors == 1 { "" } else { "s" });
        assert!(
            report.lines().any(|l| l == summary),
            "{case}: no summary line `{summary}`:\n{report}"
        );
    }
    if let Some((_, wanted)) = ALL_REPORTED.iter().find(|(c, _)| *c == case) {
        for w in *wanted {
            assert!(
                locations.iter().any(|l| l == w),
                "{case}: no error reported at {w}:\n{report}"
            );
        }
        assert_eq!(
            locations.len(),
            wanted.len(),
            "{case}: expected exactly {} errors:\n{report}",
            wanted.len()
        );
    }

    let mut settings = insta::Settings::clone_current();
    settings.set_description(description);
    settings.set_omit_expression(true);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(case, report));
}

/// Runs `check` on every case and fails at the end with the list of failing cases, so that one
/// run shows every problem.
fn run_all(corpus: &str, check: fn(&str, &Path)) -> usize {
    let all = cases(corpus);
    let mut failed = Vec::new();
    for (case, dir) in &all {
        if catch_unwind(AssertUnwindSafe(|| check(case, dir))).is_err() {
            failed.push(case.clone());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} {corpus} cases failed: {}",
        failed.len(),
        all.len(),
        failed.join(", ")
    );
    all.len()
}

#[test]
fn broken_wikis_fail_with_clear_reports() {
    let n = run_all("broken", check_broken);
    assert!(
        n >= MIN_BROKEN_CASES,
        "the corpus holds {n} broken cases, fewer than {MIN_BROKEN_CASES}"
    );
}

fn check_unusual(case: &str, dir: &Path) {
    readme(case, dir);
    let wiki = prepare(case, dir);
    let root = wiki.root();
    let (code, stderr) = build(root);
    let report = normalize(&stderr, root);
    assert_eq!(code, Some(0), "{case}: the build failed:\n{report}");
    assert!(
        !report.contains("error") && !report.contains("warning"),
        "{case}: the build reported problems:\n{report}"
    );
    let site = root.join("site");
    assert!(
        site.join("index.html").is_file(),
        "{case}: no site/index.html"
    );
    let expect = std::fs::read_to_string(dir.join("expect.txt")).unwrap_or_default();
    for line in expect.lines().filter(|l| !l.trim().is_empty()) {
        let (path, text) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{case}: expect.txt: `{line}` is not `path: text`"));
        let (path, absent) = match path.strip_suffix(" !") {
            Some(p) => (p, true),
            None => (path, false),
        };
        let published = std::fs::read_to_string(site.join(path))
            .unwrap_or_else(|e| panic!("{case}: cannot read site/{path}: {e}"));
        // Figures in prose are links to where they come from; expect.txt reads them as text.
        let published = unwrap_figure_links(&published);
        if absent {
            assert!(
                !published.contains(text),
                "{case}: site/{path} contains `{text}`:\n{published}"
            );
            continue;
        }
        assert!(
            published.contains(text),
            "{case}: site/{path} does not contain `{text}`:\n{published}"
        );
        assert!(
            !published.contains('\u{feff}') && !published.contains('\r'),
            "{case}: site/{path} holds a byte-order mark or a carriage return"
        );
    }
}

#[test]
fn unusual_wikis_build() {
    let n = run_all("unusual", check_unusual);
    assert!(n >= 5, "the corpus holds {n} unusual cases, fewer than 5");
}
