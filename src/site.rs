//! Stage 8: site assembly. Every published file (pages, the data catalog, each dataset as CSV
//! and JSON, the theme's assets) as a sorted map from its path in the site to its bytes. Nothing
//! here touches the disk: `check` inspects this map and `publish` writes it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rayon::prelude::*;
use serde_json::json;

use crate::data::{Dataset, Value};
use crate::format::format_plain;
use crate::model::Model;

/// The published site, in memory: path (with `/`) to content.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SiteOutput {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A cell as plain text for CSV and the lock file: numbers in the column's unit, no grouping.
pub fn plain_value(model: &Model, dataset: &Dataset, col: usize, value: &Value) -> String {
    let field = &dataset.columns[col].field;
    match value {
        Value::Missing => String::new(),
        Value::Num(n) => format_plain(n / field.unit.factor),
        Value::Range { lo, hi, .. } => format!(
            "{}-{}",
            format_plain(lo / field.unit.factor),
            format_plain(hi / field.unit.factor)
        ),
        Value::Text(t) | Value::Date(t) => t.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Ref(r) => match &field.ty {
            crate::data::ColType::Ref(target) => model
                .data
                .dataset(target)
                .map_or_else(String::new, |d| d.row_keys[*r as usize].clone()),
            _ => r.to_string(),
        },
    }
}

/// A dataset with its derived columns as CSV.
pub fn dataset_csv(model: &Model, d: &Dataset) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(d.columns.iter().map(|c| c.field.name.as_str()));
    let _ = w.flush();
    let mut out = w.into_inner().unwrap_or_default();
    // Rows are formatted in parallel chunks, then joined in order.
    let chunks: Vec<Vec<u8>> = (0..d.len())
        .collect::<Vec<_>>()
        .par_chunks(4096)
        .map(|rows| {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            for &row in rows {
                let _ = w.write_record(
                    d.columns
                        .iter()
                        .enumerate()
                        .map(|(ci, c)| plain_value(model, d, ci, &c.cells[row])),
                );
            }
            w.into_inner().unwrap_or_default()
        })
        .collect();
    for c in chunks {
        out.extend_from_slice(&c);
    }
    out
}

/// A dataset with its schema, sources and derived columns as JSON.
pub fn dataset_json(model: &Model, d: &Dataset) -> Vec<u8> {
    let columns: Vec<serde_json::Value> = d
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.field.name,
                "title": c.field.title,
                "type": c.field.ty.name(),
                "unit": c.field.unit.symbol,
                "description": c.field.description,
                "formula": c.field.formula.as_ref().map(|f| f.text.trim().to_string()),
                "basis": if c.field.basis_printed { Some("printed") } else { None },
            })
        })
        .collect();
    let rows: Vec<serde_json::Value> = (0..d.len())
        .into_par_iter()
        .map(|row| {
            let mut m = serde_json::Map::new();
            for (ci, c) in d.columns.iter().enumerate() {
                let f = c.field.unit.factor;
                let v = match &c.cells[row] {
                    Value::Missing => serde_json::Value::Null,
                    Value::Num(n) => json_number(n / f),
                    Value::Range { lo, hi, rep } => json!({"low": json_number(lo / f), "high": json_number(hi / f), "used": json_number(rep / f)}),
                    Value::Bool(b) => json!(b),
                    other => json!(plain_value(model, d, ci, other)),
                };
                m.insert(c.field.name.clone(), v);
            }
            serde_json::Value::Object(m)
        })
        .collect();
    let doc = json!({
        "name": d.name,
        "title": d.meta.title,
        "description": d.meta.description,
        "source": d.meta.source,
        "source_url": d.meta.source_url,
        "as_of": d.meta.as_of,
        "key": d.columns[d.key].field.name,
        "columns": columns,
        "rows": rows,
    });
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A number for JSON, rounded like the lock file so that exports are stable across platforms.
fn json_number(n: f64) -> serde_json::Value {
    format_plain(n)
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The lock file: every derived value, one per line, sorted.
pub fn lock_file(model: &Model) -> String {
    let mut out = String::from(
        "# values.lock: every value driftless derives from data/, recomputed by each build.\n\
         # `driftless check` fails when this file disagrees with a fresh computation.\n\
         # Commit it: its diff shows the ripple of every data edit.\n",
    );
    for r in model.derived_values() {
        let (field, value) = model.get(r);
        let shown = match value {
            Value::Num(n) => {
                let v = format_plain(n / field.unit.factor);
                if field.unit.symbol.is_empty() {
                    v
                } else {
                    format!("{v} {}", field.unit.symbol)
                }
            }
            Value::Text(t) => serde_json::to_string(&t.to_string()).unwrap_or_default(),
            other => model.display(field, other),
        };
        let _ = writeln!(out, "{} = {shown}", model.name_of(r));
    }
    out
}
