//! A small CSV table with a header row — the one reader of vane's tabular inputs (feature rows,
//! positions, returns, scores) — and its conversion into a [`Dataset`].
//!
//! Fields are split on `,` and trimmed; blank lines are skipped; every row must have as many
//! fields as the header. Errors name the file, the 1-based line (the header is line 1) and the
//! column.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::{Dataset, TabularError};

/// What can go wrong reading a table or using its columns.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No header row.
    #[error("{path}: empty file")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A row whose field count differs from the header's.
    #[error("{path}:{line}: {found} fields, the header has {expected}")]
    Ragged {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A column that is not in the header.
    #[error("{path}: no column {column:?}")]
    NoColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
    },
    /// A field that does not parse as the column's type.
    #[error("{path}:{line}: column {column}: {value:?} is not a valid value")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The column.
        column: String,
        /// The field.
        value: String,
    },
    /// A field that parses but breaks the column's rule.
    #[error("{path}:{line}: {column} {value} {rule}")]
    Rule {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The column.
        column: String,
        /// The field.
        value: String,
        /// The rule, e.g. `must be 0 or 1`.
        rule: &'static str,
    },
    /// A non-numeric field in a numeric feature column.
    #[error("{path}:{line}: column {column}: {value:?} is not a number (mark it --categorical?)")]
    NotNumber {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The column.
        column: String,
        /// The field.
        value: String,
    },
    /// Two tables that should share their columns do not.
    #[error("{0} and {1} have different columns")]
    Columns(PathBuf, PathBuf),
    /// A model or dataset error.
    #[error(transparent)]
    Tabular(#[from] TabularError),
    /// A metric error.
    #[error(transparent)]
    Validation(#[from] vane_validation::ValidationError),
}

impl TableError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            TableError::Io { .. } => ErrorClass::Io,
            TableError::Empty { .. }
            | TableError::Ragged { .. }
            | TableError::NoColumn { .. }
            | TableError::Parse { .. }
            | TableError::Rule { .. }
            | TableError::NotNumber { .. }
            | TableError::Columns(..) => ErrorClass::Data,
            TableError::Tabular(e) => e.class(),
            TableError::Validation(e) => e.class(),
        }
    }
}

/// Result type of the table functions.
pub type TableResult<T> = std::result::Result<T, TableError>;

/// A CSV file with a header: the column names, the rows' fields and where each row was.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The raw header line and the raw row lines, for writing the table back with more columns.
    raw: Vec<String>,
    /// The 1-based line number of each row.
    lines: Vec<usize>,
}

impl Table {
    /// Reads `path`.
    pub fn read(path: &Path) -> TableResult<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TableError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses CSV text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> TableResult<Self> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, head) = lines.next().ok_or_else(|| TableError::Empty { path: path.to_path_buf() })?;
        let split = |l: &str| l.split(',').map(|f| f.trim().to_string()).collect::<Vec<_>>();
        let header = split(head);
        let mut t = Table {
            path: path.to_path_buf(),
            header,
            rows: Vec::new(),
            raw: vec![head.to_string()],
            lines: Vec::new(),
        };
        for (i, l) in lines {
            let row = split(l);
            if row.len() != t.header.len() {
                return Err(TableError::Ragged {
                    path: t.path,
                    line: i + 1,
                    found: row.len(),
                    expected: t.header.len(),
                });
            }
            t.rows.push(row);
            t.raw.push(l.to_string());
            t.lines.push(i + 1);
        }
        Ok(t)
    }

    /// The 1-based line of the file that holds data row `row` (0-based), for error messages.
    pub fn line(&self, row: usize) -> Option<usize> {
        self.lines.get(row).copied()
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The rows' fields.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The index of column `name`.
    pub fn index(&self, name: &str) -> TableResult<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| TableError::NoColumn { path: self.path.clone(), column: name.to_string() })
    }

    /// Column `name` parsed as `T`.
    pub fn column<T: FromStr>(&self, name: &str) -> TableResult<Vec<T>> {
        let k = self.index(name)?;
        self.rows
            .iter()
            .zip(&self.lines)
            .map(|(r, &line)| {
                r[k].parse::<T>().map_err(|_| TableError::Parse {
                    path: self.path.clone(),
                    line,
                    column: name.to_string(),
                    value: r[k].clone(),
                })
            })
            .collect()
    }

    /// Column `name` parsed as `T`, every value passing `ok` (else an error saying `rule`).
    pub fn column_where<T: FromStr + ToString>(
        &self,
        name: &str,
        ok: impl Fn(&T) -> bool,
        rule: &'static str,
    ) -> TableResult<Vec<T>> {
        let v = self.column::<T>(name)?;
        if let Some(i) = v.iter().position(|x| !ok(x)) {
            return Err(TableError::Rule {
                path: self.path.clone(),
                line: self.lines[i],
                column: name.to_string(),
                value: v[i].to_string(),
                rule,
            });
        }
        Ok(v)
    }

    /// A 0/1 column as booleans (any other value is an error naming its line).
    pub fn binary_column(&self, name: &str) -> TableResult<Vec<bool>> {
        Ok(self.column_where::<u8>(name, |&v| v <= 1, "must be 0 or 1")?.into_iter().map(|v| v == 1).collect())
    }

    /// The table as CSV with one more column `name` holding `values` (one per row), rows as they
    /// were read.
    pub fn to_csv_with_column<T: std::fmt::Display>(&self, name: &str, values: &[T]) -> String {
        let mut out = format!("{},{name}\n", self.raw[0]);
        for (line, v) in self.raw[1..].iter().zip(values) {
            out.push_str(&format!("{line},{v}\n"));
        }
        out
    }

    /// Splits the table into a [`Dataset`] and the `target` column's raw values: `drop` columns
    /// are left out, `categorical` ones are kept as strings, every other column must be numeric
    /// (empty or `nan` fields are missing values).
    pub fn to_dataset(
        &self,
        target: &str,
        categorical: &[String],
        drop: &[String],
    ) -> TableResult<(Dataset, Vec<String>)> {
        let ti = self.index(target)?;
        let mut d = Dataset::default();
        for (j, name) in self.header.iter().enumerate() {
            if j == ti || drop.contains(name) {
                continue;
            }
            if categorical.contains(name) {
                d.categorical_names.push(name.clone());
                d.categorical.push(self.rows.iter().map(|r| r[j].clone()).collect());
                continue;
            }
            let col = self
                .rows
                .iter()
                .zip(&self.lines)
                .map(|(r, &line)| {
                    let f = r[j].as_str();
                    if f.is_empty() || f.eq_ignore_ascii_case("nan") {
                        return Ok(f64::NAN);
                    }
                    f.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| TableError::NotNumber {
                        path: self.path.clone(),
                        line,
                        column: name.clone(),
                        value: f.to_string(),
                    })
                })
                .collect::<TableResult<Vec<f64>>>()?;
            d.numeric_names.push(name.clone());
            d.numeric.push(col);
        }
        Ok((d, self.rows.iter().map(|r| r[ti].clone()).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> TableResult<Table> {
        Table::parse(text, Path::new("x.csv"))
    }

    #[test]
    fn columns_parse_and_errors_name_file_line_and_column() {
        let tab = t("a,b\n1,2\n\n3,x\n").unwrap();
        assert_eq!(tab.len(), 2);
        assert_eq!(tab.column::<f64>("a").unwrap(), vec![1.0, 3.0]);
        assert_eq!(tab.column::<f64>("b").unwrap_err().to_string(), "x.csv:4: column b: \"x\" is not a valid value");
        assert_eq!(tab.index("c").unwrap_err().to_string(), "x.csv: no column \"c\"");
        assert_eq!(t("a,b\n1\n").unwrap_err().to_string(), "x.csv:2: 1 fields, the header has 2");
        assert_eq!(t("\n").unwrap_err().to_string(), "x.csv: empty file");
        let lab = t("label\n0\n2\n").unwrap();
        assert_eq!(lab.binary_column("label").unwrap_err().to_string(), "x.csv:3: label 2 must be 0 or 1");
        assert_eq!(tab.to_csv_with_column("c", &[5, 6]), "a,b,c\n1,2,5\n3,x,6\n");
    }

    #[test]
    fn to_dataset_splits_numeric_categorical_and_target() {
        let tab = t("time,sym,f,y\n1,BTC,0.5,up\n2,ETH,nan,down\n").unwrap();
        let (d, y) = tab.to_dataset("y", &["sym".into()], &["time".into()]).unwrap();
        assert_eq!(d.numeric_names, vec!["f"]);
        assert!(d.numeric[0][1].is_nan());
        assert_eq!(d.categorical[0], vec!["BTC", "ETH"]);
        assert_eq!(y, vec!["up", "down"]);
        let err = tab.to_dataset("y", &[], &["time".into()]).unwrap_err().to_string();
        assert_eq!(err, "x.csv:2: column sym: \"BTC\" is not a number (mark it --categorical?)");
    }
}
