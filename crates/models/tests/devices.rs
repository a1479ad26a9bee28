//! `--devices`: one device per process, and a clear error for anything else.

use vane_models::DeviceKind;
use vane_models::device::{MULTI_DEVICE, list_devices};

#[test]
fn no_index_or_index_zero_opens_the_cpu_device() {
    assert!(DeviceKind::Cpu.open(&[]).is_ok());
    assert!(DeviceKind::Cpu.open(&[0]).is_ok());
}

#[test]
fn several_devices_fail_naming_the_flag_and_what_to_do_instead() {
    let e = DeviceKind::Cpu.open(&[0, 1]).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("--devices: 2 devices asked of the cpu backend (0,1)"), "{msg}");
    assert!(msg.contains(MULTI_DEVICE), "{msg}");
    assert!(msg.contains("--devices 0") && msg.contains("--devices 1"), "{msg}");
    assert_eq!(e.class(), vane_core::ErrorClass::Usage);
}

#[test]
fn the_cpu_backend_has_only_index_zero() {
    let e = DeviceKind::Cpu.open(&[1]).unwrap_err().to_string();
    assert!(e.contains("cpu backend is one device (index 0)") && e.contains("asked for index 1"), "{e}");
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn a_gpu_index_without_the_backend_names_the_missing_feature() {
    let e = DeviceKind::Wgpu.open(&[0]).unwrap_err().to_string();
    assert!(e.contains("--features wgpu"), "{e}");
}

#[test]
fn the_device_list_starts_with_the_cpu_device() {
    let all = list_devices();
    assert_eq!(all[0].kind, DeviceKind::Cpu);
    assert_eq!(all[0].index, 0);
    assert!(all[0].description.contains("threads"), "{}", all[0].description);
    #[cfg(not(feature = "wgpu"))]
    assert_eq!(all.len(), 1);
}

/// `vane bench-train --inference`: one window at batch 1, and for the HRM the plain-f32 path too.
#[test]
fn the_inference_bench_times_one_window_and_the_hrm_plain_path() {
    use vane_models::ModelKind;
    use vane_models::bench::{BenchShape, bench_infer};
    for model in [ModelKind::Hrm, ModelKind::CnnLstm, ModelKind::Tft] {
        let shape = BenchShape { model, batch: 64, seq: 12, features: 3, hidden: 8, steps: 5, warmup: 1 };
        let r = bench_infer(&shape, DeviceKind::Cpu, &[]).unwrap();
        assert_eq!((r.model.as_str(), r.seq), (model.as_str(), 12));
        assert!(r.burn_ms_p50 > 0.0 && r.burn_ms_p50 <= r.burn_ms_p99, "{r:?}");
        assert_eq!(r.plain_ms_p50.is_some(), model == ModelKind::Hrm, "{r:?}");
    }
    let zero = BenchShape { model: ModelKind::Hrm, batch: 1, seq: 0, features: 3, hidden: 8, steps: 5, warmup: 0 };
    assert!(bench_infer(&zero, DeviceKind::Cpu, &[]).unwrap_err().to_string().contains("seq must be ≥ 1"));
}
