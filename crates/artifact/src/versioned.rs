//! Versioned JSON: every artifact file carries a `format_version`, checked before anything else
//! is read, with one error for a mismatch ([`ArtifactError::Version`]) naming the file, the version
//! found and the version this build reads.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ArtifactError, Result};

/// A value saved with its format version: `{"format_version": N, ...the value's fields}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    /// The format version of the file.
    pub format_version: u32,
    /// The value (its fields sit beside `format_version`).
    #[serde(flatten)]
    pub value: T,
}

impl<T> Versioned<T> {
    /// Wraps `value` with `format_version`.
    pub fn new(format_version: u32, value: T) -> Self {
        Self { format_version, value }
    }
}

/// Checks the `format_version` field of a parsed JSON document.
pub fn check_version(path: &Path, doc: &serde_json::Value, expected: u32) -> Result<()> {
    let found = doc.get("format_version").and_then(serde_json::Value::as_u64);
    if found == Some(u64::from(expected)) {
        Ok(())
    } else {
        Err(ArtifactError::Version { path: path.to_path_buf(), found, expected })
    }
}

/// Parses `text` (the contents of `path`) as a `T`, after checking its `format_version`.
pub fn parse_json<T: DeserializeOwned>(path: &Path, text: &str, expected: u32) -> Result<T> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| ArtifactError::invalid(path, e))?;
    check_version(path, &doc, expected)?;
    serde_json::from_value(doc).map_err(|e| ArtifactError::invalid(path, e))
}

/// Reads `path` as a `T` whose document carries `format_version == expected`.
pub fn read_json<T: DeserializeOwned>(path: &Path, expected: u32) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ArtifactError::io("reading", path, e))?;
    parse_json(path, &text, expected)
}

/// Reads a [`Versioned<T>`] file and returns the value.
pub fn read_versioned<T: DeserializeOwned>(path: &Path, expected: u32) -> Result<T> {
    read_json::<Versioned<T>>(path, expected).map(|v| v.value)
}

/// Writes `value` wrapped as [`Versioned`] to `path` atomically.
pub fn write_versioned<T: Serialize>(path: &Path, format_version: u32, value: &T) -> Result<()> {
    crate::fs::write_json(path, &Versioned::new(format_version, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Thing {
        a: f64,
        name: String,
    }

    #[test]
    fn round_trip_and_shape() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        let t = Thing { a: 0.1 + 0.2, name: "x".into() };
        write_versioned(&p, 3, &t).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(doc["format_version"], 3);
        assert_eq!(doc["name"], "x");
        assert_eq!(read_versioned::<Thing>(&p, 3).unwrap(), t);
    }

    #[test]
    fn mismatch_names_file_found_and_expected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("inference.json");
        std::fs::write(&p, r#"{"format_version": 1, "a": 1.0, "name": "x"}"#).unwrap();
        let e = read_versioned::<Thing>(&p, 2).unwrap_err();
        assert!(matches!(e, ArtifactError::Version { found: Some(1), expected: 2, .. }));
        let m = e.to_string();
        assert!(m.contains("inference.json") && m.contains("format_version 1") && m.contains("reads 2"), "{m}");
        assert!(m.contains("retrain"), "{m}");
        std::fs::write(&p, r#"{"version": 2, "a": 1.0, "name": "x"}"#).unwrap();
        let m = read_versioned::<Thing>(&p, 2).unwrap_err().to_string();
        assert!(m.contains("format_version missing"), "{m}");
        std::fs::write(&p, "not json").unwrap();
        assert!(matches!(read_versioned::<Thing>(&p, 2).unwrap_err(), ArtifactError::Invalid { .. }));
        let m = read_versioned::<Thing>(&dir.path().join("nope.json"), 2).unwrap_err().to_string();
        assert!(m.contains("reading") && m.contains("nope.json"), "{m}");
    }
}
