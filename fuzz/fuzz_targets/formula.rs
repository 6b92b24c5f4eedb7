//! Any text as a formula: parsed, and when it parses, compiled against a small fixed wiki (in
//! the scope of a dataset's row, and without a row) and evaluated for every row.

#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::sync::LazyLock;

use driftless::formula::{compile, eval, parse, Ctx, V};
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
        // The formula stage evaluates a column with its aggregates computed up front: that must
        // never change a row's result.
        let hoisted = eval::hoist_aggregates(&c.ir, data);
        let mut matching = Some(Vec::new());
        for row in 0..data.datasets[ds].len() {
            let plain = eval::eval(&c.ir, Ctx::row(data, ds, row));
            let fast = eval::eval(&hoisted, Ctx::row(data, ds, row));
            match (&plain, &fast) {
                (Ok(a), Ok(b)) => assert_eq!(
                    format!("{a:?}"),
                    format!("{b:?}"),
                    "hoisting aggregates changed row {row} of {text:?}"
                ),
                (Err(_), Err(_)) => {}
                _ => panic!("hoisting aggregates changed row {row} of {text:?}: {plain:?} / {fast:?}"),
            }
            match plain {
                Ok(v) => {
                    if v == V::Bool(true) {
                        matching.as_mut().map(|m| m.push(row));
                    }
                    let _ = eval::v_to_cell(v);
                }
                Err(_) => matching = None,
            }
        }
        // A `where` filter `column == constant` is answered from an index: it must select the
        // rows a scan selects, and decline (so the scan reports it) where the scan fails on an
        // empty cell.
        if let Some((col, value)) = driftless::query::equality(&c.ir) {
            let indexed = MODEL.queries.rows_equal(data, ds, col, &value);
            match (indexed, matching) {
                (Some(i), Some(scan)) => {
                    assert_eq!(i, scan, "the column index disagrees with a scan for {text:?}")
                }
                (Some(_), None) => panic!("the index answers {text:?} where a scan fails"),
                _ => {}
            }
        }
    }
    if let Ok(c) = compile::compile(&expr, data, None) {
        let _ = eval::eval(&c.ir, Ctx::global(data));
        let _ = driftless::claims::explain(&c.ir, &MODEL);
    }
});
