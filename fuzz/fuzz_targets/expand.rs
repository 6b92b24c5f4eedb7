//! Any text as the body of an article (after a fixed, valid front matter): expanded against a
//! small fixed wiki, then rendered to HTML. Template errors are fine; panics, hangs and running
//! out of memory are not.

#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use driftless::content::{Article, FrontMatter};
use driftless::errata::Erratum;
use driftless::markdown::LinkResolver;
use driftless::model::Model;
use driftless::source::SourceMap;
use libfuzzer_sys::fuzz_target;
use minijinja::Environment;

const FRONT: &str = "---\ntitle: Fuzzed article\n---\n";

struct Fixture {
    model: Arc<Model>,
    errata: Arc<Vec<Erratum>>,
    env: Environment<'static>,
    slugs_by_path: HashMap<String, String>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let model = common::model(&SourceMap::default());
    let errata = driftless::errata::find(&model, 2.0);
    let slugs_by_path = [
        ("index.md", ""),
        ("guide/fuzz.md", "guide/fuzz"),
        ("other.md", "other"),
    ]
    .into_iter()
    .map(|(p, s)| (p.to_string(), s.to_string()))
    .collect();
    Fixture {
        model: Arc::new(model),
        errata: Arc::new(errata),
        env: driftless::expand::article_environment(),
        slugs_by_path,
    }
});

fuzz_target!(|body: &str| {
    let fx = &*FIXTURE;
    // A fresh source map per input (so memory does not grow over the run), holding the data
    // files under the same ids as when the model was built, then the article.
    let sources = SourceMap::default();
    for (path, text) in common::files() {
        sources.add(&path, text);
    }
    let path = PathBuf::from("content/guide/fuzz.md");
    let text = format!("{FRONT}{body}");
    let file = sources.add(&path, Arc::from(text.as_str()));
    let blank = "\n".repeat(FRONT.matches('\n').count());
    let article = Article {
        slug: "guide/fuzz".into(),
        path,
        file,
        front: FrontMatter {
            title: "Fuzzed article".into(),
            ..FrontMatter::default()
        },
        body: Arc::from(format!("{blank}{body}")),
    };
    match driftless::expand::expand_article(&article, &fx.env, &fx.model, &fx.errata, &sources) {
        Ok(e) => {
            let dir = Path::new("guide").to_string_lossy().into_owned();
            for raw_html in [false, true] {
                let resolver = LinkResolver {
                    slugs_by_path: &fx.slugs_by_path,
                    drafts: &[],
                    static_files: &Default::default(),
                    wiki: &Default::default(),
                    figures: &e.recording.figures,
                    provenance: None,
                    dir: &dir,
                    slug: &article.slug,
                    raw_html,
                };
                let _ = driftless::markdown::render(&e.markdown, &e.recording.blocks, &resolver);
            }
        }
        Err(diags) => {
            let _ = diags.render();
        }
    }
});
