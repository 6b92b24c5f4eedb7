//! The integration tests: one binary, a module per area. Each test copies a fixture wiki from
//! tests/fixtures/ into a temporary folder and runs the real `driftless` binary on it.

mod harness;

mod browser;
mod build;
mod check;
mod cli;
mod errata;
mod escaping;
mod incremental;
mod init;
mod publish;
mod readme;
mod serve;
mod shipped;
mod wiki;
