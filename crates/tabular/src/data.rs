//! [`Dataset`]: numeric and categorical columns of equal length.

use crate::{Result, TabularError};

/// Feature columns: numeric (NaN = missing) and categorical (strings, e.g. the symbol).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Numeric column names.
    pub numeric_names: Vec<String>,
    /// Numeric columns.
    pub numeric: Vec<Vec<f64>>,
    /// Categorical column names.
    pub categorical_names: Vec<String>,
    /// Categorical columns.
    pub categorical: Vec<Vec<String>>,
}

impl Dataset {
    /// A dataset of numeric columns only.
    pub fn numeric(names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Self> {
        let d = Self { numeric_names: names, numeric: columns, ..Self::default() };
        d.validate()?;
        Ok(d)
    }

    /// Adds a categorical column.
    pub fn with_categorical(mut self, name: &str, values: Vec<String>) -> Result<Self> {
        self.categorical_names.push(name.to_string());
        self.categorical.push(values);
        self.validate()?;
        Ok(self)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.numeric.first().map(Vec::len).or_else(|| self.categorical.first().map(Vec::len)).unwrap_or(0)
    }

    /// Checks shapes: names match columns, all columns of one length, no infinities.
    pub fn validate(&self) -> Result<()> {
        if self.numeric_names.len() != self.numeric.len() || self.categorical_names.len() != self.categorical.len() {
            return Err(TabularError::InvalidInput("column names and columns differ in number".into()));
        }
        let n = self.rows();
        for (name, c) in self.numeric_names.iter().zip(&self.numeric) {
            if c.len() != n {
                return Err(TabularError::InvalidInput(format!("column {name} has {} rows, expected {n}", c.len())));
            }
            if let Some(i) = c.iter().position(|v| v.is_infinite()) {
                return Err(TabularError::InvalidInput(format!("column {name} row {i} is infinite")));
            }
        }
        for (name, c) in self.categorical_names.iter().zip(&self.categorical) {
            if c.len() != n {
                return Err(TabularError::InvalidInput(format!("column {name} has {} rows, expected {n}", c.len())));
            }
        }
        Ok(())
    }

    /// The rows at `idx`, as a new dataset.
    pub fn take(&self, idx: &[usize]) -> Dataset {
        Dataset {
            numeric_names: self.numeric_names.clone(),
            numeric: self.numeric.iter().map(|c| idx.iter().map(|&i| c[i]).collect()).collect(),
            categorical_names: self.categorical_names.clone(),
            categorical: self.categorical.iter().map(|c| idx.iter().map(|&i| c[i].clone()).collect()).collect(),
        }
    }
}
