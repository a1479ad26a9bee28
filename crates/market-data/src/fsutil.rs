//! Crash-safe file writing: temp file in the same folder, fsync, rename, fsync the folder.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{MarketDataError, Result};

/// Writes `path` atomically: `write` fills a temporary sibling file, which is flushed, fsynced
/// and renamed over `path`. A crash at any point leaves either the old file or the new one,
/// never a torn one; on error the temporary file is removed and `path` is untouched.
pub(crate) fn write_atomic<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>, &Path) -> Result<()>,
{
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| MarketDataError::io("creating folder", dir, e))?;
    let tmp = temp_sibling(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| MarketDataError::io("creating", &tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w, &tmp)?;
        w.flush().map_err(|e| MarketDataError::io("writing", &tmp, e))?;
        let file = w.into_inner().map_err(|e| MarketDataError::io("writing", &tmp, e.into_error()))?;
        file.sync_all().map_err(|e| MarketDataError::io("syncing", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| MarketDataError::io("renaming into place", path, e))?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `.<name>.tmp-<pid>-<n>` beside `path`: hidden, unique per process and call.
fn temp_sibling(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = N.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

/// Makes a rename durable (POSIX). Not possible (nor needed) on every platform: best effort.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_old_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        write_atomic(&p, |w, _| w.write_all(b"old").map_err(|e| MarketDataError::io("w", "x", e))).unwrap();
        let err = write_atomic(&p, |w, _| {
            w.write_all(b"half-written").unwrap();
            Err(MarketDataError::InvalidArgument("boom".into()))
        });
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.txt")]);
    }
}
