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
            Self::Cuda => cuda(),
            Self::Tch => tch(),
        }
    }
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

#[cfg(feature = "cuda")]
fn cuda() -> Result<Device> {
    Ok(Device::cuda(0))
}
#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device> {
    Err(missing("cuda"))
}

#[cfg(feature = "tch")]
#[allow(deprecated)]
fn tch() -> Result<Device> {
    Ok(Device::libtorch_cuda(0))
}
#[cfg(not(feature = "tch"))]
fn tch() -> Result<Device> {
    Err(missing("tch"))
}
