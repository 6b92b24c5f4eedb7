//! The command line: clap definitions only.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// driftless: a static-site generator for data-driven wikis. Every derived number is computed
/// from the data at build time, so prose, tables and charts never drift apart.
#[derive(Debug, Parser)]
#[command(name = "driftless", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a new wiki in DIR: settings, an article, a dataset with a derived column, a
    /// parameter. Never overwrites a file
    Init {
        /// The folder of the new wiki (created if missing) [default: the current folder]
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Copy the built-in theme's layouts and style sheet into DIR/templates/ to edit them
        /// (only the theme, into a wiki that already exists)
        #[arg(long)]
        theme: bool,
    },
    /// Compute every value, render every page and publish the wiki to site/ (atomically)
    Build {
        #[command(flatten)]
        common: Common,
        /// Where to publish the site [default: ROOT/site]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Build in memory and serve the wiki on this machine; rebuild on every save and reload
    /// the open pages. Never writes site/ or values.lock
    Serve {
        #[command(flatten)]
        common: Common,
        /// The port to listen on (0: any free port)
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// The address to listen on; anything but loopback makes the wiki reachable from
        /// other machines
        #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Open the wiki in the default browser
        #[arg(long)]
        open: bool,
    },
    /// Rebuild without publishing and check links, anchors, the values lock, claims and
    /// hand-typed figures
    Check {
        #[command(flatten)]
        common: Common,
        /// Also check http(s) links (needs network; results are cached)
        #[arg(long)]
        external: bool,
        /// Fail on warnings too (stale inputs, red links set to warn, slow links)
        #[arg(long)]
        strict: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

/// Options of every command.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The wiki's folder (holding content/, data/, templates/) [default: the current folder]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Worker threads [default: one per core]; the output is the same for any number
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable by a person
    Human,
    /// One JSON document, for tools
    Json,
}
