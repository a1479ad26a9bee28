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
    /// A sequence model (HRM, CNN-LSTM, TFT, Lorentzian), boxed: its config is several times
    /// the GBDT's.
    Sequence(Box<SequenceJob>),
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
    #[error("{origin}:{line}:{column}: {}", .error.message())]
    File {
        /// The file (or `config` for text without a file).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The TOML error (its own position may refer to a re-serialised document, so it is not
        /// chained as the source: `line` and `column` are the ones in the file).
        error: Box<toml::de::Error>,
    },
    /// The file's values do not fit the job, at no position that could be traced back.
    #[error("{origin}: {}", .error.message())]
    Fields {
        /// The file.
        origin: String,
        /// The TOML error.
        error: Box<toml::de::Error>,
    },
    /// An override that does not fit the job (an unknown key, a value of the wrong type).
    #[error("--set {key}: {}", .error.message())]
    Override {
        /// The dotted key.
        key: String,
        /// The TOML error (its position is in a synthetic document, so it is not chained).
        error: Box<toml::de::Error>,
    },
    /// An override that cannot be applied.
    #[error(transparent)]
    BadOverride(#[from] OverrideError),
    /// A float that is NaN or infinite, in the file or in an override.
    #[error("{at}: {key} = {value}: must be a finite number")]
    NotFinite {
        /// `FILE:LINE:COLUMN` or `--set KEY`.
        at: String,
        /// The dotted key.
        key: String,
        /// The value.
        value: f64,
    },
    /// `model.kind` names no job.
    #[error("model.kind {0:?}: expected hrm, cnn-lstm, tft, lorentzian or gbdt")]
    UnknownKind(String),
    /// The `[model]` table of a GBDT job holds more than `kind`.
    #[error(
        "{at}: model.{key}: a GBDT config's [model] table takes only `kind` (the GBDT settings are top-level keys)"
    )]
    GbdtModelKey {
        /// `FILE:LINE:COLUMN` or `--set model.KEY`.
        at: String,
        /// The key.
        key: String,
    },
    /// A value out of range in the file (or the defaults).
    #[error("{origin}: {source}")]
    Invalid {
        /// The file (`FILE` or `FILE:LINE:COLUMN` when the key is known), or `defaults`.
        origin: String,
        /// The range error.
        #[source]
        source: PipelineError,
    },
    /// An override that puts a value out of range.
    #[error("--set {key}: {source}")]
    InvalidOverride {
        /// The dotted key.
        key: String,
        /// The range error.
        #[source]
        source: PipelineError,
    },
    /// `--symbols` lists a symbol twice.
    #[error("--symbols: {0} is listed twice (each symbol once)")]
    DuplicateSymbol(Symbol),
}

impl JobError {
    /// The class of this error (exit code of the CLI, HTTP status of the service): the file's
    /// contents are data, a flag's value is usage.
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            JobError::Read { .. } => ErrorClass::Io,
            JobError::File { .. } | JobError::Fields { .. } | JobError::UnknownKind(_) | JobError::Invalid { .. } => {
                ErrorClass::Data
            }
            JobError::NotFinite { at, .. } | JobError::GbdtModelKey { at, .. } => {
                if at.starts_with("--set") {
                    ErrorClass::Usage
                } else {
                    ErrorClass::Data
                }
            }
            JobError::Override { .. }
            | JobError::BadOverride(_)
            | JobError::InvalidOverride { .. }
            | JobError::DuplicateSymbol(_) => ErrorClass::Usage,
        }
    }
}

/// Result type of job parsing.
pub type JobResult<T> = std::result::Result<T, JobError>;

/// 1-based line and column of byte `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn file_error(origin: &str, text: &str, e: toml::de::Error) -> JobError {
    match e.span() {
        Some(s) => {
            let (line, column) = position(text, s.start);
            JobError::File { origin: origin.to_string(), line, column, error: Box::new(e) }
        }
        None => JobError::Fields { origin: origin.to_string(), error: Box::new(e) },
    }
}

/// The dotted key path whose key or value covers byte `at` of `text` (the deepest one).
fn path_at(text: &str, at: usize) -> Option<Vec<String>> {
    fn walk(t: &toml::de::DeTable<'_>, at: usize, path: &mut Vec<String>) -> bool {
        for (k, v) in t.iter() {
            path.push(k.get_ref().to_string());
            // A table given by a `[header]` may span only its header: look inside every table.
            if let toml::de::DeValue::Table(inner) = v.get_ref()
                && walk(inner, at, path)
            {
                return true;
            }
            let (ks, vs) = (k.span(), v.span());
            if ks.contains(&at) || vs.contains(&at) {
                return true;
            }
            path.pop();
        }
        false
    }
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    if walk(doc.get_ref(), at, &mut path) { Some(path) } else { None }
}

/// Byte span of the key `path` in `text` (the innermost key).
fn key_span(text: &str, path: &[String]) -> Option<std::ops::Range<usize>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut span = None;
    for (i, name) in path.iter().enumerate() {
        let (k, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == name.as_str())?;
        span = Some(k.span());
        if i + 1 < path.len() {
            match v.get_ref() {
                toml::de::DeValue::Table(t) => table = t,
                _ => return None,
            }
        }
    }
    span
}

/// `origin:line:column` of the key `path` in `text`, or `origin` when it cannot be found.
fn at_key(origin: &str, text: &str, path: &[String]) -> String {
    match key_span(text, path) {
        Some(s) => {
            let (line, column) = position(text, s.start);
            format!("{origin}:{line}:{column}")
        }
        None => origin.to_string(),
    }
}

/// The first float in `v` that is NaN or infinite, with its dotted path under `prefix`.
fn non_finite(prefix: &[String], v: &toml::Value) -> Option<(Vec<String>, f64)> {
    match v {
        toml::Value::Float(f) if !f.is_finite() => Some((prefix.to_vec(), *f)),
        toml::Value::Array(a) => a.iter().find_map(|x| non_finite(prefix, x)),
        toml::Value::Table(t) => t.iter().find_map(|(k, x)| {
            let mut p = prefix.to_vec();
            p.push(k.clone());
            non_finite(&p, x)
        }),
        _ => None,
    }
}

/// Deserializes `T` from `doc` (re-serialized: `toml::Table` → text → `T`); an error comes with
/// the key path it points at in that text.
fn from_doc<T: DeserializeOwned>(doc: &toml::Table) -> Result<T, (toml::de::Error, Option<Vec<String>>)> {
    let text = toml::to_string(doc).map_err(|e| (<toml::de::Error as serde::de::Error>::custom(e), None))?;
    toml::from_str(&text).map_err(|e| {
        let path = e.span().and_then(|s| path_at(&text, s.start));
        (e, path)
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gbdt,
    Sequence,
}

fn kind_of(doc: &toml::Table) -> JobResult<Kind> {
    match doc.get("model").and_then(|m| m.get("kind")).and_then(|k| k.as_str()) {
        Some("hrm" | "cnn-lstm" | "tft" | "lorentzian") => Ok(Kind::Sequence),
        Some("gbdt") | None => Ok(Kind::Gbdt),
        Some(other) => Err(JobError::UnknownKind(other.to_string())),
    }
}

/// Where the fault of a failed range check lies, when a key can be named.
type Blame = (Option<Vec<String>>, PipelineError);

/// The range checks of a GBDT job.
fn validate_gbdt(c: &TrainConfig) -> std::result::Result<(), Blame> {
    c.validate().map_err(|e| (None, e))
}

/// The range checks of a sequence job, including its `[train]` table resolved by vane-models
/// (a failing key is named on its own when it fails alone).
fn validate_sequence(j: &SequenceJob) -> std::result::Result<(), Blame> {
    j.validate().map_err(|e| (None, e))?;
    if let Err(e) = vane_models::TrainConfig::resolve(None, std::slice::from_ref(&j.train)) {
        let key = j.train.iter().find_map(|(k, v)| {
            let one: serde_json::Map<String, serde_json::Value> = [(k.clone(), v.clone())].into_iter().collect();
            vane_models::TrainConfig::resolve(None, &[one]).is_err().then(|| vec!["train".to_string(), k.clone()])
        });
        return Err((key, PipelineError::Models(e)));
    }
    Ok(())
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

    /// Parses TOML `text` (named `origin` in errors) with `overrides` applied in order. Errors
    /// say where the fault is: `FILE:LINE:COLUMN` for the file's own content (also for a value out
    /// of range when its key is known), `--set KEY` for an override.
    pub fn parse(text: &str, origin: &str, overrides: &[Override]) -> JobResult<Self> {
        let file: toml::Table = toml::from_str(text).map_err(|e| file_error(origin, text, e))?;
        if let Some((path, value)) = non_finite(&[], &toml::Value::Table(file.clone())) {
            return Err(JobError::NotFinite { at: at_key(origin, text, &path), key: path.join("."), value });
        }
        for o in overrides {
            if let Some((path, value)) = non_finite(&o.path, &o.value) {
                return Err(JobError::NotFinite { at: format!("--set {}", o.key()), key: path.join("."), value });
            }
        }
        let mut all = file.clone();
        for o in overrides {
            o.apply(&mut all)?;
        }
        let kind = kind_of(&all)?;
        match kind {
            Kind::Gbdt => {
                if let Some(toml::Value::Table(m)) = file.get("model")
                    && let Some(k) = m.keys().find(|k| k.as_str() != "kind")
                {
                    let at = at_key(origin, text, &["model".to_string(), k.clone()]);
                    return Err(JobError::GbdtModelKey { at, key: k.clone() });
                }
                if let Some(o) =
                    overrides.iter().find(|o| o.path.len() >= 2 && o.path[0] == "model" && o.path[1] != "kind")
                {
                    return Err(JobError::GbdtModelKey {
                        at: format!("--set {}", o.key()),
                        key: o.path[1..].join("."),
                    });
                }
                let cfg: TrainConfig = Self::check(text, origin, file, overrides, true, validate_gbdt)?;
                Ok(Job::Gbdt(cfg))
            }
            Kind::Sequence => {
                let job: SequenceJob = Self::check(text, origin, file, overrides, false, validate_sequence)?;
                Ok(Job::Sequence(Box::new(job)))
            }
        }
    }

    /// Deserializes and range-checks the file alone (errors point into it), then with each
    /// override in turn (errors name the override). `drop_model`: the GBDT job has no `[model]`
    /// table.
    fn check<T: DeserializeOwned>(
        text: &str,
        origin: &str,
        mut doc: toml::Table,
        overrides: &[Override],
        drop_model: bool,
        validate: fn(&T) -> std::result::Result<(), Blame>,
    ) -> JobResult<T> {
        let had_model = drop_model && doc.remove("model").is_some();
        let first: T = if had_model {
            // Positions in the re-serialized table are traced back to the key in the file.
            from_doc::<T>(&doc).map_err(|(e, path)| match path.and_then(|p| key_span(text, &p)) {
                Some(s) => {
                    let (line, column) = position(text, s.start);
                    JobError::File { origin: origin.to_string(), line, column, error: Box::new(e) }
                }
                None => JobError::Fields { origin: origin.to_string(), error: Box::new(e) },
            })?
        } else {
            toml::from_str::<T>(text).map_err(|e| file_error(origin, text, e))?
        };
        validate(&first).map_err(|(path, source)| JobError::Invalid {
            origin: path.map_or_else(|| origin.to_string(), |p| at_key(origin, text, &p)),
            source,
        })?;
        let mut value = first;
        for o in overrides {
            if drop_model && o.path.len() == 2 && o.path[0] == "model" && o.path[1] == "kind" {
                continue;
            }
            o.apply(&mut doc)?;
            value = from_doc::<T>(&doc).map_err(|(e, _)| JobError::Override { key: o.key(), error: Box::new(e) })?;
            validate(&value).map_err(|(_, source)| JobError::InvalidOverride { key: o.key(), source })?;
        }
        Ok(value)
    }

    /// Replaces the job's symbols (nothing when `symbols` is empty); a symbol listed twice is an
    /// error naming it.
    pub fn set_symbols(&mut self, symbols: &[Symbol]) -> JobResult<()> {
        if symbols.is_empty() {
            return Ok(());
        }
        if let Some(d) = crate::config::duplicate(symbols) {
            return Err(JobError::DuplicateSymbol(d.clone()));
        }
        match self {
            Job::Gbdt(c) => c.symbols = symbols.to_vec(),
            Job::Sequence(j) => j.data.symbols = symbols.to_vec(),
        }
        Ok(())
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
        // `lorentzian` is the trainable sequence model; its [model] fields are checked.
        assert!(matches!(Job::parse("[model]\nkind = \"lorentzian\"\n", "c", &[]).unwrap(), Job::Sequence(_)));
        let e = Job::parse("[model]\nkind = \"lorentzian\"\nlookback = 2\nprototypes = 0\n", "c", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("prototypes"), "{e}");
        let e = Job::parse("[model]\nkind = \"svm\"\n", "c", &[]).unwrap_err().to_string();
        assert!(e.contains("expected hrm, cnn-lstm, tft, lorentzian or gbdt"), "{e}");
        let e = Job::parse("horizon = 0\n", "cfg.toml", &[]).unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml: ") && e.contains("horizon"), "{e}");
    }
}
