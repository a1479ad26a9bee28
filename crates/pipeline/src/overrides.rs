//! `--set table.key=value` overrides of a TOML config.

use std::fmt;
use std::str::FromStr;

/// One `TABLE.KEY=VALUE` override. The value is parsed as a TOML value (`1e-4`, `true`,
/// `["BTCUSDT"]`, `"text"`), else taken as a string (`hrm`).
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The dotted key, split (`["train", "learning_rate"]`).
    pub path: Vec<String>,
    /// The value.
    pub value: toml::Value,
}

/// A `--set` argument that is not `TABLE.KEY=VALUE`, or that cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--set {arg:?}: {reason}")]
pub struct OverrideError {
    /// The argument as given.
    pub arg: String,
    /// What is wrong.
    pub reason: String,
}

impl Override {
    /// The dotted key (`train.learning_rate`).
    pub fn key(&self) -> String {
        self.path.join(".")
    }

    /// Sets the value in `doc`, creating the tables on the way.
    pub fn apply(&self, doc: &mut toml::Table) -> Result<(), OverrideError> {
        let (last, tables) = self.path.split_last().expect("parsed overrides have a key");
        let mut table = doc;
        for k in tables {
            table = table
                .entry(k.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| OverrideError { arg: self.to_string(), reason: format!("{k} is not a table") })?;
        }
        table.insert(last.clone(), self.value.clone());
        Ok(())
    }
}

impl FromStr for Override {
    type Err = OverrideError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| OverrideError { arg: s.to_string(), reason: reason.to_string() };
        let (key, raw) = s.split_once('=').ok_or_else(|| err("expected TABLE.KEY=VALUE"))?;
        let path: Vec<String> = key.trim().split('.').map(|k| k.trim().to_string()).collect();
        if path.iter().any(String::is_empty) {
            return Err(err("empty key"));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        Ok(Self { path, value })
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_values_else_strings_and_applies() {
        let o: Override = "train.learning_rate=1e-4".parse().unwrap();
        assert_eq!(o.path, vec!["train", "learning_rate"]);
        assert_eq!(o.value, toml::Value::Float(1e-4));
        let s: Override = "model.kind=hrm".parse().unwrap();
        assert_eq!(s.value, toml::Value::String("hrm".into()));
        let mut doc = toml::Table::new();
        o.apply(&mut doc).unwrap();
        assert_eq!(doc["train"]["learning_rate"].as_float(), Some(1e-4));
        assert!("nokey".parse::<Override>().unwrap_err().to_string().contains("expected TABLE.KEY=VALUE"));
        assert!("a..b=1".parse::<Override>().unwrap_err().to_string().contains("empty key"));
        let mut flat: toml::Table = toml::from_str("train = 3").unwrap();
        assert!(o.apply(&mut flat).unwrap_err().to_string().contains("train is not a table"));
    }
}
