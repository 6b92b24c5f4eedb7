//! Terminal output. Every line the commands print goes through here: written to a locked handle,
//! and a reader that went away (`driftless check | head -1`, a closed pipe) ends the output
//! quietly instead of panicking, as ripgrep does. The run still ends with its own exit code.

use std::io::Write;

/// Writes `text` to standard output; a closed pipe is ignored.
pub fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes `text` to standard error; a closed pipe is ignored.
pub fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `println!` to standard output through [`out`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::term::out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` to standard error through [`err`].
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => { $crate::term::err(&format!("{}\n", format_args!($($arg)*))) };
}
