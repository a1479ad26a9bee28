//! [`Symbol`]: a validated instrument name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// An instrument name such as `BTCUSDT`: 2 to 20 characters of `A-Z` and `0-9`.
///
/// A symbol becomes part of file paths (`data/<SYMBOL>_<interval>.parquet`), so nothing else is
/// accepted: no lower case, separators, dots or slashes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Symbol(String);

impl Symbol {
    /// Validates `s` as a symbol.
    pub fn new(s: &str) -> Result<Self> {
        let ok = (2..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok { Ok(Self(s.to_string())) } else { Err(CoreError::InvalidSymbol(s.to_string())) }
    }

    /// The symbol text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Symbol {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl AsRef<str> for Symbol {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_exchange_symbols() {
        for s in ["BTCUSDT", "ETHUSDT", "1000PEPEUSDT", "SOLUSDT", "XY", "ABCDEFGHIJKLMNOPQRST"] {
            assert_eq!(Symbol::new(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_path_hazards() {
        for s in [
            "",
            "B",
            "btcusdt",
            "BTC/USDT",
            "BTC-USDT",
            "../etc",
            "BTC USDT",
            "BTCUSDT.",
            "ABCDEFGHIJKLMNOPQRSTU",
            "ÄBC",
        ] {
            let e = Symbol::new(s).unwrap_err();
            assert_eq!(e, CoreError::InvalidSymbol(s.to_string()));
            assert!(e.to_string().contains("2 to 20 characters"));
        }
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<Symbol>("\"BTCUSDT\"").is_ok());
        assert!(serde_json::from_str::<Symbol>("\"btc\"").is_err());
    }

    proptest! {
        #[test]
        fn valid_iff_charset_and_length(s in "[A-Za-z0-9/._-]{0,24}") {
            let expect = (2..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            prop_assert_eq!(Symbol::new(&s).is_ok(), expect);
        }
    }
}
