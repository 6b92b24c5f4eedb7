//! The subcommands. Each returns an [`Outcome`] that `main` maps to an exit code.

pub mod build;
pub mod check;
pub mod init;

/// How a command ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: problems in the wiki's content or data (already printed).
    Findings,
    /// Exit 2: a usage or I/O error.
    Failure(String),
}

/// Finds the wiki; a problem in its configuration is printed and ends the command.
pub(crate) fn discover(
    locate: &crate::project::Locate,
    sources: &crate::source::SourceMap,
) -> Result<crate::project::Project, Outcome> {
    match crate::project::discover(locate, sources) {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(d)) => {
            crate::term::err(&d.render());
            Err(Outcome::Findings)
        }
        Err(e) => Err(Outcome::Failure(e.0)),
    }
}

/// `1 page`, `2 pages`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
