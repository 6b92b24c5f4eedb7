//! Stage 8b: the search index. Pagefind indexes the `<main>` of every page marked
//! `data-pagefind-body` (articles, entity and dataset pages, the data catalog; never drafts, the
//! 404 page or the search page) and writes its index and browser-side search into `pagefind/`.
//! Pages are given to it in address order, so the index is the same bytes on every build.

use std::collections::BTreeMap;

/// The folder of the index in the site.
pub const DIR: &str = "pagefind";

/// Pagefind's files that the theme's search page uses (its own UI bundles are left out).
fn published(name: &str) -> bool {
    name == "pagefind.js"
        || name == "pagefind-worker.js"
        || name == "pagefind-entry.json"
        || name.starts_with("wasm.en")
        || name.ends_with(".pf_meta")
        || name.starts_with("index/")
        || name.starts_with("fragment/")
        || name.starts_with("filter/")
}

/// The files of the search index for a site's pages, as (path in the site, bytes).
pub fn index(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the search indexer: {e}"))?;
    runtime.block_on(async {
        let options = pagefind::options::PagefindServiceConfig::builder()
            .force_language("en".to_string())
            .build();
        let mut index = pagefind::api::PagefindIndex::new(Some(options))
            .map_err(|e| format!("cannot start the search indexer: {e}"))?;
        for (path, bytes) in files {
            let Some(dir) = path.strip_suffix("index.html") else {
                continue;
            };
            if path.starts_with(DIR) {
                continue;
            }
            let Ok(html) = std::str::from_utf8(bytes) else {
                continue;
            };
            if !html.contains("data-pagefind-body") {
                continue;
            }
            index
                .add_html_file(None, Some(format!("/{dir}")), html.to_string())
                .await
                .map_err(|e| format!("cannot index {path} for search: {e}"))?;
        }
        let mut out: Vec<(String, Vec<u8>)> = index
            .get_files()
            .await
            .map_err(|e| format!("cannot write the search index: {e}"))?
            .into_iter()
            .filter_map(|f| {
                let name = f.filename.to_string_lossy().replace('\\', "/");
                published(&name).then(|| (format!("{DIR}/{name}"), f.contents))
            })
            .collect();
        out.sort();
        Ok(out)
    })
}
