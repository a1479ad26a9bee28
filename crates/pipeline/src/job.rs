//! Typed training jobs: a TOML config plus `--set` overrides → [`Job`]. `[model] kind` picks the
//! job (`hrm`, `cnn-lstm`, `tft` → [`Job::Sequence`]; `gbdt` or no kind, like
//! `examples/seed001.toml` → [`Job::Gbdt`]). Errors say where the fault is: a line of the file,
//! or the `--set` key.

use std::path::Path;

use serde::de::DeserializeOwned;
use vane_core::Symbol;

use crate::config::TrainConfig;
use crate::error::PipelineError;
use crate::overrides::{Override, OverrideError};
use crate::sequence::SequenceJob;

/// What `vane train` runs.
#[derive(Clone, Debug)]
pub enum Job {
    /// Seed 001's GBDT pipeline.
    Gbdt(TrainConfig),
    /// A sequence model (HRM, CNN-LSTM, TFT).
    Sequence(SequenceJob),
}

/// A config that cannot become a [`Job`].
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a value in it does not fit its field.
    #[error("{origin}:{line}:{column}: {}", .source.message())]
    File {
        /// The file (or `config` for text without a file).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The TOML error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The file's values do not fit the job, without a position (after `[model]` was removed).
    #[error("{origin}: {}", .source.message())]
    Fields {
        /// The file.
        origin: String,
        /// The TOML error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// An override that does not fit the job (an unknown key, a value of the wrong type).
    #[error("--set {key}: {}", .source.message())]
    Override {
        /// The dotted key.
        key: String,
        /// The TOML error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// An override that cannot be applied.
    #[error(transparent)]
    BadOverride(#[from] OverrideError),
    /// `model.kind` names no job.
    #[error("model.kind {0:?}: expected hrm, cnn-lstm, tft or gbdt")]
    UnknownKind(String),
    /// `model.kind = "lorentzian"`: that model trains elsewhere.
    #[error(
        "model.kind \"lorentzian\": the Lorentzian classifier trains on feature CSVs: `vane tabular --model lorentzian` (see docs/cli.md)"
    )]
    Lorentzian,
    /// A value out of range.
    #[error("{origin}: {source}")]
    Invalid {
        /// The file (or `config`).
        origin: String,
        /// The range error.
        #[source]
        source: PipelineError,
    },
}

/// Result type of job parsing.
pub type JobResult<T> = std::result::Result<T, JobError>;

/// 1-based line and column of byte `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn file_error(origin: &str, text: &str, e: toml::de::Error) -> JobError {
    let (line, column) = e.span().map_or((1, 1), |s| position(text, s.start));
    JobError::File { origin: origin.to_string(), line, column, source: Box::new(e) }
}

/// Deserializes `T` from `doc` (re-serialized: `toml::Table` → text → `T`).
fn from_doc<T: DeserializeOwned>(doc: &toml::Table) -> Result<T, toml::de::Error> {
    let text = toml::to_string(doc).expect("a parsed TOML table serialises");
    toml::from_str(&text)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gbdt,
    Sequence,
}

fn kind_of(doc: &toml::Table) -> JobResult<Kind> {
    match doc.get("model").and_then(|m| m.get("kind")).and_then(|k| k.as_str()) {
        Some("hrm" | "cnn-lstm" | "tft") => Ok(Kind::Sequence),
        Some("gbdt") | None => Ok(Kind::Gbdt),
        Some("lorentzian") => Err(JobError::Lorentzian),
        Some(other) => Err(JobError::UnknownKind(other.to_string())),
    }
}

impl Job {
    /// Reads the job from `path` (defaults when `None`) with `overrides` applied in order.
    pub fn read(path: Option<&Path>, overrides: &[Override]) -> JobResult<Self> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|source| JobError::Read { path: p.display().to_string(), source })?;
                Self::parse(&text, &p.display().to_string(), overrides)
            }
            None => Self::parse("", "defaults", overrides),
        }
    }

    /// Parses TOML `text` (named `origin` in errors) with `overrides` applied in order.
    pub fn parse(text: &str, origin: &str, overrides: &[Override]) -> JobResult<Self> {
        let file: toml::Table = toml::from_str(text).map_err(|e| file_error(origin, text, e))?;
        let mut all = file.clone();
        for o in overrides {
            o.apply(&mut all)?;
        }
        let kind = kind_of(&all)?;
        match kind {
            Kind::Gbdt => {
                let cfg: TrainConfig = Self::check(text, origin, file, overrides, true)?;
                cfg.validate().map_err(|source| JobError::Invalid { origin: origin.to_string(), source })?;
                Ok(Job::Gbdt(cfg))
            }
            Kind::Sequence => {
                let job: SequenceJob = Self::check(text, origin, file, overrides, false)?;
                job.validate().map_err(|source| JobError::Invalid { origin: origin.to_string(), source })?;
                Ok(Job::Sequence(job))
            }
        }
    }

    /// Deserializes the file alone (errors point into it), then with each override in turn
    /// (errors name the override). `drop_model`: the GBDT job has no `[model]` table.
    fn check<T: DeserializeOwned>(
        text: &str,
        origin: &str,
        mut doc: toml::Table,
        overrides: &[Override],
        drop_model: bool,
    ) -> JobResult<T> {
        let had_model = drop_model && doc.remove("model").is_some();
        if had_model {
            from_doc::<T>(&doc).map_err(|e| JobError::Fields { origin: origin.to_string(), source: Box::new(e) })?;
        } else {
            toml::from_str::<T>(text).map_err(|e| file_error(origin, text, e))?;
        }
        for o in overrides {
            if drop_model && o.path.len() == 2 && o.path[0] == "model" && o.path[1] == "kind" {
                continue;
            }
            o.apply(&mut doc)?;
            from_doc::<T>(&doc).map_err(|e| JobError::Override { key: o.key(), source: Box::new(e) })?;
        }
        Ok(from_doc::<T>(&doc).expect("checked above"))
    }

    /// Replaces the job's symbols (nothing when `symbols` is empty).
    pub fn set_symbols(&mut self, symbols: &[Symbol]) {
        if symbols.is_empty() {
            return;
        }
        match self {
            Job::Gbdt(c) => c.symbols = symbols.to_vec(),
            Job::Sequence(j) => j.data.symbols = symbols.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(s: &[&str]) -> Vec<Override> {
        s.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn no_kind_or_gbdt_is_gbdt_and_sequence_kinds_are_sequence() {
        let seed001 = include_str!("../../../examples/seed001.toml");
        assert!(matches!(Job::parse(seed001, "seed001.toml", &[]).unwrap(), Job::Gbdt(_)));
        assert!(matches!(Job::parse("", "x", &[]).unwrap(), Job::Gbdt(_)));
        let g = Job::parse("horizon = 3\n[model]\nkind = \"gbdt\"\n", "x", &sets(&["depth=4"])).unwrap();
        let Job::Gbdt(c) = g else { panic!("gbdt expected") };
        assert_eq!((c.horizon, c.depth), (3, 4));
        let s = Job::parse("[model]\nkind = \"tft\"\n", "x", &sets(&["data.seq_len=30"])).unwrap();
        let Job::Sequence(j) = s else { panic!("sequence expected") };
        assert_eq!(j.data.seq_len, 30);
        assert!(matches!(Job::parse("", "x", &sets(&["model.kind=hrm"])).unwrap(), Job::Sequence(_)));
    }

    #[test]
    fn errors_name_the_file_line_or_the_override() {
        let e = Job::parse("horizon = 3\ncolour = 4\n", "cfg.toml", &[]).unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:2:") && e.contains("colour"), "{e}");
        let e = Job::parse("horizon = 3\nhorizon = [\n", "cfg.toml", &[]).unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:2:"), "{e}");
        let e = Job::parse("horizon = 3\n", "cfg.toml", &sets(&["nosuch.key=1"])).unwrap_err().to_string();
        assert!(e.starts_with("--set nosuch.key:") && !e.contains("cfg.toml"), "{e}");
        let e = Job::parse("[model]\nkind = \"hrm\"\n", "c", &sets(&["data.seq_len=\"x\""])).unwrap_err().to_string();
        assert!(e.starts_with("--set data.seq_len:"), "{e}");
        let e = Job::parse("[model]\nkind = \"lorentzian\"\n", "c", &[]).unwrap_err().to_string();
        assert!(e.contains("vane tabular --model lorentzian"), "{e}");
        let e = Job::parse("[model]\nkind = \"svm\"\n", "c", &[]).unwrap_err().to_string();
        assert!(e.contains("expected hrm, cnn-lstm, tft or gbdt"), "{e}");
        let e = Job::parse("horizon = 0\n", "cfg.toml", &[]).unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml: ") && e.contains("horizon"), "{e}");
    }
}
