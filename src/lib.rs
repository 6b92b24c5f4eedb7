//! driftless: a static-site generator for data-driven wikis.
//!
//! The build is a pipeline of stages, each a function from immutable inputs to a new value
//! (see `pipeline.rs`):
//!
//! ```text
//! project discovery → data loading → formula evaluation → content loading
//!   → expansion (Jinja in Markdown) → Markdown rendering → layouts → site assembly
//!   → checks → atomic publish
//! ```
//!
//! Each stage collects every problem it finds as a [`diag::Diagnostic`] pointing at
//! `file:line:col`, and the build stops after the first stage that found errors.

pub mod chart;
pub mod check;
pub mod claims;
pub mod cli;
pub mod cmd;
pub mod content;
pub mod data;
pub mod deps;
pub mod diag;
pub mod entity;
pub mod errata;
pub mod expand;
pub mod format;
pub mod formula;
pub mod fsutil;
pub mod functions;
pub mod jinja;
pub mod layout;
pub mod markdown;
pub mod model;
pub mod pipeline;
pub mod project;
pub mod publish;
pub mod query;
pub mod search;
pub mod serve;
pub mod site;
pub mod source;
pub mod stale;
pub mod table;
pub mod term;
pub mod theme;
pub mod units;
pub mod wiki;
pub mod yaml;
