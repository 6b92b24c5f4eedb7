//! The small fixed wiki the `formula` and `expand` targets run against: two datasets (one with a
//! `ref:` column, ranges, empty cells, a derived column and a printed column) and a file of
//! parameters and figures. Loaded and evaluated once per fuzzing process.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use driftless::model::Model;
use driftless::source::SourceMap;

pub const GPUS_YAML: &str = r#"title: GPUs
description: Graphics cards for the fuzzer.
source: Spec sheets
source_url: https://example.org/specs
as_of: 2026-04
key: id
label: name
columns:
  id: { type: text }
  name: { type: text, title: GPU }
  vendor: { type: "ref:vendors" }
  vram: { unit: GB, precision: 0 }
  bandwidth: { unit: GB/s, title: Bandwidth }
  watts: { unit: W }
  price_usd: { unit: USD, style: currency, precision: 0, range: mid }
  cores: { type: integer }
  used: { type: bool }
  released: { type: date }
  efficiency: { unit: "", style: ratio, precision: 1 }
  printed_cost: { unit: USD/h, basis: printed }
  cost_per_hour:
    unit: USD/h
    formula: price_usd / 1000[h]
    printed: printed_cost
  share: { style: percent, formula: "vram / max(gpus.vram)" }
rows:
  - { id: rtx-4090, name: RTX 4090, vendor: nvidia, vram: 24, bandwidth: 1008, watts: 450, price_usd: 1600-2200, cores: 16384, used: false, released: 2022-10, efficiency: 2.5, printed_cost: 1.9 }
  - { id: rtx-3090, name: "RTX <3090> *used*", vendor: nvidia, vram: 24, bandwidth: 936, watts: 350, price_usd: 800-900, cores: 10496, used: true, released: 2020-09-24, _source: "eBay, used" }
  - { id: mi300x, name: MI300X, vendor: amd, vram: 192, bandwidth: 5300, watts: 750, price_usd: 15000, cores: 19456, used: false, efficiency: 0.5, printed_cost: 15, _note: "no price range" }
  - { id: empty, name: Empty, vendor: amd, vram: 8, price_usd: 1 }
"#;

pub const VENDORS_YAML: &str = r#"title: Vendors
key: id
label: name
columns:
  id: { type: text }
  name: { type: text }
  founded: { type: integer, title: Founded }
"#;

pub const VENDORS_CSV: &str = "id,name,founded\nnvidia,NVIDIA,1993\namd,\"AMD, Inc.\",1969\n";

pub const PARAMS_YAML: &str = r#"params:
  rate:
    title: Electricity rate
    value: 0.15
    unit: EUR/kWh
    precision: 2
  usd_to_eur: { value: 0.92, unit: EUR/USD, precision: 2 }
  hours_per_month: { value: 720, unit: h, precision: 0 }
  label_text: { type: text, value: "a <b>label</b> & *stars*" }
  enabled: { type: bool, value: true }
  spread: { value: 4-5, range: low }
figures:
  monthly_kwh:
    unit: kWh
    formula: 450[W] * hours_per_month
    printed: 330
  monthly_cost: { unit: EUR, formula: monthly_kwh * rate, precision: 2 }
  total_vram: { unit: GB, formula: sum(gpus.vram) }
"#;

/// The data files, as (path, text), in the order they are added to a [`SourceMap`].
pub fn files() -> Vec<(PathBuf, Arc<str>)> {
    vec![
        (PathBuf::from("data/gpus.yaml"), Arc::from(GPUS_YAML)),
        (PathBuf::from("data/vendors.yaml"), Arc::from(VENDORS_YAML)),
        (PathBuf::from("data/vendors.csv"), Arc::from(VENDORS_CSV)),
        (PathBuf::from("data/params.yaml"), Arc::from(PARAMS_YAML)),
    ]
}

/// Loads and evaluates the fixed wiki; panics if the fixture itself is invalid.
pub fn model(sources: &SourceMap) -> Model {
    let data = match driftless::data::load_texts(files(), sources) {
        Ok(d) => d,
        Err(e) => panic!("the fuzz fixture does not load:\n{}", e.render()),
    };
    match driftless::formula::evaluate(data, sources) {
        Ok(m) => m,
        Err(e) => panic!("the fuzz fixture does not evaluate:\n{}", e.render()),
    }
}
