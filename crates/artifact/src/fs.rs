//! Crash-safe writes: [`write_atomic`] for files and [`StagedDir`] for whole folders.
//!
//! A file is written to a hidden temporary sibling (`.<name>.tmp-<pid>-<n>`), flushed, fsynced,
//! renamed over the target, and the folder is fsynced: a crash at any point leaves the old file or
//! the new one, never a torn one. A folder is filled under `.<name>.tmp-<pid>-<n>`, every file in
//! it fsynced, then swapped in with two renames (the old folder moves aside to
//! `.<name>.old-<pid>-<n>`, the new one into place) and the old one removed. A crash between the
//! two renames leaves no folder at the target but an `.old-*` beside it: [`recover_dir`] (called by
//! [`StagedDir::new`] and [`open_dir`]) puts it back, and removes temporaries of dead processes.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::{ArtifactError, Result};

/// Where a test can make a write fail as a crash would: the call returns
/// [`ArtifactError::Injected`] at that point and skips every clean-up, leaving on disk exactly
/// what a `kill -9` there would leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailPoint {
    /// A file: the temporary file is written and synced, not yet renamed.
    FileBeforeRename,
    /// A folder: the temporary folder is complete, nothing swapped yet.
    DirBeforeSwap,
    /// A folder: the old folder is moved aside, the new one not yet in place.
    DirBetweenRenames,
    /// A folder: the new folder is in place, the old one not yet removed.
    DirBeforeCleanup,
}

thread_local! {
    static FAIL_AT: std::cell::Cell<Option<FailPoint>> = const { std::cell::Cell::new(None) };
}

/// For tests: the next write on this thread that reaches `at` fails there as if killed (the
/// injection is consumed by that write). `None` clears it.
pub fn inject_failure(at: Option<FailPoint>) {
    FAIL_AT.with(|f| f.set(at));
}

fn fail_point(at: FailPoint) -> Result<()> {
    FAIL_AT.with(|f| {
        if f.get() == Some(at) {
            f.set(None);
            Err(ArtifactError::Injected(at))
        } else {
            Ok(())
        }
    })
}

/// Temporaries this process is writing right now (so recovery never removes a live one).
static IN_FLIGHT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn in_flight(path: &Path, add: bool) {
    let mut g = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner());
    let set = g.get_or_insert_with(HashSet::new);
    if add {
        set.insert(path.to_path_buf());
    } else {
        set.remove(path);
    }
}

fn is_in_flight(path: &Path) -> bool {
    let g = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner());
    g.as_ref().is_some_and(|s| s.contains(path))
}

/// `.<name>.<kind>-<pid>-<n>` beside `path`: hidden, unique per process and call.
fn sibling(path: &Path, kind: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{}.{kind}-{}-{n}", file_name(path), std::process::id()))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Makes a rename durable (POSIX). Not possible (nor needed) on every platform: best effort.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `path` atomically: `write` fills a temporary sibling file (its path is passed for error
/// messages), which is flushed, fsynced and renamed over `path`, and the folder is fsynced. On
/// error the temporary file is removed and `path` is untouched. The parent folder is created.
pub fn write_atomic_with<E, F>(path: &Path, write: F) -> std::result::Result<(), E>
where
    E: From<ArtifactError>,
    F: FnOnce(&mut BufWriter<File>, &Path) -> std::result::Result<(), E>,
{
    let dir = parent_of(path);
    create_dir(dir)?;
    remove_stale_temps(path);
    let tmp = sibling(path, "tmp");
    in_flight(&tmp, true);
    let mut crashed = false;
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| ArtifactError::io("creating", &tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        write(&mut w, &tmp)?;
        w.flush().map_err(|e| ArtifactError::io("writing", &tmp, e))?;
        let file = w.into_inner().map_err(|e| ArtifactError::io("writing", &tmp, e.into_error()))?;
        file.sync_all().map_err(|e| ArtifactError::io("syncing", &tmp, e))?;
        drop(file);
        if let Err(e) = fail_point(FailPoint::FileBeforeRename) {
            crashed = true;
            return Err(e.into());
        }
        fs::rename(&tmp, path).map_err(|e| ArtifactError::io("renaming into place", path, e))?;
        sync_dir(dir);
        Ok(())
    })();
    in_flight(&tmp, false);
    if result.is_err() && !crashed {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically (see [`write_atomic_with`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w, tmp| w.write_all(bytes).map_err(|e| ArtifactError::io("writing", tmp, e)))
}

/// Writes `value` as pretty JSON to `path` atomically.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| ArtifactError::invalid(path, e))?;
    write_atomic(path, &text)
}

fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(ArtifactError::io(
            "creating folder",
            dir,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file is in the way, not a folder"),
        ));
    }
    fs::create_dir_all(dir).map_err(|e| ArtifactError::io("creating folder", dir, e))
}

/// The pid in a `.<name>.<kind>-<pid>-<n>` name, when `entry` is such a sibling of `name`.
fn sibling_pid(entry: &str, name: &str, kind: &str) -> Option<u32> {
    let rest = entry.strip_prefix('.')?.strip_prefix(name)?.strip_prefix('.')?.strip_prefix(kind)?;
    let rest = rest.strip_prefix('-')?;
    let (pid, n) = rest.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether a temporary written by `pid` can no longer be in use: its process is gone (known on
/// Linux through /proc; elsewhere only for this process), or it is this process and not one of
/// its writes in flight.
fn is_stale(path: &Path, pid: u32) -> bool {
    if pid == std::process::id() {
        return !is_in_flight(path);
    }
    let proc = Path::new("/proc");
    proc.is_dir() && !proc.join(pid.to_string()).exists()
}

/// Siblings of `path` of the given kind (`tmp` or `old`) with their pid, oldest name first.
fn siblings(path: &Path, kind: &str) -> Vec<(PathBuf, u32)> {
    let name = file_name(path);
    let Ok(rd) = fs::read_dir(parent_of(path)) else { return Vec::new() };
    let mut out: Vec<(PathBuf, u32)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            sibling_pid(&n, &name, kind).map(|pid| (e.path(), pid))
        })
        .collect();
    out.sort();
    out
}

/// Temporary files or folders left beside `path` by writers that died (crash or kill -9).
pub fn stale_temps(path: &Path) -> Vec<PathBuf> {
    siblings(path, "tmp").into_iter().filter(|(p, pid)| is_stale(p, *pid)).map(|(p, _)| p).collect()
}

/// Removes [`stale_temps`] of `path`; returns how many were removed.
pub fn remove_stale_temps(path: &Path) -> usize {
    let mut n = 0;
    for p in stale_temps(path) {
        let removed = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
        n += usize::from(removed.is_ok());
    }
    n
}

/// Repairs what a crash during a folder swap of `dest` left: when `dest` is missing and the old
/// folder was moved aside (`.<name>.old-*`), puts it back; removes old folders whose swap
/// finished and temporary folders of dead writers. Returns whether it changed anything.
pub fn recover_dir(dest: &Path) -> Result<bool> {
    let mut changed = false;
    let olds: Vec<(PathBuf, u32)> = siblings(dest, "old").into_iter().filter(|(p, pid)| is_stale(p, *pid)).collect();
    if !dest.exists()
        && let Some((newest, _)) = olds.last()
    {
        fs::rename(newest, dest).map_err(|e| ArtifactError::io("restoring", dest, e))?;
        sync_dir(parent_of(dest));
        changed = true;
    }
    for (p, _) in &olds {
        if p.exists() {
            let _ = fs::remove_dir_all(p);
            changed = true;
        }
    }
    changed |= remove_stale_temps(dest) > 0;
    Ok(changed)
}

/// `dest` after [`recover_dir`], or `None` when there is no such folder: what a reader calls
/// before reading a folder that is written with [`StagedDir`].
pub fn open_dir(dest: &Path) -> Result<Option<PathBuf>> {
    recover_dir(dest)?;
    Ok(dest.is_dir().then(|| dest.to_path_buf()))
}

/// A folder being written: fill [`path`](Self::path), then [`commit`](Self::commit) swaps it in
/// place of the destination atomically. Dropped without a commit, it is removed and the
/// destination is untouched.
#[derive(Debug)]
pub struct StagedDir {
    dest: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl StagedDir {
    /// Starts writing a new version of `dest` (recovering `dest` first, creating its parent).
    pub fn new(dest: &Path) -> Result<Self> {
        create_dir(parent_of(dest))?;
        recover_dir(dest)?;
        let tmp = sibling(dest, "tmp");
        in_flight(&tmp, true);
        if let Err(e) = fs::create_dir(&tmp) {
            in_flight(&tmp, false);
            return Err(ArtifactError::io("creating folder", &tmp, e));
        }
        Ok(Self { dest: dest.to_path_buf(), tmp, done: false })
    }

    /// The temporary folder to fill.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The folder it will replace.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Writes `bytes` to `name` inside the folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let p = self.tmp.join(name);
        fs::write(&p, bytes).map_err(|e| ArtifactError::io("writing", &p, e))
    }

    /// Writes `value` as pretty JSON to `name` inside the folder.
    pub fn write_json<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<()> {
        let p = self.tmp.join(name);
        let text = serde_json::to_vec_pretty(value).map_err(|e| ArtifactError::invalid(&p, e))?;
        self.write(name, &text)
    }

    /// Syncs every file, swaps the folder into place and removes the previous one. Returns the
    /// destination. On an error before the swap the previous folder is untouched; when the final
    /// rename fails, the previous folder is moved back.
    pub fn commit(mut self) -> Result<PathBuf> {
        sync_tree(&self.tmp)?;
        let parent = parent_of(&self.dest).to_path_buf();
        self.crash_point(FailPoint::DirBeforeSwap)?;
        let old = sibling(&self.dest, "old");
        let had_old = self.dest.exists();
        if had_old {
            in_flight(&old, true);
            fs::rename(&self.dest, &old).map_err(|e| ArtifactError::io("moving aside", &self.dest, e))?;
        }
        if let Err(e) = self.crash_point(FailPoint::DirBetweenRenames) {
            in_flight(&old, false);
            return Err(e);
        }
        if let Err(e) = fs::rename(&self.tmp, &self.dest) {
            if had_old {
                let _ = fs::rename(&old, &self.dest);
                in_flight(&old, false);
            }
            return Err(ArtifactError::io("renaming into place", &self.dest, e));
        }
        self.done = true;
        in_flight(&self.tmp, false);
        sync_dir(&parent);
        if had_old {
            if let Err(e) = fail_point(FailPoint::DirBeforeCleanup) {
                in_flight(&old, false);
                return Err(e);
            }
            let _ = fs::remove_dir_all(&old);
            in_flight(&old, false);
        }
        Ok(self.dest.clone())
    }

    /// An injected crash: leave everything on disk as it is.
    fn crash_point(&mut self, at: FailPoint) -> Result<()> {
        fail_point(at).inspect_err(|_| {
            self.done = true;
            in_flight(&self.tmp, false);
        })
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
            in_flight(&self.tmp, false);
        }
    }
}

/// fsyncs every file under `dir` and the folders themselves.
fn sync_tree(dir: &Path) -> Result<()> {
    let rd = fs::read_dir(dir).map_err(|e| ArtifactError::io("reading folder", dir, e))?;
    for e in rd {
        let e = e.map_err(|e| ArtifactError::io("reading folder", dir, e))?;
        let p = e.path();
        if p.is_dir() {
            sync_tree(&p)?;
        } else {
            let f = File::open(&p).map_err(|e| ArtifactError::io("opening", &p, e))?;
            f.sync_all().map_err(|e| ArtifactError::io("syncing", &p, e))?;
        }
    }
    sync_dir(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn file_write_replaces_and_failed_write_keeps_old() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        write_atomic(&p, b"old").unwrap();
        let err = write_atomic_with::<ArtifactError, _>(&p, |w, _| {
            w.write_all(b"half-written").unwrap();
            Err(ArtifactError::invalid("x", "boom"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(names(dir.path()), ["x.txt"]);
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
    }

    #[test]
    fn file_crash_before_rename_keeps_old_and_next_write_cleans_the_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_json(&p, &serde_json::json!({"v": 1})).unwrap();
        inject_failure(Some(FailPoint::FileBeforeRename));
        let e = write_json(&p, &serde_json::json!({"v": 2})).unwrap_err();
        assert!(matches!(e, ArtifactError::Injected(FailPoint::FileBeforeRename)));
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\n  \"v\": 1\n}");
        assert_eq!(stale_temps(&p).len(), 1, "the crash leaves its temp file");
        write_json(&p, &serde_json::json!({"v": 3})).unwrap();
        assert_eq!(names(dir.path()), ["x.json"]);
        assert!(fs::read_to_string(&p).unwrap().contains('3'));
    }

    #[test]
    fn a_file_in_the_way_of_the_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), "x").unwrap();
        let e = write_atomic(&dir.path().join("f/y.txt"), b"1").unwrap_err().to_string();
        assert!(e.contains("creating folder") && e.contains("not a folder"), "{e}");
    }

    fn staged(dest: &Path, content: &str) -> StagedDir {
        let s = StagedDir::new(dest).unwrap();
        s.write("a.txt", content.as_bytes()).unwrap();
        fs::create_dir(s.path().join("sub")).unwrap();
        fs::write(s.path().join("sub/b.txt"), content).unwrap();
        s
    }

    fn read(dest: &Path) -> String {
        fs::read_to_string(dest.join("a.txt")).unwrap() + &fs::read_to_string(dest.join("sub/b.txt")).unwrap()
    }

    #[test]
    fn dir_swap_replaces_whole_folder() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        staged(&dest, "1").commit().unwrap();
        assert_eq!(read(&dest), "11");
        let s = staged(&dest, "2");
        s.write("extra", b"x").unwrap();
        s.commit().unwrap();
        assert_eq!(read(&dest), "22");
        assert_eq!(names(dir.path()), ["m"]);
    }

    #[test]
    fn dropped_stage_leaves_old_folder_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        staged(&dest, "1").commit().unwrap();
        drop(staged(&dest, "2"));
        assert_eq!(read(&dest), "11");
        assert_eq!(names(dir.path()), ["m"]);
    }

    #[test]
    fn every_crash_point_leaves_old_or_new_and_recovery_cleans_up() {
        for (at, expect) in [
            (FailPoint::DirBeforeSwap, "11"),
            (FailPoint::DirBetweenRenames, "11"),
            (FailPoint::DirBeforeCleanup, "22"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join("m");
            staged(&dest, "1").commit().unwrap();
            let s = staged(&dest, "2");
            inject_failure(Some(at));
            let e = s.commit().unwrap_err();
            assert!(matches!(e, ArtifactError::Injected(p) if p == at), "{at:?}: {e}");
            assert!(names(dir.path()).len() > 1, "{at:?}: the crash leaves something behind");
            if at == FailPoint::DirBetweenRenames {
                assert!(!dest.exists(), "between the renames there is no folder at the target");
            }
            let opened = open_dir(&dest).unwrap();
            assert_eq!(opened.as_deref(), Some(dest.as_path()), "{at:?}");
            assert_eq!(read(&dest), expect, "{at:?}");
            assert_eq!(names(dir.path()), ["m"], "{at:?}: no temp or old folder left");
        }
    }

    #[test]
    fn first_write_crash_leaves_nothing_after_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        let s = staged(&dest, "1");
        inject_failure(Some(FailPoint::DirBeforeSwap));
        assert!(s.commit().is_err());
        assert_eq!(open_dir(&dest).unwrap(), None);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn temps_of_live_writers_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        let s = staged(&dest, "1");
        assert!(!recover_dir(&dest).unwrap());
        assert!(s.path().exists());
        s.commit().unwrap();
    }

    #[test]
    fn sibling_names_parse() {
        assert_eq!(sibling_pid(".m.tmp-123-4", "m", "tmp"), Some(123));
        assert_eq!(sibling_pid(".m.old-123-4", "m", "tmp"), None);
        assert_eq!(sibling_pid(".mm.tmp-123-4", "m", "tmp"), None);
        assert_eq!(sibling_pid(".m.tmp-123", "m", "tmp"), None);
    }
}
