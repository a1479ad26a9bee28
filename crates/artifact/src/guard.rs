//! Output-path guards: a command's output must never land on one of its inputs or inside a
//! folder vane manages (the bar store), where a CSV written over `BTCUSDT_4h.parquet` would
//! destroy a stored series and break every later read of the store.

use std::path::{Path, PathBuf};

use crate::error::{ArtifactError, Result};

/// `path` made absolute with symlinks and `..` resolved as far as it exists: the existing
/// ancestor is canonicalized and the rest appended, so a file that does not exist yet still
/// resolves to where it would be written.
pub fn resolve(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    // `.` and `..` lexically first (`Path::file_name` stops at a trailing `..`).
    let mut norm = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                norm.pop();
            }
            other => norm.push(other),
        }
    }
    let abs = norm;
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return abs,
        }
    }
}

/// Refuses `output` when it resolves to one of `inputs` or into one of `protected` (named
/// folders such as `("the bar store", data_dir)`); the error names both paths.
pub fn check_output(output: &Path, inputs: &[&Path], protected: &[(&str, &Path)]) -> Result<()> {
    let out = resolve(output);
    for input in inputs {
        if resolve(input) == out {
            return Err(ArtifactError::OutputPath {
                output: output.to_path_buf(),
                reason: format!("it is also an input ({}); write to another file", input.display()),
            });
        }
    }
    for (what, dir) in protected {
        let d = resolve(dir);
        if out.starts_with(&d) {
            return Err(ArtifactError::OutputPath {
                output: output.to_path_buf(),
                reason: format!("it is inside {what} {} that vane manages; write outside that folder", dir.display()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_inputs_and_protected_folders_through_dots_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("BTCUSDT_4h.parquet"), b"x").unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, b"x").unwrap();
        let store = [("the bar store", data.as_path())];
        let e = check_output(&data.join("BTCUSDT_4h.parquet"), &[], &store).unwrap_err().to_string();
        assert!(e.contains("BTCUSDT_4h.parquet") && e.contains("bar store"), "{e}");
        // A new file inside the store, reached through `..`.
        let sneaky = dir.path().join("other/../data/new.csv");
        assert!(check_output(&sneaky, &[], &store).is_err());
        let e = check_output(&dir.path().join("./in.csv"), &[&input], &store).unwrap_err().to_string();
        assert!(e.contains("also an input") && e.contains("in.csv"), "{e}");
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&data, &link).unwrap();
            assert!(check_output(&link.join("x.csv"), &[], &store).is_err());
        }
        check_output(&dir.path().join("out.csv"), &[&input], &store).unwrap();
    }
}
