//! `check`: links, fragments, the values lock, claims and hand-typed figures, each failing with
//! the right file and line; external links against a server on loopback.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use crate::harness::Wiki;

fn built() -> Wiki {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    wiki
}

#[test]
fn a_clean_wiki_passes_and_check_never_touches_the_site() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let site = wiki.site_files();
    std::fs::remove_dir_all(wiki.path("site")).unwrap();
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("no problems"), "{}", run.stdout);
    assert!(!wiki.path("site").exists(), "check wrote site/");
    wiki.build();
    assert_eq!(site, wiki.site_files());
}

#[test]
fn a_broken_internal_link_is_reported_at_its_markdown_source() {
    let wiki = built();
    wiki.edit(
        "content/speed.md",
        "## Speed\n",
        "## Speed\n\nSee [the costs](costs.md).\n",
    );
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("broken link: `costs.md` is not an article of this wiki"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> content/speed.md:7:"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_fragment_is_reported_with_the_headings_that_exist() {
    let wiki = built();
    wiki.edit(
        "content/speed.md",
        "## Speed\n",
        "## Speed\n\nSee [the costs](power.md#electricty).\n",
    );
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("`#electricty` is not a heading of `power`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> content/speed.md:7:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("did you mean `electricity`?"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_stale_lock_file_lists_every_changed_figure_as_old_to_new() {
    let wiki = built();
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("values.lock is stale: 4 derived values differ"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "`gpus/rtx-4090/eur_per_mtok` changed: 0.1344401042 EUR/MTok -> 0.2688802083 EUR/MTok"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--> values.lock:"), "{}", run.stdout);
    // Building accepts the change; check passes again.
    wiki.build();
    assert_eq!(wiki.run(&["check"]).code, 0);
}

#[test]
fn a_claim_made_false_by_a_data_edit_names_the_article_line_and_the_values() {
    let wiki = built();
    wiki.edit(
        "data/gpus.csv",
        "rtx-4090,RTX 4090,24,413,128",
        "rtx-4090,RTX 4090,24,413,1500",
    );
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("claim no longer holds: every GPU costs more than the API"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> content/power.md:13:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("breaks it: `rtx-4090`: eur_per_mtok = EUR 0.011/MTok"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_literal_copy_of_a_derived_figure_is_reported_with_the_expression_to_use() {
    let wiki = built();
    wiki.edit(
        "content/speed.md",
        "## Speed\n",
        "## Speed\n\nThe RTX 4090 costs EUR 0.134 per million tokens.\n",
    );
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("`0.134` looks like a hand-typed copy of a derived value"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> content/speed.md:7:24"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("{{ best_gpu_cost }}")
            || run.stdout.contains("{{ gpus[\"rtx-4090\"].eur_per_mtok }}"),
        "{}",
        run.stdout
    );
}

#[test]
fn json_output_is_one_document_for_tools() {
    let wiki = built();
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    let run = wiki.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["pages"], 3);
    assert_eq!(report["findings"][0]["location"]["file"], "values.lock");
}

#[test]
fn a_broken_link_in_a_layout_is_found_in_the_generated_site() {
    let wiki = built();
    wiki.edit(
        "templates/base.html",
        "</footer>",
        "<a href=\"{{ root }}nowhere/\">x</a></footer>",
    );
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("broken link `nowhere"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--> site/index.html"), "{}", run.stdout);
}

/// A tiny HTTP server on loopback: `/ok` 200, `/gone` 404, `/moved` 301 to `/ok`, `/slow`
/// answers after the client's timeout. It serves until the test process ends.
fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, extra) = match path.as_str() {
                    "/ok" => ("200 OK", String::new()),
                    "/moved" => ("301 Moved Permanently", "Location: /ok\r\n".to_string()),
                    "/slow" => {
                        std::thread::sleep(Duration::from_secs(4));
                        ("200 OK", String::new())
                    }
                    _ => ("404 Not Found", String::new()),
                };
                let body = "<html><body>hello</body></html>";
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\n{extra}Content-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

#[test]
fn external_links_are_checked_against_a_loopback_server_with_a_cache() {
    let port = serve();
    let wiki = built();
    wiki.write(
        "driftless.yaml",
        "title: Ripple\nlinks:\n  timeout: 1\n  retries: 0\n  host_interval_ms: 0\n  host_concurrency: 4\n",
    );
    wiki.edit(
        "content/speed.md",
        "## Speed\n",
        &format!(
            "## Speed\n\n[ok](http://127.0.0.1:{port}/ok), [moved](http://127.0.0.1:{port}/moved),\n[gone](http://127.0.0.1:{port}/gone), [slow](http://127.0.0.1:{port}/slow).\n"
        ),
    );
    wiki.build();
    // Offline by default: the external links are not contacted.
    assert_eq!(wiki.run(&["check"]).code, 0);
    let run = wiki.run(&["check", "--external"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "error: broken link `http://127.0.0.1:{port}/gone`"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> content/speed.md:8:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "warning: broken link `http://127.0.0.1:{port}/slow`"
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("/ok`"), "{}", run.stdout);
    assert!(!run.stdout.contains("/moved`"), "{}", run.stdout);
    assert!(run.stdout.contains("5 external links"), "{}", run.stdout);
    let cache = wiki.read(".driftless-links.cache");
    assert!(
        cache.contains(&format!("http://127.0.0.1:{port}/ok")),
        "{cache}"
    );
    // Excluded hosts are not reported.
    wiki.write(
        "driftless.yaml",
        "title: Ripple\nlinks:\n  timeout: 1\n  retries: 0\n  exclude: ['/gone$', '/slow$']\n",
    );
    let run = wiki.run(&["check", "--external"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// After `build` rewrote values.lock, `check` still shows the reviewer what the data edit changed:
/// the ripple against the committed file.
#[test]
fn check_shows_the_ripple_since_the_last_commit_of_values_lock() {
    let wiki = built();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&wiki.root)
            .args([
                "-c",
                "user.name=Editor",
                "-c",
                "user.email=editor@example.org",
            ])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "wiki"]);
    let unchanged = wiki.run(&["check"]);
    assert_eq!(unchanged.code, 0, "{}", unchanged.stdout);
    assert!(
        !unchanged.stdout.contains("since the last commit"),
        "{}",
        unchanged.stdout
    );
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    wiki.build();
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "values.lock since the last commit: 4 derived values changed (figures 1, gpus 3)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "  gpus/rtx-4090/eur_per_mtok: 0.1344401042 EUR/MTok -> 0.2688802083 EUR/MTok"
        ),
        "{}",
        run.stdout
    );
}

const BENCHMARKS: &str = "title: Benchmarks
key: id
columns:
  id: { type: text }
  gpu: { type: \"ref:gpus\" }
  tok_s: { unit: tok/s, range: mid, title: Speed }
rows:
  - { id: a, gpu: rtx-4090, tok_s: 128 }
  - { id: b, gpu: rtx-3090, tok_s: 87-112 }
";

#[test]
fn a_measured_number_stored_in_two_datasets_is_a_possible_duplicated_fact() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.write("data/benchmarks.yaml", BENCHMARKS);
    wiki.build();
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "possible duplicated fact: benchmarks.tok_s and gpus.tok_s of `rtx-4090` are 128 tok/s and 128 tok/s"
        ),
        "{}",
        run.stdout
    );
    // Reported at the row, in the editor's file, with the way out.
    assert!(
        run.stdout.contains("--> data/gpus.csv:2:1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "keep the number in `gpus` and refer to it from `benchmarks` (`formula: gpu.tok_s`)"
        ),
        "{}",
        run.stdout
    );
    // Either end of a range is the same number.
    assert!(
        run.stdout.contains("of `rtx-3090` are 87-112 tok/s"),
        "{}",
        run.stdout
    );

    // Referring to the one stored number: the lint is satisfied and the range shows as written.
    wiki.write(
        "data/benchmarks.yaml",
        &BENCHMARKS
            .replace(
                "tok_s: { unit: tok/s, range: mid, title: Speed }",
                "tok_s: { unit: tok/s, range: mid, title: Speed, formula: gpu.tok_s }",
            )
            .replace(", tok_s: 128", "")
            .replace(", tok_s: 87-112", ""),
    );
    wiki.write(
        "content/bench.md",
        "---\ntitle: Bench\n---\n{{ table(benchmarks, columns=[\"id\", \"tok_s\"]) }}\n",
    );
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = wiki.main_of("bench/index.html");
    assert!(page.contains(">87-112</td>"), "{page}");
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    // Two facts that happen to agree say so.
    wiki.write(
        "data/benchmarks.yaml",
        &BENCHMARKS.replace(
            "title: Speed }",
            "title: Speed, not_a_copy: \"measured at a different clock\" }",
        ),
    );
    wiki.build();
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn inputs_older_than_stale_after_are_flagged_on_pages_and_by_check() {
    let wiki = Wiki::fixture("build/ripple");
    // The GPU data is as of 2026-04; judged at 2027-06 it is 14 months old.
    wiki.write(
        "driftless.yaml",
        "title: Ripple\nas_of: 2027-06\nstale_after: 12 months\n",
    );
    wiki.build();
    let page = wiki.main_of("speed/index.html");
    assert!(
        page.contains("Speed (tok/s) <span class=\"stale-mark\">(as of 2026-04)</span>"),
        "{page}"
    );
    assert!(
        page.contains(
            "Speed was last confirmed 2026-04, 14 months before 2027-06, more than the 12 allowed."
        ),
        "{page}"
    );
    // A figure in prose: marked, with the reason in its title and in words for screen readers.
    assert!(page.contains("<a class=\"figure stale\""), "{page}");
    assert!(
        page.contains("<span class=\"visually-hidden\"> (stale)</span>"),
        "{page}"
    );
    // Derived values are not inputs: never marked stale themselves.
    assert!(!page.contains("derived stale"), "{page}");
    let site = wiki.site_files();

    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("warning: stale input: `gpus.tok_s` was last confirmed 2026-04, 14 months before 2027-06, more than the 12 allowed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--> data/gpus.yaml:"), "{}", run.stdout);
    assert!(run.stdout.contains("no errors, "), "{}", run.stdout);
    let strict = wiki.run(&["check", "--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert!(
        strict.stdout.contains("error: stale input: `gpus.tok_s`"),
        "{}",
        strict.stdout
    );

    // A dataset allows more: nothing is stale, and no clock decides it.
    wiki.edit(
        "data/gpus.yaml",
        "as_of: 2026-04\n",
        "as_of: 2026-04\nstale_after: 2 years\n",
    );
    let run = wiki.run(&["check"]);
    assert!(!run.stdout.contains("stale input: `gpus"), "{}", run.stdout);

    // Without `as_of`, SOURCE_DATE_EPOCH states the date (2027-06-15); the pages are the same
    // bytes as when driftless.yaml said 2027-06.
    wiki.edit("data/gpus.yaml", "stale_after: 2 years\n", "");
    wiki.write("driftless.yaml", "title: Ripple\nstale_after: 12 months\n");
    let run = wiki.run_env(&["build"], &[("SOURCE_DATE_EPOCH", "1813017600")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(site, wiki.site_files());
}
