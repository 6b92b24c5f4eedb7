//! `Wiki`: a fixture wiki copied into a temporary folder, with helpers to run driftless on it and
//! read what it wrote. Every test works on its own copy, so tests can edit data freely.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (where the shipped wiki lives).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A wiki in a temporary folder.
pub struct Wiki {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Wiki {
    /// Copies `tests/fixtures/<name>` (built with the built-in theme unless it has templates/).
    pub fn fixture(name: &str) -> Wiki {
        let src = repo().join("tests/fixtures").join(name);
        assert!(src.is_dir(), "no fixture {}", src.display());
        Wiki::copy_of(&src)
    }

    /// Copies the shipped wiki (content/, data/, templates/, driftless.yaml, values.lock).
    pub fn shipped() -> Wiki {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("wiki");
        std::fs::create_dir_all(&root).unwrap();
        for part in ["content", "data", "templates"] {
            copy_dir(&repo().join(part), &root.join(part));
        }
        for file in ["driftless.yaml", "values.lock"] {
            if repo().join(file).exists() {
                std::fs::copy(repo().join(file), root.join(file)).unwrap();
            }
        }
        Wiki { _dir: dir, root }
    }

    /// An empty folder, for `init`.
    pub fn empty() -> Wiki {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("wiki");
        Wiki { _dir: dir, root }
    }

    /// Runs `driftless <args>` in the wiki's folder (for commands without `--root`).
    pub fn run_in(&self, args: &[&str]) -> Run {
        std::fs::create_dir_all(&self.root).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
        command.args(args).current_dir(&self.root);
        self.finish(command)
    }

    fn copy_of(src: &Path) -> Wiki {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("wiki");
        copy_dir(src, &root);
        Wiki { _dir: dir, root }
    }

    /// Runs `driftless <args> --root <wiki>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
        command.args(args).arg("--root").arg(&self.root);
        self.finish(command)
    }

    /// Runs `driftless <args> --root <wiki>` with environment variables set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
        command.args(args).arg("--root").arg(&self.root);
        command.envs(env.iter().copied());
        self.finish(command)
    }

    /// Runs the command and keeps what it printed, with the wiki's path shown as `<root>`.
    fn finish(&self, mut command: Command) -> Run {
        let out = command.output().expect("run driftless");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr)
                .replace(&self.root.display().to_string(), "<root>"),
        }
    }

    /// Builds and asserts success.
    pub fn build(&self) -> Run {
        let r = self.run(&["build"]);
        assert_eq!(r.code, 0, "build failed:\n{}", r.stderr);
        r
    }

    /// A file of the wiki.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads a file of the wiki (or of its site/).
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Writes a file of the wiki.
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Replaces text in a file, asserting it was there.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        // A layout the wiki does not have yet starts as the built-in theme's copy of it.
        if rel.starts_with("templates/") && !self.path(rel).exists() {
            let theme = std::fs::read_to_string(repo().join(rel)).expect("a built-in theme file");
            self.write(rel, &theme);
        }
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// The `<main>` region of a published page, the part snapshots compare.
    pub fn main_of(&self, page: &str) -> String {
        let html = self.read(&format!("site/{page}"));
        let start = html.find("<main").expect("a <main> element");
        let end = html.find("</main>").expect("a </main>") + "</main>".len();
        html[start..end].to_string()
    }

    /// Every published file and its bytes, by path.
    pub fn site_files(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        let site = self.path("site");
        let mut out = std::collections::BTreeMap::new();
        for e in walkdir::WalkDir::new(&site).sort_by_file_name() {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e
                    .path()
                    .strip_prefix(&site)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
        out
    }
}

/// Every file under a folder and its bytes, by relative path.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .to_string();
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// Copies a folder recursively.
pub fn copy_dir(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(src).unwrap();
        let target = dst.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The text content of HTML (tags dropped, entities for `&<>` decoded), to assert on figures.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}
