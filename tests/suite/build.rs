//! `build`: figures follow the data, in tables and prose, and nothing else moves.

use std::collections::BTreeSet;

use crate::harness::{text_of, Wiki};

fn lock_entries(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(" = ")
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn changed_keys(before: &str, after: &str) -> BTreeSet<String> {
    let a = lock_entries(before);
    let b = lock_entries(after);
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.0.clone())
        .collect()
}

#[test]
fn editing_a_parameter_changes_every_dependent_figure_and_nothing_else() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let before = wiki.site_files();
    let lock_before = wiki.read("values.lock");
    let power = text_of(&wiki.main_of("power/index.html"));
    assert!(power.contains("EUR 0.134/MTok per million"), "{power}");
    assert!(power.contains("3.6x more expensive"), "{power}");

    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.30");
    wiki.build();
    let after = wiki.site_files();

    // The figures that depend on the rate changed, in prose, wording and table.
    let power = text_of(&wiki.main_of("power/index.html"));
    assert!(
        power.contains("At EUR 0.30/kWh the RTX 4090 spends EUR 0.269/MTok"),
        "{power}"
    );
    assert!(power.contains("7.3x more expensive"), "{power}");
    assert!(power.contains("0.269"), "table cell: {power}");
    // The break-even rate does not depend on the rate itself.
    assert!(power.contains("EUR 0.041/kWh"), "{power}");

    // Exactly the dependent values changed in the lock file.
    let changed = changed_keys(&lock_before, &wiki.read("values.lock"));
    let expected: BTreeSet<String> = [
        "best_gpu_cost",
        "gpus/rtx-3090/eur_per_mtok",
        "gpus/rtx-4090/eur_per_mtok",
        "gpus/rx-7900-xtx/eur_per_mtok",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(changed, expected);

    // Pages that show no dependent value are byte-identical.
    for page in ["speed/index.html", "index.html"] {
        assert_eq!(
            before[page], after[page],
            "{page} changed although it shows no dependent value"
        );
    }
    assert_ne!(before["power/index.html"], after["power/index.html"]);
    assert_ne!(before["data/gpus.csv"], after["data/gpus.csv"]);
}

#[test]
fn editing_one_cell_changes_its_row_and_the_aggregates_over_it() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let lock_before = wiki.read("values.lock");
    let speed_before = wiki.read("site/speed/index.html");
    wiki.edit(
        "data/gpus.csv",
        "rtx-4090,RTX 4090,24,413,128",
        "rtx-4090,RTX 4090,24,413,256",
    );
    wiki.build();
    let changed = changed_keys(&lock_before, &wiki.read("values.lock"));
    let expected: BTreeSet<String> = [
        "best_gpu_cost",
        "break_even_rate",
        "gpus/rtx-4090/eur_per_mtok",
        "gpus/rtx-4090/kwh_per_mtok",
        "gpus/rtx-4090/tokens_per_gb",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(changed, expected);
    let power = text_of(&wiki.main_of("power/index.html"));
    assert!(power.contains("EUR 0.067/MTok"), "{power}");
    assert!(power.contains("1.8x more expensive"), "{power}");
    // The speed page shows the RTX 4090's speed in its table, so it changes too.
    assert_ne!(speed_before, wiki.read("site/speed/index.html"));
}

#[test]
fn wording_follows_the_numbers() {
    let wiki = Wiki::fixture("build/ripple");
    // Cheap enough electricity flips the comparison and breaks the claim.
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.02");
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("claim no longer holds: every GPU costs more than the API"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("content/power.md:13:"),
        "{}",
        run.stderr
    );
    // Without the claim, the page says "cheaper".
    wiki.edit("content/power.md", "{{ claim(", "{#! claim(");
    wiki.edit(
        "content/power.md",
        "than the API\") }}",
        "than the API\") !#}",
    );
    wiki.build();
    let power = text_of(&wiki.main_of("power/index.html"));
    assert!(power.contains("2.1x cheaper"), "{power}");
}

#[test]
fn the_power_page_renders_as_expected() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    insta::assert_snapshot!("ripple_power_main", wiki.main_of("power/index.html"));
}

#[test]
fn datasets_are_published_with_their_derived_columns() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let csv = wiki.read("site/data/gpus.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,name,vram,watts,tok_s,kwh_per_mtok,eur_per_mtok,tokens_per_gb")
    );
    assert_eq!(
        lines.next(),
        Some("rtx-4090,RTX 4090,24,413,128,0.8962673611,0.1344401042,5.333333333")
    );
    let json: serde_json::Value = serde_json::from_str(&wiki.read("site/data/gpus.json")).unwrap();
    assert_eq!(json["rows"][1]["tok_s"]["low"], 87.0);
    assert_eq!(json["rows"][1]["tok_s"]["used"], 99.5);
    assert_eq!(
        json["columns"][6]["formula"],
        "kwh_per_mtok * electricity_rate"
    );
    let catalog = text_of(&wiki.read("site/data/index.html"));
    assert!(
        catalog.contains("kwh_per_mtok * electricity_rate"),
        "{catalog}"
    );
}

#[test]
fn building_twice_gives_byte_identical_sites() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let first = wiki.site_files();
    wiki.build();
    assert_eq!(first, wiki.site_files());
}

#[test]
fn the_thread_count_does_not_change_the_output() {
    let wiki = Wiki::fixture("build/ripple");
    assert_eq!(wiki.run(&["build", "--threads", "1"]).code, 0);
    let one = wiki.site_files();
    assert_eq!(wiki.run(&["build", "--threads", "8"]).code, 0);
    assert_eq!(one, wiki.site_files());
}

#[test]
fn the_order_files_were_created_in_does_not_change_the_output() {
    let a = Wiki::fixture("build/ripple");
    a.build();
    // Recreate every file of a second copy in reverse order, so that directory listings differ.
    let b = Wiki::fixture("build/ripple");
    let mut files: Vec<_> = walkdir::WalkDir::new(&b.root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .collect();
    files.reverse();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        std::fs::remove_file(f).unwrap();
        std::fs::write(f, bytes).unwrap();
    }
    b.build();
    assert_eq!(a.site_files(), b.site_files());
}

#[test]
fn table_filters_select_the_matching_rows() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.build();
    let html = wiki.read("site/speed/index.html");
    let table = |caption: &str| {
        let start = html
            .find(&format!("<caption>{caption}</caption>"))
            .unwrap_or_else(|| panic!("no table {caption}"));
        let end = start + html[start..].find("</table>").unwrap();
        text_of(&html[start..end])
    };
    // An equality filter (answered from an index) and a compound one (a scan).
    let only = table("Only the RTX 3090");
    assert!(
        only.contains("RTX 3090") && !only.contains("RTX 4090") && !only.contains("RX 7900"),
        "{only}"
    );
    let fast = table("Fast 24 GB cards");
    assert!(
        fast.contains("RTX 4090") && !fast.contains("RTX 3090") && !fast.contains("RX 7900"),
        "{fast}"
    );
}

#[test]
fn drafts_are_left_out_of_build_and_a_link_to_one_fails_at_its_line() {
    let wiki = Wiki::empty();
    assert_eq!(wiki.run_in(&["init"]).code, 0);
    wiki.write(
        "content/plans.md",
        "---\ntitle: Plans\ndraft: true\n---\nA battery, one day.\n",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("built 3 pages"), "{}", run.stderr);
    assert!(!wiki.path("site/plans").exists());
    assert!(!wiki.read("site/index.html").contains("Plans"));

    // A published page that links to the draft: an error where the link is written.
    wiki.edit(
        "content/index.md",
        "or browse",
        "see the [plans](plans.md), or browse",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("`plans.md` is a draft (`draft: true`)")
            && run.stderr.contains("content/index.md:5:"),
        "{}",
        run.stderr
    );
    let check = wiki.run_in(&["check"]);
    assert_eq!(check.code, 1);
    assert!(check.stdout.contains("is a draft"), "{}", check.stdout);

    // Published once `draft: true` goes.
    wiki.edit("content/plans.md", "draft: true\n", "");
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(wiki
        .read("site/plans/index.html")
        .contains("A battery, one day."));
    assert!(!wiki.read("site/plans/index.html").contains("draft-note"));
}

#[test]
fn files_next_to_articles_are_published_with_them_and_links_to_them_are_checked() {
    let wiki = Wiki::empty();
    assert_eq!(wiki.run_in(&["init"]).code, 0);
    let png = b"\x89PNG\r\n\x1a\n fake image bytes";
    std::fs::create_dir_all(wiki.path("content/solar")).unwrap();
    std::fs::write(wiki.path("content/solar/panel.png"), png).unwrap();
    std::fs::write(wiki.path("content/specs.pdf"), b"%PDF-1.4 fake").unwrap();
    wiki.write(
        "content/solar/index.md",
        "---\ntitle: Solar\n---\n![A panel](panel.png) and the [specs](../specs.pdf).\n",
    );
    // content/payback.md is published at payback/, one folder below the file it links to.
    wiki.edit(
        "content/payback.md",
        "Grid electricity",
        "![The panel](solar/panel.png)\n\nGrid electricity",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read(wiki.path("site/solar/panel.png")).unwrap(),
        png
    );
    assert!(wiki.path("site/specs.pdf").is_file());
    let solar = wiki.read("site/solar/index.html");
    assert!(
        solar.contains(r#"<img src="../solar/panel.png" alt="A panel""#),
        "{solar}"
    );
    assert!(solar.contains(r#"<a href="../specs.pdf">"#), "{solar}");
    let payback = wiki.read("site/payback/index.html");
    assert!(
        payback.contains(r#"<img src="../solar/panel.png""#),
        "{payback}"
    );
    assert_eq!(wiki.run_in(&["check"]).code, 0);

    // A missing one fails the build where it is written.
    wiki.edit("content/solar/index.md", "panel.png", "panels.png");
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`panels.png` is not a file of this site")
            && run.stderr.contains("content/solar/index.md:4:"),
        "{}",
        run.stderr
    );
}

#[test]
fn templates_sort_and_compare_figures_by_their_numbers() {
    let wiki = Wiki::fixture("build/ripple");
    // Shown as text, 128 < 80 < 87-112 and 345 W < 351 W < 413 W; as numbers 80 < 87-112 < 128.
    wiki.write(
        "content/order.md",
        "---\ntitle: Order\n---\n\
         Fastest first: {% for g in gpus|sort(attribute=\"tok_s\", reverse=true) %}{{ g.name }}; {% endfor %}\n\n\
         Slowest: {{ gpus|map(attribute=\"tok_s\")|min }}. Fastest: {{ gpus|map(attribute=\"tok_s\")|max }}.\n\n\
         Least power: {{ gpus|map(attribute=\"watts\")|min }}.\n\n\
         {% if gpus[\"rtx-3090\"].tok_s > gpus[\"rx-7900-xtx\"].tok_s %}The 3090 is faster.{% else %}The 3090 is slower.{% endif %}\n\n\
         {% if gpus[\"rtx-4090\"].tok_s.value > 1000 %}Over a thousand.{% else %}Under a thousand.{% endif %}\n",
    );
    let run = wiki.build();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = text_of(&wiki.main_of("order/index.html"));
    assert!(
        text.contains("Fastest first: RTX 4090; RTX 3090; RX 7900 XTX;"),
        "{text}"
    );
    assert!(
        text.contains("Slowest: 80 tok/s. Fastest: 128 tok/s."),
        "{text}"
    );
    assert!(text.contains("Least power: 345 W."), "{text}");
    assert!(text.contains("The 3090 is faster."), "{text}");
    assert!(text.contains("Under a thousand."), "{text}");
}

#[test]
fn charts_draw_lines_points_grouped_bars_a_reference_and_log_scales() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.edit(
        "data/gpus.yaml",
        "  tokens_per_gb:\n",
        "  idle_watts:\n    title: Idle\n    unit: W\n    precision: 0\n    formula: watts / 4\n  tokens_per_gb:\n",
    );
    wiki.write(
        "content/charts.md",
        "---\ntitle: Charts\n---\n\
         {{ chart(gpus, kind=\"scatter\", x=\"watts\", y=\"tok_s\", title=\"Speed against power\", description=\"One point per card.\") }}\n\n\
         {{ chart(gpus, kind=\"line\", x=\"vram\", y=[\"tok_s\"], sort=\"tok_s\", title=\"A line\") }}\n\n\
         {{ chart(gpus, y=[\"watts\", \"idle_watts\"], title=\"Grouped\") }}\n\n\
         {{ chart(gpus, y=\"eur_per_mtok\", ref=api_price, log=true, title=\"Against the API\") }}\n",
    );
    let run = wiki.build();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = wiki.main_of("charts/index.html");
    let figures: Vec<&str> = html.split("<figure class=\"chart\">").skip(1).collect();
    assert_eq!(figures.len(), 4, "{html}");
    // A scatter plot: one point per row, its values in its title, its name beside it, and
    // the data again as a table.
    let scatter = figures[0];
    assert_eq!(scatter.matches("<circle").count(), 3, "{scatter}");
    assert!(
        scatter.contains("<title>RTX 3090: 345 W, 87-112 tok/s</title>"),
        "{scatter}"
    );
    assert!(
        scatter.contains("aria-label=\"Speed against power. One point per card.\""),
        "{scatter}"
    );
    assert!(scatter.contains("<summary>The data</summary>"), "{scatter}");
    assert!(
        scatter.contains("<tr><th scope=\"row\">RX 7900 XTX</th><td class=\"num\">351 W</td><td class=\"num\">80 tok/s</td></tr>"),
        "{scatter}"
    );
    // A line: one polyline through every row.
    assert_eq!(figures[1].matches("<polyline").count(), 1, "{}", figures[1]);
    // Grouped bars: two bars a row and a legend.
    assert_eq!(
        figures[2].matches("<rect class=\"bar").count(),
        6,
        "{}",
        figures[2]
    );
    assert!(figures[2].contains(">Idle</text>"), "{}", figures[2]);
    // A reference line at a figure, named by it, on a log scale with round ticks.
    let reference = figures[3];
    assert!(reference.contains("class=\"reference\""), "{reference}");
    assert!(
        reference.contains(">API price: EUR 0.037/MTok</text>"),
        "{reference}"
    );
    assert!(
        reference.contains(">0.01</text>") && reference.contains(">0.1</text>"),
        "{reference}"
    );
    // Charts show their values: a data edit changes them.
    wiki.edit(
        "data/gpus.csv",
        "rtx-3090,RTX 3090,24,345,87-112",
        "rtx-3090,RTX 3090,24,360,87-112",
    );
    wiki.build();
    let html = wiki.main_of("charts/index.html");
    assert!(
        html.contains("<title>RTX 3090: 360 W, 87-112 tok/s</title>"),
        "{html}"
    );
    let twice = wiki.site_files();
    wiki.build();
    assert_eq!(twice, wiki.site_files());
}

#[test]
fn the_search_index_covers_pages_but_not_drafts_and_is_the_same_bytes_on_every_build() {
    let wiki = Wiki::fixture("build/ripple");
    wiki.write(
        "content/notes.md",
        "---\ntitle: Notes\ndraft: true\n---\nWork in progress about zanzibarite.\n",
    );
    wiki.build();
    let files = wiki.site_files();
    assert!(
        files.contains_key("pagefind/pagefind.js"),
        "{:?}",
        files.keys()
    );
    assert!(files.contains_key("pagefind/wasm.en.pagefind"));
    assert!(files.contains_key("assets/search.js"));
    let entry = String::from_utf8(files["pagefind/pagefind-entry.json"].clone()).unwrap();
    // The home page, two articles, the data catalog and the dataset page; not the draft, the
    // search page or the 404 page.
    assert!(entry.contains("\"page_count\":5"), "{entry}");
    let marked = |page: &str| String::from_utf8_lossy(&files[page]).contains("data-pagefind-body");
    assert!(marked("speed/index.html") && marked("data/gpus/index.html"));
    assert!(!marked("404.html") && !marked("search/index.html"));
    assert!(!files.contains_key("notes/index.html"));
    // Every page has a search box that reaches the search page, without script.
    let home = String::from_utf8_lossy(&files["speed/index.html"]).to_string();
    assert!(
        home.contains("<form class=\"site-search\" role=\"search\" action=\"..&#x2f;search/\">"),
        "{home}"
    );
    // The same bytes with one thread or many.
    let run = wiki.run(&["build", "--threads", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(files, wiki.site_files());
    // `search: false` leaves it out.
    wiki.write("driftless.yaml", "title: Ripple\nsearch: false\n");
    wiki.build();
    let files = wiki.site_files();
    assert!(!files
        .keys()
        .any(|k| k.starts_with("pagefind/") || k.starts_with("search/")));
    assert!(!String::from_utf8_lossy(&files["speed/index.html"]).contains("site-search"));
}
