//! The wiki between pages: entity and dataset pages made from data, `[[wiki links]]` and red
//! links, "What links here".

use crate::harness::{text_of, Wiki};

/// A new wiki whose kits get pages, with wiki links in its article.
fn wiki_with_pages() -> Wiki {
    let wiki = Wiki::empty();
    assert_eq!(wiki.run_in(&["init"]).code, 0);
    wiki.edit(
        "data/panels.yaml",
        "label: name\n",
        "label: name\npages: true\n",
    );
    wiki.edit(
        "content/payback.md",
        "Grid electricity",
        "Compare [[Balcony 800 W]] with [[panels:rooftop|the big one]]; more in [[data:panels]] \
         and on [[Home solar|the home page]].\n\nGrid electricity",
    );
    wiki
}

/// Text as a reader sees it: one space between words, `/` decoded.
fn words(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn rows_get_pages_with_their_values_sources_and_the_articles_that_show_them() {
    let wiki = wiki_with_pages();
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 2 articles, 1 dataset page, 3 kit pages.
    assert!(run.stderr.contains("built 6 pages"), "{}", run.stderr);
    let page = words(&text_of(&wiki.main_of("panels/balcony/index.html")));
    assert!(page.contains("Balcony 800 W"), "{page}");
    assert!(
        page.contains("Saved per year EUR 195/year computed: yield * electricity_price"),
        "{page}"
    );
    assert!(
        page.contains("Source, unless a value says otherwise: Example figures; replace them with your own, as of 2026-12."),
        "{page}"
    );
    assert!(page.contains("Yearly yield 650 kWh/year input"), "{page}");
    // A derived value lists what it is computed from, one level down: each input's value and
    // source, linked to the line that explains it.
    assert!(
        page.contains("Payback 2.3 years computed: price / savings Price = EUR 450 (Example figures; replace them with your own, as of 2026-12) Saved per year = EUR 195/year (computed: yield * electricity_price)"),
        "{page}"
    );
    let html = wiki.read("site/panels/balcony/index.html");
    assert!(
        html.contains(r#"<a href="..&#x2f;..&#x2f;data&#x2f;#param-electricity_price">Electricity price</a> = <span class="num">EUR 0.30&#x2f;kWh</span>"#),
        "{html}"
    );
    assert!(
        page.contains("Articles that show its values What a solar kit saves"),
        "{page}"
    );
    assert!(
        page.contains("What links here What a solar kit saves"),
        "{page}"
    );
    // The rooftop kit is linked from the article too; the shed kit is only shown.
    assert!(!words(&text_of(&wiki.main_of("panels/shed/index.html"))).contains("What links here"));

    // The dataset's page: every row, the derived columns marked, links to the row pages.
    let html = wiki.read("site/data/panels/index.html");
    assert!(html.contains(r#"<tr id="row-balcony">"#), "{html}");
    assert!(
        html.contains(r#"<a href="..&#x2f;..&#x2f;panels&#x2f;balcony&#x2f;">balcony</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"class="derived" title="= price &#x2f; savings">Payback"#),
        "{html}"
    );
    assert_eq!(wiki.run_in(&["check"]).code, 0);
}

#[test]
fn wiki_links_reach_articles_rows_and_datasets_and_a_missing_one_is_a_red_link() {
    let wiki = wiki_with_pages();
    wiki.edit(
        "content/payback.md",
        "Grid electricity",
        "A [[Battery storage]] page would help.\n\nGrid electricity",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(
        run.code, 0,
        "a red link does not fail build: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warning: red link: no page is called `Battery storage`")
            && run.stderr.contains("content/payback.md:7:3"),
        "{}",
        run.stderr
    );
    let html = wiki.read("site/payback/index.html");
    assert!(
        html.contains(r#"<a href="../panels/balcony/">Balcony 800 W</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="../panels/rooftop/">the big one</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="../data/panels/">data:panels</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="../">the home page</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="red-link" title="No page is called Battery storage yet">Battery storage</span>"#),
        "{html}"
    );
    // check: an error, unless the wiki says red links are warnings.
    let check = wiki.run_in(&["check"]);
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(check.stdout.contains("error: red link"), "{}", check.stdout);
    wiki.write(
        "driftless.yaml",
        &(wiki.read("driftless.yaml") + "links:\n  red_links: warning\n"),
    );
    let check = wiki.run_in(&["check"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
    assert!(
        check.stdout.contains("warning: red link"),
        "{}",
        check.stdout
    );
}

#[test]
fn a_row_page_on_an_article_address_is_an_error_naming_both() {
    let wiki = wiki_with_pages();
    wiki.write(
        "content/panels/balcony.md",
        "---\ntitle: Balcony\n---\nMine.\n",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("the page of row `balcony` of `panels` would be published at `panels/balcony/`, which is already the address of content/panels/balcony.md")
            && run.stderr.contains("data/panels.yaml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_cell_edit_changes_its_row_page_the_dataset_page_and_the_articles_that_show_it_only() {
    let wiki = wiki_with_pages();
    assert_eq!(wiki.run_in(&["build"]).code, 0);
    let before = wiki.site_files();
    wiki.edit(
        "data/panels.csv",
        "balcony,Balcony 800 W,450,650",
        "balcony,Balcony 800 W,450,700",
    );
    assert_eq!(wiki.run_in(&["build"]).code, 0);
    let after = wiki.site_files();
    // The search index follows the pages' text; the pages themselves are what is compared.
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| !k.starts_with("pagefind/") && before.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        changed,
        [
            "data/panels.csv",
            "data/panels.json",
            "data/panels/index.html",
            "panels/balcony/index.html",
            "payback/index.html",
        ],
        "the rooftop and shed pages, the home page and the catalog stay as they were"
    );
}

#[test]
fn a_wiki_link_to_a_row_without_a_page_reaches_its_line_on_the_dataset_page() {
    let wiki = Wiki::empty();
    assert_eq!(wiki.run_in(&["init"]).code, 0);
    wiki.edit(
        "content/payback.md",
        "Grid electricity",
        "See [[panels:shed|the shed kit]].\n\nGrid electricity",
    );
    assert_eq!(wiki.run_in(&["build"]).code, 0);
    let html = wiki.read("site/payback/index.html");
    assert!(
        html.contains(r#"<a href="../data/panels/#row-shed">the shed kit</a>"#),
        "{html}"
    );
    assert!(wiki
        .read("site/data/panels/index.html")
        .contains(r#"<tr id="row-shed">"#));
    assert_eq!(wiki.run_in(&["check"]).code, 0);
}

#[test]
fn a_figure_in_prose_links_to_where_it_comes_from() {
    let wiki = wiki_with_pages();
    wiki.edit(
        "content/payback.md",
        "Grid electricity",
        "## Payback in {{ panels[\"shed\"].payback }}\n\n\
         [The shed kit, {{ panels[\"shed\"].price }}](payback.md) and `{{ panels[\"shed\"].name }}`.\n\n\
         Grid electricity",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = wiki.read("site/payback/index.html");
    // A derived value: its row's page, at its line, with its formula and its inputs' values.
    assert!(
        html.contains(r#"<a class="figure" href="../panels/balcony/#value-savings" title="Saved per year: = yield * electricity_price; from Yearly yield = 650 kWh/year, Electricity price = EUR 0.30/kWh">EUR 195/year</a>"#),
        "{html}"
    );
    // A parameter: the data catalog's line, with its source.
    assert!(
        html.contains(r#"<a class="figure" href="../data/#param-electricity_price" title="Electricity price: Your latest electricity bill">EUR 0.30/kWh</a>"#),
        "{html}"
    );
    // In a heading, in a link's text and in code a figure is text; the heading's id is words.
    assert!(
        html.contains(r#"<h2 id="payback-in-4-7-years">Payback in 4.7 years"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="../payback/">The shed kit, EUR 2,400</a>"#),
        "{html}"
    );
    assert!(html.contains("<code>Shed roof 2 kW</code>"), "{html}");
    // The anchors exist.
    assert!(wiki
        .read("site/panels/balcony/index.html")
        .contains(r#"<tr id="value-savings""#));
    assert!(wiki
        .read("site/data/index.html")
        .contains(r#"id="param-electricity_price""#));
    assert_eq!(wiki.run_in(&["check"]).code, 0);
}

#[test]
fn a_sitemap_lists_every_published_page_and_the_404_page_links_from_the_site_path() {
    let wiki = wiki_with_pages();
    wiki.write(
        "content/plans.md",
        "---\ntitle: Plans\ndraft: true\n---\nLater.\n",
    );
    assert_eq!(wiki.run_in(&["build"]).code, 0);
    // No base_url: no sitemap; the 404 page links from the server's root.
    assert!(!wiki.path("site/sitemap.xml").exists());
    assert!(wiki
        .read("site/404.html")
        .contains(r#"<a href="&#x2f;data/">data catalog</a>"#));

    wiki.write(
        "driftless.yaml",
        &(wiki.read("driftless.yaml") + "base_url: https://example.org/solar/\n"),
    );
    assert_eq!(wiki.run_in(&["build"]).code, 0);
    let sitemap = wiki.read("site/sitemap.xml");
    let locs: Vec<&str> = sitemap
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("<url><loc>")?
                .strip_suffix("</loc></url>")
        })
        .collect();
    assert_eq!(
        locs,
        [
            "https://example.org/solar/",
            "https://example.org/solar/data/",
            "https://example.org/solar/data/panels/",
            "https://example.org/solar/panels/balcony/",
            "https://example.org/solar/panels/rooftop/",
            "https://example.org/solar/panels/shed/",
            "https://example.org/solar/payback/",
        ],
        "drafts stay out"
    );
    assert!(wiki
        .read("site/404.html")
        .contains(r#"<a href="&#x2f;solar&#x2f;data/">data catalog</a>"#));
}
