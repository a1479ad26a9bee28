//! `--resume` for L1, per horizon (seed 000's `train_offline --resume`).
//!
//! Every L1 horizon's result is kept in a state folder `<dir>/<H>s/` (by the CLI
//! `<artifacts>/stack_resume/<SYMBOL>/l1/<H>s/`):
//!
//! ```text
//! fingerprint.json   what the horizon depended on (L1Fingerprint)
//! l1/                the final model (Net::save: model.bpk, net.json, model_epoch_*)
//! l1.run             per grid bar: the out-of-fold (tail: final) output and its producer; per
//!                    decision row: usable; per model: the grid bars it trained on
//! meta/, meta.run    the same for the meta head, when trained
//! complete.json      written last: the fingerprint's hash and every file's size
//! ```
//!
//! The folder is written as `<H>s.partial/` and renamed into place only after `complete.json`,
//! so a run killed mid-way leaves no folder that looks complete. A resumed horizon is used only
//! when `complete.json` is there, every file has its recorded size and the stored fingerprint
//! equals the new one; otherwise it is retrained (the progress line says why).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vane_artifact::ArtifactError;

use crate::config::{NetConfig, StackConfig};
use crate::error::{Result, StackingError};
use crate::features::RAW_NAMES;
use crate::net::Net;
use crate::train::{Layout, LevelRun};

/// Format of a state folder; a change retrains every horizon.
pub const RESUME_FORMAT_VERSION: u32 = 1;

/// Where `--resume` keeps the L1 state of a symbol: `<artifacts>/stack_resume/<SYMBOL>/l1`.
pub fn resume_dir(artifacts_dir: &Path, symbol: &str) -> PathBuf {
    artifacts_dir.join("stack_resume").join(symbol).join("l1")
}

/// How training treats the per-horizon L1 state.
#[derive(Clone, Debug, Default)]
pub struct L1Resume {
    /// The state folder (`None`: nothing is kept, every horizon trains).
    pub dir: Option<PathBuf>,
    /// Reuse complete state whose fingerprint matches (`--resume`); without it every horizon
    /// trains and its state is rewritten.
    pub resume: bool,
}

impl L1Resume {
    /// No state kept.
    pub fn none() -> Self {
        Self::default()
    }

    /// State kept in `dir`, reused when `resume`.
    pub fn at(dir: impl Into<PathBuf>, resume: bool) -> Self {
        Self { dir: Some(dir.into()), resume }
    }

    /// The state folder of horizon `h`.
    pub fn horizon_dir(&self, h: usize) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{h}s")))
    }
}

/// What one L1 horizon depended on. Two runs whose fingerprints are equal produce the same L1
/// outputs, so a resumed run gives L2 and L3 the inputs of an uninterrupted one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct L1Fingerprint {
    /// [`RESUME_FORMAT_VERSION`].
    pub format: u32,
    /// Crate version (feature code).
    pub crate_version: String,
    /// Symbol.
    pub symbol: String,
    /// Grid interval.
    pub interval: String,
    /// Grid bars, first and last open time, and a 64-bit FNV-1a hash of every OHLCV value and
    /// filled flag.
    pub data: DataPrint,
    /// Raw feature names (the L1 inputs).
    pub features: Vec<String>,
    /// Horizon, seconds.
    pub horizon: usize,
    /// Window.
    pub seq_len: usize,
    /// Dead-zone half-width and weight (the labels).
    pub deadzone: (f64, f64),
    /// Whether labels were shuffled.
    pub permute_labels: bool,
    /// The network.
    pub net: NetConfig,
    /// The meta head (window, epochs, high period), when trained.
    pub meta: Option<(usize, usize, usize)>,
    /// Seed.
    pub seed: u64,
    /// The fold layout every level shares.
    pub layout: LayoutPrint,
}

/// The data part of a fingerprint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataPrint {
    /// Grid bars.
    pub bars: usize,
    /// First open time, ms.
    pub first_ms: i64,
    /// Last open time, ms.
    pub last_ms: i64,
    /// FNV-1a 64 over the bits of open time, OHLCV and filled, hex.
    pub hash: String,
}

/// The layout part of a fingerprint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayoutPrint {
    /// First bar of the held-out tail.
    pub n_train: usize,
    /// Decision stride.
    pub stride: usize,
    /// Folds.
    pub k: usize,
    /// Decision rows: count, first, last.
    pub rows: (usize, usize, usize),
    /// Validation rows: count, first.
    pub valid: (usize, usize),
    /// Fold blocks.
    pub blocks: Vec<(usize, usize)>,
}

/// FNV-1a's offset basis: the start of every hash [`fnv`] extends.
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Extends the FNV-1a hash `h` by `bytes` (stable across builds and platforms).
pub(crate) fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

impl DataPrint {
    /// The print of a grid.
    pub fn of(bars: &vane_core::Bars, filled: &[bool]) -> Self {
        let mut h = FNV_OFFSET;
        let t = bars.open_time();
        for (i, &ti) in t.iter().enumerate() {
            fnv(&mut h, &ti.to_le_bytes());
            for v in [bars.open()[i], bars.high()[i], bars.low()[i], bars.close()[i], bars.volume()[i]] {
                fnv(&mut h, &v.to_bits().to_le_bytes());
            }
            fnv(&mut h, &[u8::from(filled.get(i).copied().unwrap_or(false))]);
        }
        Self {
            bars: t.len(),
            first_ms: t.first().copied().unwrap_or(0),
            last_ms: t.last().copied().unwrap_or(0),
            hash: format!("{h:016x}"),
        }
    }
}

impl LayoutPrint {
    /// The print of a layout.
    pub fn of(l: &Layout) -> Self {
        Self {
            n_train: l.n_train,
            stride: l.stride,
            k: l.k,
            rows: (l.d.len(), l.d.first().copied().unwrap_or(0), l.d.last().copied().unwrap_or(0)),
            valid: (l.v.len(), l.v.first().copied().unwrap_or(0)),
            blocks: l.blocks.iter().map(|b| (b.start, b.end)).collect(),
        }
    }
}

impl L1Fingerprint {
    /// The fingerprint of horizon `h` (window `seq_len`) under `cfg` on a grid.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: &StackConfig,
        symbol: &str,
        interval: &str,
        data: &DataPrint,
        layout: &Layout,
        h: usize,
        seq_len: usize,
        permute_labels: bool,
    ) -> Self {
        Self {
            format: RESUME_FORMAT_VERSION,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            symbol: symbol.to_string(),
            interval: interval.to_string(),
            data: data.clone(),
            features: RAW_NAMES.iter().map(|s| s.to_string()).collect(),
            horizon: h,
            seq_len,
            deadzone: (cfg.l1.deadzone_eps, cfg.l1.deadzone_weight),
            permute_labels,
            net: cfg.l1.net.clone(),
            meta: cfg.l1.meta_head.then_some((cfg.l1.meta_seq_len, cfg.l1.meta_epochs, cfg.l1.meta_high_period)),
            seed: cfg.data.seed,
            layout: LayoutPrint::of(layout),
        }
    }

    /// The top-level keys whose values differ from `other`'s.
    pub fn differences(&self, other: &Self) -> Vec<String> {
        let (a, b) = (serde_json::to_value(self), serde_json::to_value(other));
        match (a, b) {
            (Ok(Value::Object(a)), Ok(Value::Object(b))) => {
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).cloned().collect()
            }
            _ => vec!["(unreadable)".into()],
        }
    }

    fn hash(&self) -> String {
        let mut h = FNV_OFFSET;
        fnv(&mut h, serde_json::to_string(self).unwrap_or_default().as_bytes());
        format!("{h:016x}")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Complete {
    fingerprint: String,
    files: BTreeMap<String, u64>,
}

fn io(op: &'static str, path: &Path, e: std::io::Error) -> StackingError {
    StackingError::Artifact(ArtifactError::io(op, path, e))
}

fn corrupt(path: &Path, msg: &str) -> StackingError {
    StackingError::Artifact(ArtifactError::invalid(path, msg))
}

const MAGIC: &[u8; 8] = b"VANEL1R1";

fn encode_run(run: &LevelRun) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + run.column.len() * 8 + run.usable.len() + 64);
    b.extend_from_slice(MAGIC);
    let put = |b: &mut Vec<u8>, x: usize| b.extend_from_slice(&(x as u64).to_le_bytes());
    put(&mut b, run.column.len());
    for v in &run.column {
        b.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    for &p in &run.producer {
        b.extend_from_slice(&(if p == usize::MAX { u32::MAX } else { p as u32 }).to_le_bytes());
    }
    put(&mut b, run.usable.len());
    b.extend(run.usable.iter().map(|&u| u8::from(u)));
    put(&mut b, run.trained_on.len());
    for t in &run.trained_on {
        put(&mut b, t.len());
        for &x in t {
            b.extend_from_slice(&(x as u64).to_le_bytes());
        }
    }
    b
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Column, producer, usable, trained_on.
type RunParts = (Vec<f32>, Vec<usize>, Vec<bool>, Vec<Vec<usize>>);

fn decode_run(b: &[u8]) -> Option<RunParts> {
    let mut r = Reader { b, at: 0 };
    if r.take(8)? != MAGIC {
        return None;
    }
    let n = r.u64()? as usize;
    let column = (0..n).map(|_| r.u32().map(f32::from_bits)).collect::<Option<Vec<_>>>()?;
    let producer = (0..n)
        .map(|_| r.u32().map(|p| if p == u32::MAX { usize::MAX } else { p as usize }))
        .collect::<Option<Vec<_>>>()?;
    let m = r.u64()? as usize;
    let usable = r.take(m)?.iter().map(|&u| u != 0).collect();
    let k = r.u64()? as usize;
    let mut trained_on = Vec::with_capacity(k.min(1 << 16));
    for _ in 0..k {
        let len = r.u64()? as usize;
        trained_on.push((0..len).map(|_| r.u64().map(|x| x as usize)).collect::<Option<Vec<_>>>()?);
    }
    (r.at == b.len()).then_some((column, producer, usable, trained_on))
}

/// A level run rebuilt from its state: `oof` from the column exactly as
/// [`crate::train::run_level`] derives it.
fn rebuild(parts: RunParts, net: Net, d: &[usize]) -> Option<LevelRun> {
    let (column, producer, usable, trained_on) = parts;
    if usable.len() != d.len() || d.iter().any(|&t| t >= column.len()) {
        return None;
    }
    let oof = d
        .iter()
        .zip(&usable)
        .map(|(&t, &u)| if u { Some(f64::from(column[t])).filter(|p| p.is_finite()) } else { None })
        .collect();
    Some(LevelRun { column, oof, usable, net, last: None, producer, trained_on })
}

fn files_of(dir: &Path) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| io("listing", &d, e))? {
            let e = e.map_err(|e| io("listing", &d, e))?;
            let p = e.path();
            let md = e.metadata().map_err(|e| io("reading", &p, e))?;
            if md.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel != "complete.json" {
                    out.insert(rel, md.len());
                }
            }
        }
    }
    Ok(out)
}

/// Writes horizon state: `<dir>.partial/` filled, `complete.json` last, then renamed to `dir`
/// (an older `dir` removed first).
pub fn save(dir: &Path, fp: &L1Fingerprint, run: &LevelRun, meta: Option<&LevelRun>) -> Result<()> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = dir.with_file_name(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| io("removing", &partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| io("creating", &partial, e))?;
    vane_artifact::write_versioned(&partial.join("fingerprint.json"), RESUME_FORMAT_VERSION, fp)?;
    run.net.save(&partial.join("l1"), run.last.as_ref())?;
    vane_artifact::write_atomic(&partial.join("l1.run"), &encode_run(run))?;
    if let Some(m) = meta {
        m.net.save(&partial.join("meta"), m.last.as_ref())?;
        vane_artifact::write_atomic(&partial.join("meta.run"), &encode_run(m))?;
    }
    let complete = Complete { fingerprint: fp.hash(), files: files_of(&partial)? };
    vane_artifact::write_versioned(&partial.join("complete.json"), RESUME_FORMAT_VERSION, &complete)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| io("removing", dir, e))?;
    }
    std::fs::rename(&partial, dir).map_err(|e| io("renaming into place", dir, e))?;
    Ok(())
}

/// Why a state folder was not used.
#[derive(Debug)]
pub enum Unusable {
    /// No folder or no `complete.json` (never trained, or killed mid-way).
    Missing,
    /// A file is missing, has another size, or does not decode.
    Incomplete(String),
    /// The fingerprint differs in these keys.
    Differs(Vec<String>),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Missing => write!(f, "no complete state"),
            Unusable::Incomplete(s) => write!(f, "incomplete state ({s})"),
            Unusable::Differs(k) => write!(f, "the stored state was trained under another {}", k.join(", ")),
        }
    }
}

/// Loads horizon state when complete and trained under `fp`: the L1 run and the meta head's.
pub fn load(
    dir: &Path,
    fp: &L1Fingerprint,
    layout: &Layout,
    device: &Device,
) -> Result<std::result::Result<(LevelRun, Option<LevelRun>), Unusable>> {
    let cpath = dir.join("complete.json");
    if !cpath.is_file() {
        return Ok(Err(Unusable::Missing));
    }
    let complete: Complete = match vane_artifact::read_versioned(&cpath, RESUME_FORMAT_VERSION) {
        Ok(c) => c,
        Err(e) => return Ok(Err(Unusable::Incomplete(e.to_string()))),
    };
    let stored: L1Fingerprint =
        match vane_artifact::read_versioned(&dir.join("fingerprint.json"), RESUME_FORMAT_VERSION) {
            Ok(f) => f,
            Err(e) => return Ok(Err(Unusable::Incomplete(e.to_string()))),
        };
    let diff = stored.differences(fp);
    if !diff.is_empty() {
        return Ok(Err(Unusable::Differs(diff)));
    }
    if complete.fingerprint != fp.hash() {
        return Ok(Err(Unusable::Incomplete("complete.json is for another fingerprint".into())));
    }
    let files = files_of(dir)?;
    if files != complete.files {
        return Ok(Err(Unusable::Incomplete("files differ from complete.json's list".into())));
    }
    let read_run = |name: &str, net_dir: &str| -> Result<Option<LevelRun>> {
        let p = dir.join(name);
        let bytes = std::fs::read(&p).map_err(|e| io("reading", &p, e))?;
        let Some(parts) = decode_run(&bytes) else { return Ok(None) };
        if parts.0.len() != layout.n {
            return Ok(None);
        }
        let net = Net::load(&dir.join(net_dir), device)?;
        Ok(rebuild(parts, net, &layout.d))
    };
    let Some(run) = read_run("l1.run", "l1")? else {
        return Ok(Err(Unusable::Incomplete(format!("{} does not decode", dir.join("l1.run").display()))));
    };
    let meta = if fp.meta.is_some() {
        match read_run("meta.run", "meta")? {
            Some(m) => Some(m),
            None => {
                return Ok(Err(Unusable::Incomplete(format!("{} does not decode", dir.join("meta.run").display()))));
            }
        }
    } else {
        None
    };
    Ok(Ok((run, meta)))
}

/// Copies every file of `from` into `to` (created), folders included.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| io("creating", to, e))?;
    for e in std::fs::read_dir(from).map_err(|e| io("listing", from, e))? {
        let e = e.map_err(|e| io("listing", from, e))?;
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest)?;
        } else {
            std::fs::copy(&p, &dest).map_err(|e| io("copying", &p, e))?;
        }
    }
    Ok(())
}

/// A state folder whose content is not what it claims.
pub fn check_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(corrupt(dir, "is not a folder: remove it"));
    }
    Ok(())
}
