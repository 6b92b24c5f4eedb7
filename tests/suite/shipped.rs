//! The shipped wiki ("Self-Hosting LLMs vs API"): it builds, every page the seed needs is there,
//! and an edit of the electricity rate, one GPU's speed, one API price or one model's ELO
//! changes exactly the pages that show a value depending on it, and no other page.

use std::collections::{BTreeMap, BTreeSet};

use driftless::model::{Model, ValueRef};
use driftless::project::{discover, Locate};
use driftless::source::SourceMap;

use crate::harness::{text_of, Wiki};

/// Every value of the model by name, as shown.
fn all_values(model: &Model) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for g in 0..model.data.globals.len() {
        let r = ValueRef::Global(g);
        let (f, v) = model.get(r);
        out.insert(model.name_of(r), model.display(f, v));
    }
    for (ds, d) in model.data.datasets.iter().enumerate() {
        for col in 0..d.columns.len() {
            for row in 0..d.len() {
                let r = ValueRef::Cell { ds, row, col };
                let (f, v) = model.get(r);
                out.insert(model.name_of(r), model.display(f, v));
            }
        }
    }
    out
}

struct Snapshot {
    pages: BTreeMap<String, Vec<u8>>,
    /// The names of the values each page shows.
    uses: BTreeMap<String, BTreeSet<String>>,
    values: BTreeMap<String, String>,
}

fn snapshot(wiki: &Wiki) -> Snapshot {
    let sources = SourceMap::default();
    let project = discover(
        &Locate {
            root: Some(wiki.root.clone()),
            out: None,
        },
        &sources,
    )
    .unwrap()
    .unwrap();
    let build = match driftless::pipeline::run(&project, &sources) {
        Ok(b) => b,
        Err(d) => panic!("the shipped wiki does not build:\n{}", d.render()),
    };
    let mut pages = BTreeMap::new();
    let mut uses = BTreeMap::new();
    for (a, p) in build.articles.iter().zip(&build.pages) {
        let path = if a.slug.is_empty() {
            "index.html".to_string()
        } else {
            format!("{}/index.html", a.slug)
        };
        pages.insert(path.clone(), build.output.files[&path].clone());
        uses.insert(
            path,
            p.values.iter().map(|r| build.model.name_of(*r)).collect(),
        );
    }
    Snapshot {
        pages,
        uses,
        values: all_values(&build.model),
    }
}

/// Applies an edit and checks that exactly the dependent pages changed.
fn assert_edit_ripples(file: &str, from: &str, to: &str, must_change: &[&str]) {
    let wiki = Wiki::shipped();
    let before = snapshot(&wiki);
    wiki.edit(file, from, to);
    let after = snapshot(&wiki);
    let changed: BTreeSet<&String> = before
        .values
        .iter()
        .filter(|(k, v)| after.values.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert!(!changed.is_empty(), "the edit changed no value");
    for name in must_change {
        assert!(
            changed.iter().any(|c| c.as_str() == *name),
            "{name} did not change; changed: {changed:?}"
        );
    }
    let mut changed_pages = 0;
    for (page, html) in &before.pages {
        let uses: BTreeSet<&String> = before.uses[page]
            .iter()
            .chain(after.uses[page].iter())
            .collect();
        let depends = uses.iter().any(|u| changed.contains(u));
        let differs = after.pages.get(page) != Some(html);
        assert_eq!(
            differs,
            depends,
            "{page}: page {} but it {} a changed value",
            if differs { "changed" } else { "did not change" },
            if depends { "shows" } else { "shows no" }
        );
        changed_pages += usize::from(differs);
    }
    assert!(changed_pages > 0, "no page changed");
}

#[test]
fn the_seed_article_the_rtx_pro_6000_page_and_the_errata_are_published() {
    let wiki = Wiki::shipped();
    wiki.build();
    let article = wiki.read("site/self-hosting-llms-vs-api/index.html");
    let tables = article.matches("<table").count();
    assert!(tables >= 34, "only {tables} tables in the article");
    assert!(wiki.path("site/nvidia-rtx-pro-6000/index.html").is_file());
    let errata = text_of(&wiki.read("site/errata/index.html"));
    assert!(
        errata.contains("Printed") && errata.contains("Recomputed"),
        "{errata}"
    );
}

#[test]
fn the_shipped_wiki_passes_check() {
    let wiki = Wiki::shipped();
    let run = wiki.run(&["check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn editing_the_electricity_rate_changes_exactly_the_dependent_pages() {
    assert_edit_ripples(
        "data/params.yaml",
        "value: 0.15",
        "value: 0.155",
        &["electricity_rate"],
    );
}

#[test]
fn editing_one_gpus_speed_changes_exactly_the_dependent_pages() {
    let wiki = Wiki::shipped();
    // The speed is stored once, in the gpus catalog; the consumer GPU table and the
    // electricity table refer to it.
    let line = wiki
        .read("data/gpus.yaml")
        .lines()
        .find(|l| l.contains("id: rtx-4090"))
        .map(str::to_string)
        .expect("an RTX 4090 row");
    let edited = line.replacen("llama8b_tok_s: 128", "llama8b_tok_s: 140", 1);
    assert_ne!(line, edited, "the RTX 4090 row has no speed 128: {line}");
    assert_edit_ripples(
        "data/gpus.yaml",
        &line,
        &edited,
        &[
            "consumer_gpu_specs/rtx-4090/tok_s",
            "gpu_power/rtx-4090/eur_per_mtok",
        ],
    );
}

#[test]
fn editing_one_api_price_changes_exactly_the_dependent_pages() {
    let wiki = Wiki::shipped();
    let text = wiki.read("data/api_prices.yaml");
    let line = text
        .lines()
        .find(|l| l.contains("mistral-nemo"))
        .map(str::to_string)
        .expect("a Mistral Nemo row");
    let edited = line.replacen("0.04,", "0.039,", 1);
    assert_ne!(line, edited, "{line}");
    assert_edit_ripples(
        "data/api_prices.yaml",
        &line,
        &edited,
        &["api_baseline_eur_per_mtok"],
    );
}

#[test]
fn editing_one_models_elo_changes_exactly_the_dependent_pages() {
    let wiki = Wiki::shipped();
    let text = wiki.read("data/llms.yaml");
    let start = text.find("id: gemma-4-31b").expect("a Gemma 4 31B row");
    let rest = &text[start..];
    let elo = rest
        .lines()
        .find(|l| l.trim_start().starts_with("arena_elo:"))
        .expect("its arena_elo");
    // Replace the whole block from the id to the ELO line so the edit hits this row only.
    let block = &rest[..rest.find(elo).unwrap() + elo.len()];
    let edited = block.replacen(elo, &elo.replacen("1450", "1449", 1), 1);
    assert_ne!(block, edited, "{elo}");
    assert_edit_ripples("data/llms.yaml", block, &edited, &[]);
}

#[test]
fn cheap_electricity_breaks_the_articles_claims_at_their_lines() {
    let wiki = Wiki::shipped();
    wiki.edit("data/params.yaml", "value: 0.15", "value: 0.01");
    let run = wiki.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("claim no longer holds"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("--> content/self-hosting-llms-vs-api.md:"),
        "{}",
        run.stderr
    );
}
