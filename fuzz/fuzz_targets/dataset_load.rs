//! A dataset's YAML schema and CSV rows, both from the fuzzer: loading, formula evaluation and
//! rendering every diagnostic must never panic.
//!
//! The input is split at its first 0xFF byte (which never occurs in UTF-8), or in half.

#![no_main]

use std::path::PathBuf;
use std::sync::Arc;

use driftless::source::SourceMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (yaml, csv) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => data.split_at(data.len() / 2),
    };
    let yaml = String::from_utf8_lossy(yaml);
    let csv = String::from_utf8_lossy(csv);
    let sources = SourceMap::default();
    let files = vec![
        (PathBuf::from("data/d.yaml"), Arc::from(yaml.as_ref())),
        (PathBuf::from("data/d.csv"), Arc::from(csv.as_ref())),
    ];
    match driftless::data::load_texts(files, &sources) {
        Ok(datasets) => match driftless::formula::evaluate(datasets, &sources) {
            Ok(model) => {
                // Everything a page can show of the loaded data.
                for v in model.derived_values() {
                    let (field, value) = model.get(v);
                    let _ = model.display(field, value);
                    let _ = model.name_of(v);
                }
                let _ = driftless::errata::find(&model, 2.0);
            }
            Err(diags) => {
                let _ = diags.render();
            }
        },
        Err(diags) => {
            let _ = diags.render();
        }
    }
});
