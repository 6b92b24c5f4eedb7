//! `driftless check`: the build without the publish, then the checks.

use super::Outcome;
use crate::cli::Format;
use crate::project::Locate;

/// Checks the wiki.
pub fn run(_locate: &Locate, _external: bool, _format: Format) -> Outcome {
    Outcome::Failure("check is not available yet".into())
}
