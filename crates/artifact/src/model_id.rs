//! [`ModelId`]: the name of a model folder under `artifacts/models/`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use vane_core::Symbol;

use crate::error::ArtifactError;

/// A model folder name: `global`, a symbol (`BTCUSDT`), or a sequence model's
/// `<SYMBOLS>_<interval>_<kind>[-<hash>]`. Validated so that it is always one safe path component:
/// 1–128 characters of `A-Z a-z 0-9 _ - .`, not starting with `.`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelId(String);

impl ModelId {
    /// The id of the model trained across all symbols.
    pub const GLOBAL: &'static str = "global";

    /// Validates `s`.
    pub fn new(s: impl Into<String>) -> Result<Self, ArtifactError> {
        let s = s.into();
        let ok = (1..=128).contains(&s.len())
            && !s.starts_with('.')
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if ok { Ok(Self(s)) } else { Err(ArtifactError::ModelId(s)) }
    }

    /// `global`.
    pub fn global() -> Self {
        Self(Self::GLOBAL.into())
    }

    /// A per-symbol model's id (the symbol itself).
    pub fn for_symbol(symbol: &Symbol) -> Self {
        Self(symbol.as_str().to_string())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the global model.
    pub fn is_global(&self) -> bool {
        self.0 == Self::GLOBAL
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ModelId {
    type Err = ArtifactError;
    fn from_str(s: &str) -> Result<Self, ArtifactError> {
        Self::new(s)
    }
}

impl TryFrom<String> for ModelId {
    type Error = ArtifactError;
    fn try_from(s: String) -> Result<Self, ArtifactError> {
        Self::new(s)
    }
}

impl From<ModelId> for String {
    fn from(m: ModelId) -> String {
        m.0
    }
}

impl AsRef<str> for ModelId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        for ok in ["global", "BTCUSDT", "BTCUSDT-ETHUSDT_4h_hrm", "a.b-c_1"] {
            assert_eq!(ModelId::new(ok).unwrap().as_str(), ok);
        }
        for bad in ["", ".hidden", "../x", "a/b", "a b", &"x".repeat(129)] {
            let e = ModelId::new(bad).unwrap_err().to_string();
            assert!(e.contains("invalid model id"), "{e}");
        }
        assert!(ModelId::global().is_global());
        let s = Symbol::new("ETHUSDT").unwrap();
        assert_eq!(ModelId::for_symbol(&s).to_string(), "ETHUSDT");
        assert!(serde_json::from_str::<ModelId>("\"../etc\"").is_err());
        assert_eq!(serde_json::to_string(&ModelId::global()).unwrap(), "\"global\"");
    }
}
