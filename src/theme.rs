//! The built-in theme: the layouts and assets of the repository's `templates/`, compiled into
//! the binary. A wiki needs no `templates/` folder; a file of its own there overrides the
//! built-in file of the same name, and only that one (`templates/article.html` replaces the
//! article layout and keeps the rest). `driftless init --theme` copies the files out.

/// The built-in layouts: name under `templates/`, text.
pub const LAYOUTS: &[(&str, &str)] = &[
    ("404.html", include_str!("../templates/404.html")),
    ("article.html", include_str!("../templates/article.html")),
    ("base.html", include_str!("../templates/base.html")),
    ("data.html", include_str!("../templates/data.html")),
    ("dataset.html", include_str!("../templates/dataset.html")),
    ("entity.html", include_str!("../templates/entity.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("search.html", include_str!("../templates/search.html")),
];

/// The built-in assets, published under `assets/`: name under `templates/assets/`, bytes.
pub const ASSETS: &[(&str, &[u8])] = &[
    ("search.js", include_bytes!("../templates/assets/search.js")),
    ("style.css", include_bytes!("../templates/assets/style.css")),
];

/// Where errors in a built-in layout are reported: a name that says the file is not in the wiki.
pub fn layout_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new("(built-in theme)/templates").join(name)
}

/// Every built-in file, as `templates/...` paths, with its bytes.
pub fn files() -> impl Iterator<Item = (String, &'static [u8])> {
    LAYOUTS
        .iter()
        .map(|(n, t)| (format!("templates/{n}"), t.as_bytes()))
        .chain(
            ASSETS
                .iter()
                .map(|(n, b)| (format!("templates/assets/{n}"), *b)),
        )
}

#[cfg(test)]
mod tests {
    /// Every file of the repository's `templates/` is compiled in: a new layout or asset that
    /// is not listed above fails here instead of missing from wikis without a `templates/`.
    #[test]
    fn every_file_of_templates_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let on_disk: Vec<String> = crate::fsutil::files_below(&dir)
            .into_iter()
            .map(|rel| format!("templates/{rel}"))
            .collect();
        let mut built_in: Vec<String> = super::files().map(|(n, _)| n).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
    }
}
