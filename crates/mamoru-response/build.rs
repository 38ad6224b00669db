//! Builds the kernel side of drift control and the host copy of its decision.
//!
//! 1. `vmlinux.h` from the running kernel's BTF (`/sys/kernel/btf/vmlinux`, or `MAMORU_VMLINUX_BTF`) with `bpftool`.
//! 2. `libbpf-cargo` compiles `bpf/drift.bpf.c` (BPF LSM + exec-kill programs) and generates the skeleton that
//!    embeds the object.
//! 3. `cc` compiles `bpf/decide_host.c`, the kernel's `drift_decide()` for the host, so the unit tests check the
//!    kernel decision against the Rust one the fanotify listener uses.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use libbpf_cargo::SkeletonBuilder;

const BPF_SRC: &str = "bpf/drift.bpf.c";
const DEFAULT_BTF: &str = "/sys/kernel/btf/vmlinux";

fn main() {
    if let Err(msg) = run() {
        eprintln!("mamoru-response build failed: {msg}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "x86_64" {
        return Err(format!(
            "drift control's BPF programs support x86_64 only (target arch is {arch:?})"
        ));
    }
    println!("cargo:rerun-if-changed=bpf");
    println!("cargo:rerun-if-env-changed=MAMORU_VMLINUX_BTF");
    println!("cargo:rerun-if-env-changed=MAMORU_BPF_CLANG");

    generate_vmlinux_h(&out)?;
    let mut builder = SkeletonBuilder::new();
    builder.source(BPF_SRC).clang_args([
        format!("-I{}", out.display()),
        "-Ibpf".to_string(),
        "-Wall".to_string(),
        "-Werror".to_string(),
    ]);
    if let Ok(clang) = env::var("MAMORU_BPF_CLANG") {
        builder.clang(clang);
    }
    builder
        .build_and_generate(out.join("drift.skel.rs"))
        .map_err(|e| format!("compiling {BPF_SRC} with clang failed: {e:#}"))?;

    cc::Build::new()
        .file("bpf/decide_host.c")
        .include("bpf")
        .warnings_into_errors(true)
        .try_compile("mamoru_drift_decide")
        .map_err(|e| format!("compiling bpf/decide_host.c: {e}"))?;
    Ok(())
}

/// Runs `bpftool btf dump file <btf> format c` into `OUT_DIR/vmlinux.h`.
fn generate_vmlinux_h(out: &Path) -> Result<(), String> {
    let btf = env::var("MAMORU_VMLINUX_BTF").unwrap_or_else(|_| DEFAULT_BTF.to_string());
    if !Path::new(&btf).exists() {
        return Err(format!(
            "kernel BTF not found at {btf}: set MAMORU_VMLINUX_BTF to the BTF file of a kernel built with BTF"
        ));
    }
    let output = Command::new("bpftool")
        .args(["btf", "dump", "file", &btf, "format", "c"])
        .output()
        .map_err(|e| format!("running bpftool (install it, e.g. `apt-get install bpftool`): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "bpftool btf dump of {btf} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    fs::write(out.join("vmlinux.h"), &output.stdout).map_err(|e| format!("writing vmlinux.h: {e}"))
}
