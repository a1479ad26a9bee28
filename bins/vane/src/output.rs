//! The one output path: every command returns a [`Render`] value; [`emit`] prints it as human
//! text (stdout, plus an optional status line on stderr) or, with `--json`, as JSON.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

/// A command's result, printable for people and for machines.
pub(crate) trait Render: Serialize {
    /// Text for stdout (empty: nothing).
    fn human(&self) -> String;
    /// A status line for stderr in human mode (where a file was written, ...).
    fn status(&self) -> Option<String> {
        None
    }
    /// A failure to report after the output (the exit code becomes 1).
    fn failure(&self) -> Option<String> {
        None
    }
    /// One JSON line instead of pretty JSON.
    fn compact(&self) -> bool {
        false
    }
}

/// Prints `r` (JSON with `json`) and turns its [`Render::failure`] into an error.
pub(crate) fn emit<R: Render>(r: &R, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let text = if r.compact() { serde_json::to_string(r)? } else { serde_json::to_string_pretty(r)? };
        writeln!(out, "{text}")?;
    } else {
        let text = r.human();
        if !text.is_empty() {
            writeln!(out, "{}", text.trim_end_matches('\n'))?;
        }
        if let Some(s) = r.status() {
            eprintln!("{s}");
        }
    }
    out.flush()?;
    if let Some(f) = r.failure() {
        return Err(crate::failure::Marked::Reported(f).into());
    }
    Ok(())
}

/// An optional open time as text, `-` for none.
pub(crate) fn opt_time(v: Option<i64>) -> String {
    v.map(|x| vane_core::Timestamp(x).to_string()).unwrap_or_else(|| "-".into())
}
