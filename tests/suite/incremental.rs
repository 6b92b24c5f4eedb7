//! Rebuilds that render only what changed (`serve` keeps a cache between builds): after every
//! kind of edit the output is the same bytes as a clean build, and the articles that read
//! nothing that changed are not rendered again.

use std::collections::BTreeMap;

use driftless::pipeline::{run, run_cached, Cache};
use driftless::project::{discover, Locate};
use driftless::source::SourceMap;

use crate::harness::Wiki;

type Files = BTreeMap<String, Vec<u8>>;

/// The wiki as the build reads it.
fn project(wiki: &Wiki, sources: &SourceMap) -> driftless::project::Project {
    let locate = Locate {
        root: Some(wiki.root.clone()),
        out: None,
    };
    discover(&locate, sources).unwrap().unwrap()
}

/// A clean build's files, and a build with the cache's files and how many articles it rendered.
fn both(wiki: &Wiki, cache: &mut Cache) -> (Files, Files, usize) {
    let build = |cache: Option<&mut Cache>| {
        let sources = SourceMap::default();
        let project = project(wiki, &sources);
        match run_cached(&project, &sources, cache) {
            Ok(b) => (b.output.files, b.rerendered),
            Err(d) => panic!("the wiki does not build:\n{}", d.render()),
        }
    };
    let (clean, _) = build(None);
    let (cached, rendered) = build(Some(cache));
    // `run` is `run_cached` without a cache.
    let sources = SourceMap::default();
    assert_eq!(
        run(&project(wiki, &sources), &sources)
            .unwrap()
            .output
            .files,
        clean
    );
    (clean, cached, rendered)
}

#[track_caller]
fn rebuild(wiki: &Wiki, cache: &mut Cache, rendered: usize, what: &str) {
    let (clean, cached, n) = both(wiki, cache);
    let differ: Vec<&String> = clean
        .keys()
        .chain(cached.keys())
        .filter(|k| clean.get(*k) != cached.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "after {what}, the cached build differs in {differ:?}"
    );
    assert_eq!(n, rendered, "after {what}: articles rendered");
}

#[test]
fn a_rebuild_from_the_cache_is_a_clean_build_and_renders_only_the_articles_an_edit_changes() {
    let wiki = Wiki::empty();
    assert_eq!(wiki.run_in(&["init"]).code, 0);
    // Four articles (with the starter's two): one shows the balcony kit, one the rooftop kit's
    // payback, one the electricity price through a filter, one no data at all.
    wiki.write(
        "content/balcony.md",
        "---\ntitle: Balcony\n---\nIt makes {{ panels[\"balcony\"].yield }}.\n",
    );
    wiki.write(
        "content/rooftop.md",
        "---\ntitle: Rooftop\n---\nIt pays back in {{ panels[\"rooftop\"].payback }}; see [[Balcony]].\n",
    );
    wiki.write(
        "content/cheap.md",
        "---\ntitle: Cheap kits\n---\n{{ table(panels, columns=[\"name\"], where=\"price < 1000\") }}\n",
    );
    wiki.write(
        "content/plain.md",
        "---\ntitle: Plain\n---\nNo figures here.\n",
    );
    let mut cache = Cache::default();
    rebuild(&wiki, &mut cache, 6, "the first build");
    rebuild(&wiki, &mut cache, 0, "no edit");

    // The rooftop kit's yield: its payback and savings change, shown by the starter's article
    // (its table and chart show every kit) and by the rooftop page. The filter reads only price.
    wiki.edit(
        "data/panels.csv",
        "rooftop,Rooftop 5 kW,6500,4800",
        "rooftop,Rooftop 5 kW,6500,4700",
    );
    rebuild(&wiki, &mut cache, 2, "a yield edit");

    // The shed kit's price: the filter reads every price, so the cheap-kits table is rendered
    // again (and the starter's article, which shows it); the shed stays out of the table.
    wiki.edit(
        "data/panels.csv",
        "shed,Shed roof 2 kW,2400",
        "shed,Shed roof 2 kW,2300",
    );
    rebuild(&wiki, &mut cache, 2, "a price edit");
    // Into the table: the page changes.
    wiki.edit(
        "data/panels.csv",
        "shed,Shed roof 2 kW,2300",
        "shed,Shed roof 2 kW,900",
    );
    rebuild(
        &wiki,
        &mut cache,
        2,
        "a price edit that moves a row into a table",
    );

    // An article's text: that article only.
    wiki.edit(
        "content/plain.md",
        "No figures here.",
        "Still no figures here.",
    );
    rebuild(&wiki, &mut cache, 1, "a content edit");
    // Its title is in the list of pages every page may show: all of them.
    wiki.edit("content/plain.md", "title: Plain", "title: Plain words");
    rebuild(&wiki, &mut cache, 6, "a title edit");
    // A link to an article changes the linked page's backlinks, not its body: laid out again,
    // same output as a clean build (checked above).
    wiki.edit(
        "content/plain.md",
        "Still no figures",
        "See [[Rooftop]]; still no figures",
    );
    rebuild(&wiki, &mut cache, 1, "a new link");

    // A layout, the settings: every article.
    wiki.write(
        "templates/article.html",
        &std::fs::read_to_string(crate::harness::repo().join("templates/article.html"))
            .unwrap()
            .replace("<article", "<!-- mine -->\n<article"),
    );
    rebuild(&wiki, &mut cache, 6, "a layout edit");
    wiki.edit("driftless.yaml", "title: ", "title: Our ");
    rebuild(&wiki, &mut cache, 6, "a settings edit");

    // A broken edit fails and leaves the cache as it was; the fix renders what changed since.
    wiki.edit(
        "data/panels.csv",
        "balcony,Balcony 800 W,450,650",
        "balcony,Balcony 800 W,450,lots",
    );
    let sources = SourceMap::default();
    let project = project(&wiki, &sources);
    assert!(run_cached(&project, &sources, Some(&mut cache)).is_err());
    wiki.edit(
        "data/panels.csv",
        "balcony,Balcony 800 W,450,lots",
        "balcony,Balcony 800 W,450,640",
    );
    rebuild(&wiki, &mut cache, 2, "fixing a broken edit");
}
