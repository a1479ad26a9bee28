//! The one place that turns a `--device` choice into a burn [`Device`](burn::tensor::Device).
//!
//! `cpu` is burn's pure-Rust `flex` backend and always available. `wgpu` (Vulkan/Metal/DX12),
//! `cuda` (CubeCL; its build downloads an LLVM bundle, so it builds only with network access) and
//! `tch` (libtorch) need the cargo feature of the same name.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// A backend choice, as written on the command line or in a config file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum DeviceKind {
    /// burn's `flex` CPU backend (default).
    #[default]
    Cpu,
    /// The `wgpu` backend's default adapter (feature `wgpu`).
    Wgpu,
    /// CUDA device 0 through CubeCL (feature `cuda`).
    Cuda,
    /// libtorch on CUDA if present, else CPU (feature `tch`).
    Tch,
}

impl DeviceKind {
    /// `"cpu"`, `"wgpu"`, `"cuda"` or `"tch"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
            Self::Tch => "tch",
        }
    }

    /// Opens the device. Fails with a message naming the missing cargo feature when the backend
    /// is not compiled in.
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::flex()),
            Self::Wgpu => wgpu(),
            Self::Cuda => cuda_at(0),
            Self::Tch => tch_at(0),
        }
    }
}

impl DeviceKind {
    /// Opens the device that `--devices` names for this backend: none → [`DeviceKind::device`]
    /// (the backend's default), one index → [`DeviceKind::device_at`]. Several indices are an
    /// error: vane trains on **one device per process** (see [`MULTI_DEVICE`]).
    pub fn open(self, indices: &[usize]) -> Result<Device> {
        match indices {
            [] => self.device(),
            [i] => self.device_at(*i),
            many => Err(ModelError::Devices(format!(
                "{} devices asked of the {self} backend ({}); {MULTI_DEVICE}",
                many.len(),
                many.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
            ))),
        }
    }

    /// The `index`-th device of this backend, as [`list_devices`] (`vane devices`) numbers them.
    /// The CPU backend is one device that uses every core, so only index 0 exists there.
    pub fn device_at(self, index: usize) -> Result<Device> {
        match self {
            Self::Cpu if index == 0 => Ok(Device::flex()),
            Self::Cpu => Err(ModelError::Devices(format!(
                "the cpu backend is one device (index 0) that already uses every core \
                 (RAYON_NUM_THREADS caps the threads); asked for index {index}"
            ))),
            Self::Wgpu => wgpu_at(index),
            Self::Cuda => cuda_at(index),
            Self::Tch => tch_at(index),
        }
    }
}

/// What vane does with several GPUs, in one sentence (the error `--devices 0,1` prints; the same
/// as docs/models.md "Several devices").
pub const MULTI_DEVICE: &str = "vane trains one model on one device per process: burn 0.22's \
     data-parallel strategy (burn-train's DDP) runs only on CUDA with NCCL, and vane's trainer does \
     not use it. Run one training per device instead (`--devices 0` in one process, `--devices 1` \
     in another, e.g. one symbol or config each); see docs/models.md, \"Several devices\"";

/// One device a backend of this build can reach, as `vane devices` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// The backend.
    pub kind: DeviceKind,
    /// The index `--devices` takes.
    pub index: usize,
    /// What the backend reports about the device (adapter name and type, or the thread count).
    pub description: String,
}

/// Every device of every backend compiled into this build: `cpu` always (one device, with the
/// number of threads it will use), and for `wgpu` each adapter the runtime finds. Opening the GPU
/// adapters initialises their runtimes, so call this once.
pub fn list_devices() -> Vec<DeviceInfo> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let threads = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(threads);
    let mut out = vec![DeviceInfo {
        kind: DeviceKind::Cpu,
        index: 0,
        description: format!("flex (pure-Rust CPU backend), {threads} threads"),
    }];
    out.extend(gpu_devices());
    out
}

#[cfg(feature = "wgpu")]
fn wgpu_list() -> Vec<Device> {
    Device::enumerate(burn::tensor::DeviceType::Wgpu).to_vec()
}

#[cfg(feature = "wgpu")]
fn gpu_devices() -> Vec<DeviceInfo> {
    wgpu_list()
        .iter()
        .enumerate()
        .map(|(index, d)| {
            let description = match d.identity() {
                Some(id) => format!(
                    "{} [{}]{}",
                    id.name,
                    id.fingerprint,
                    if id.physical.is_some() { "" } else { " (no card: a software or CPU adapter)" }
                ),
                None => format!("{d:?}"),
            };
            DeviceInfo { kind: DeviceKind::Wgpu, index, description }
        })
        .collect()
}
#[cfg(not(feature = "wgpu"))]
fn gpu_devices() -> Vec<DeviceInfo> {
    Vec::new()
}

#[cfg(feature = "wgpu")]
fn wgpu_at(index: usize) -> Result<Device> {
    let all = wgpu_list();
    let n = all.len();
    all.into_iter().nth(index).ok_or_else(|| {
        ModelError::Devices(format!(
            "wgpu device {index} asked for, this machine has {n} (0..{n}); `vane devices` lists them"
        ))
    })
}
#[cfg(not(feature = "wgpu"))]
fn wgpu_at(_index: usize) -> Result<Device> {
    Err(missing("wgpu"))
}

#[cfg(feature = "cuda")]
fn cuda_at(index: usize) -> Result<Device> {
    Ok(Device::cuda(index))
}
#[cfg(not(feature = "cuda"))]
fn cuda_at(_index: usize) -> Result<Device> {
    Err(missing("cuda"))
}

#[cfg(feature = "tch")]
#[allow(deprecated)]
fn tch_at(index: usize) -> Result<Device> {
    Ok(Device::libtorch_cuda(index))
}
#[cfg(not(feature = "tch"))]
fn tch_at(_index: usize) -> Result<Device> {
    Err(missing("tch"))
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" | "flex" => Ok(Self::Cpu),
            "wgpu" | "vulkan" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda),
            "tch" | "libtorch" => Ok(Self::Tch),
            other => Err(ModelError::Device(format!("unknown device {other:?} (expected cpu, wgpu, cuda or tch)"))),
        }
    }
}

fn missing(feature: &str) -> ModelError {
    ModelError::Device(format!(
        "the {feature} backend is not compiled in; rebuild with `--features {feature}` (see docs/models.md)"
    ))
}

#[cfg(feature = "wgpu")]
fn wgpu() -> Result<Device> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}
#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Result<Device> {
    Err(missing("wgpu"))
}
