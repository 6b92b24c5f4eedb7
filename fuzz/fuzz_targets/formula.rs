//! Any text as a formula: parsed, and when it parses, compiled against a small fixed wiki (in
//! the scope of a dataset's row, and without a row) and evaluated for every row.

#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::sync::LazyLock;

use driftless::formula::{compile, eval, parse, Ctx};
use driftless::model::Model;
use driftless::source::SourceMap;
use libfuzzer_sys::fuzz_target;

static MODEL: LazyLock<Model> = LazyLock::new(|| common::model(&SourceMap::default()));

fuzz_target!(|text: &str| {
    let Ok(expr) = parse::parse(text) else {
        return;
    };
    let data = &MODEL.data;
    let ds = data.by_name["gpus"];
    if let Ok(c) = compile::compile(&expr, data, Some(ds)) {
        let _ = c.ty.describe(data);
        for row in 0..data.datasets[ds].len() {
            if let Ok(v) = eval::eval(&c.ir, Ctx::row(data, ds, row)) {
                let _ = eval::v_to_cell(v);
            }
        }
    }
    if let Ok(c) = compile::compile(&expr, data, None) {
        let _ = eval::eval(&c.ir, Ctx::global(data));
        let _ = driftless::claims::explain(&c.ir, &MODEL);
    }
});
