//! The floor of a build on this machine: what reading the sources and writing the site costs
//! with no work in between.
//!
//!     driftless-floor SOURCES MANIFEST OUT
//!
//! Reads every file under SOURCES (the wiki: content/, data/, templates/), then writes into OUT
//! every file MANIFEST lists (`path<TAB>size`, one per line, as a driftless build wrote them):
//! the same folders, the same number of files, the same sizes. Like the build it uses one
//! thread per core, writes a new folder (OUT must not exist) and renames nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, sources, manifest, out] = args.as_slice() else {
        eprintln!("usage: driftless-floor SOURCES MANIFEST OUT");
        std::process::exit(2);
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Read every source file once, in parallel.
    let mut files = Vec::new();
    walk(Path::new(sources), &mut files);
    let read: usize = std::thread::scope(|s| {
        let chunk = files.len().div_ceil(threads).max(1);
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|p| std::fs::read(p).map_or(0, |b| b.len()))
                        .sum::<usize>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });

    // Write the same files: folders first, then the files in parallel.
    let text = std::fs::read_to_string(manifest).expect("read the manifest");
    let entries: Vec<(PathBuf, usize)> = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, n)| (Path::new(out).join(p), n.parse().unwrap_or(0)))
        .collect();
    let mut dirs: Vec<&Path> = entries.iter().filter_map(|(p, _)| p.parent()).collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        std::fs::create_dir_all(d).expect("create a folder");
    }
    let biggest = entries.iter().map(|e| e.1).max().unwrap_or(0);
    let bytes = vec![b'x'; biggest];
    std::thread::scope(|s| {
        let chunk = entries.len().div_ceil(threads).max(1);
        for part in entries.chunks(chunk) {
            let bytes = &bytes;
            s.spawn(move || {
                for (path, size) in part {
                    let mut f = std::fs::File::create(path).expect("create a file");
                    f.write_all(&bytes[..*size]).expect("write a file");
                }
            });
        }
    });
    eprintln!("read {} files ({read} bytes), wrote {} files", files.len(), entries.len());
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}
