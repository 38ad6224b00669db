//! Builds the kernel side of the sensor.
//!
//! 1. `vmlinux.h` is generated from the running kernel's BTF (`/sys/kernel/btf/vmlinux`, or `MAMORU_VMLINUX_BTF`)
//!    with `bpftool`, so the CO-RE program is compiled against real kernel types; libbpf relocates field offsets at
//!    load time on other kernels.
//! 2. Generated C headers keep the kernel side free of hand-copied numbers: `ppme.h` (scap event codes and parameter
//!    counts, from the `mamoru-event` event table), `nr_x86_64.h` (x86_64 syscall numbers, from `mamoru_event::ppm_sc`)
//!    and `handlers.h` (which handler program each syscall is tail-called into, from `data/handlers.tsv`).
//! 3. `libbpf-cargo` compiles `bpf/sensor.bpf.c` with clang and generates the skeleton that embeds the object.
//! 4. The same two data files become static Rust tables (`syscalls.rs`) for the user side.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use libbpf_cargo::SkeletonBuilder;

const BPF_SRC: &str = "bpf/sensor.bpf.c";
const HANDLERS_TSV: &str = "data/handlers.tsv";
const DEFAULT_BTF: &str = "/sys/kernel/btf/vmlinux";

fn main() {
    if let Err(msg) = run() {
        // A build script reports failure by exiting non-zero; the message is what the user sees.
        eprintln!("mamoru-sensor build failed: {msg}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "x86_64" {
        return Err(format!(
            "the eBPF sensor supports x86_64 only (target arch is {arch:?}): its syscall table and register layout are x86_64"
        ));
    }
    for p in [BPF_SRC, HANDLERS_TSV, "bpf"] {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-env-changed=MAMORU_VMLINUX_BTF");
    println!("cargo:rerun-if-env-changed=MAMORU_BPF_CLANG");

    generate_vmlinux_h(&out)?;
    let syscalls = read_syscalls()?;
    let handlers = read_handlers(&syscalls)?;
    write(&out.join("ppme.h"), &ppme_header())?;
    write(&out.join("nr_x86_64.h"), &nr_header(&syscalls))?;
    write(&out.join("handlers.h"), &handlers_header(&handlers))?;
    write(&out.join("syscalls.rs"), &rust_tables(&syscalls, &handlers)?)?;

    let skel = out.join("sensor.skel.rs");
    let mut builder = SkeletonBuilder::new();
    builder.source(BPF_SRC).clang_args([
        format!("-I{}", out.display()),
        "-Ibpf".to_string(),
        "-Wall".to_string(),
        "-Wno-unused-function".to_string(),
        "-Werror".to_string(),
    ]);
    if let Ok(clang) = env::var("MAMORU_BPF_CLANG") {
        builder.clang(clang);
    }
    builder
        .build_and_generate(&skel)
        .map_err(|e| format!("compiling {BPF_SRC} with clang failed: {e:#}"))?;
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Runs `bpftool btf dump file <btf> format c` into `OUT_DIR/vmlinux.h`.
fn generate_vmlinux_h(out: &Path) -> Result<(), String> {
    let btf = env::var("MAMORU_VMLINUX_BTF").unwrap_or_else(|_| DEFAULT_BTF.to_string());
    if !Path::new(&btf).exists() {
        return Err(format!(
            "kernel BTF not found at {btf}: the sensor is compiled against the kernel's BTF (CONFIG_DEBUG_INFO_BTF=y); \
             set MAMORU_VMLINUX_BTF to a BTF file of a kernel with BTF"
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

struct Syscall {
    nr: u32,
    name: String,
    ppm_sc: u16,
}

/// Every syscall scap knows (`ppm_sc`) that exists on x86_64, with its native number.
fn read_syscalls() -> Result<Vec<Syscall>, String> {
    use mamoru_event::ppm_sc;
    let mut rows: Vec<Syscall> = ppm_sc::all_syscalls()
        .filter_map(|(code, name)| {
            ppm_sc::x86_64_nr(code).map(|nr| Syscall {
                nr,
                name: name.to_string(),
                ppm_sc: code,
            })
        })
        .collect();
    rows.sort_by_key(|s| s.nr);
    if let Some(w) = rows.windows(2).find(|w| w[0].nr == w[1].nr) {
        return Err(format!(
            "mamoru_event::ppm_sc maps {} and {} to x86_64 number {}",
            w[0].name, w[1].name, w[0].nr
        ));
    }
    Ok(rows)
}

struct Handler {
    syscall: String,
    nr: u32,
    event: String,
    code: u16,
    prog: String,
}

fn read_handlers(syscalls: &[Syscall]) -> Result<Vec<Handler>, String> {
    let text = fs::read_to_string(HANDLERS_TSV).map_err(|e| format!("reading {HANDLERS_TSV}: {e}"))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        let at = format!("{HANDLERS_TSV}:{}", i + 1);
        if cols.len() != 3 {
            return Err(format!("{at}: expected `syscall event_enum bpf_program`, got {line:?}"));
        }
        let nr = syscalls
            .iter()
            .find(|s| s.name == cols[0])
            .map(|s| s.nr)
            .ok_or_else(|| format!("{at}: unknown x86_64 syscall {}", cols[0]))?;
        let code = mamoru_event_code(cols[1]).ok_or_else(|| format!("{at}: unknown scap event {}", cols[1]))?;
        out.push(Handler {
            syscall: cols[0].to_string(),
            nr,
            event: cols[1].to_string(),
            code,
            prog: cols[2].to_string(),
        });
    }
    Ok(out)
}

fn mamoru_event_code(enum_name: &str) -> Option<u16> {
    mamoru_event::event_table()
        .iter()
        .find(|e| e.enum_name == enum_name)
        .map(|e| e.code)
}

/// `#define PPME_X code` and `#define PPME_X_NP nparams` for every event of the table.
fn ppme_header() -> String {
    let mut s = String::from("/* Generated by build.rs from the mamoru-event table. */\n#pragma once\n");
    for e in mamoru_event::event_table() {
        if e.enum_name == "NA" || e.enum_name.is_empty() {
            continue;
        }
        let _ = writeln!(s, "#define {} {}", e.enum_name, e.code);
        let _ = writeln!(s, "#define {}_NP {}", e.enum_name, e.params.len());
    }
    let _ = writeln!(s, "#define PPM_EVENT_MAX {}", mamoru_event::PPM_EVENT_MAX);
    s
}

fn nr_header(syscalls: &[Syscall]) -> String {
    let mut s = String::from("/* Generated by build.rs from mamoru_event::ppm_sc. */\n#pragma once\n");
    for sc in syscalls {
        let _ = writeln!(s, "#define NR_{} {}", sc.name, sc.nr);
    }
    s
}

/// The designated initializer of the tail-call table: `[nr] = (void *)&program,`.
fn handlers_header(handlers: &[Handler]) -> String {
    let mut s = String::from("/* Generated by build.rs from data/handlers.tsv. */\n#pragma once\n");
    s.push_str("#define SYSCALL_HANDLER_ENTRIES \\\n");
    for h in handlers {
        let _ = writeln!(
            s,
            "\t[{}] = (void *)&{}, /* {} -> {} */ \\",
            h.nr, h.prog, h.syscall, h.event
        );
    }
    s.push('\n');
    s
}

fn rust_tables(syscalls: &[Syscall], handlers: &[Handler]) -> Result<String, String> {
    let mut by_nr: BTreeMap<u32, &Syscall> = BTreeMap::new();
    for sc in syscalls {
        if by_nr.insert(sc.nr, sc).is_some() {
            return Err(format!("x86_64 syscall number {} appears twice", sc.nr));
        }
    }
    let mut s = String::from("// Generated by build.rs from mamoru_event::ppm_sc and data/handlers.tsv.\n");
    s.push_str("/// Every x86_64 syscall scap knows: `(native nr, name, ppm_sc code)`, sorted by number.\n");
    s.push_str("pub static SYSCALLS: &[(u32, &str, u16)] = &[\n");
    for sc in by_nr.values() {
        let _ = writeln!(s, "    ({}, {:?}, {}),", sc.nr, sc.name, sc.ppm_sc);
    }
    s.push_str("];\n");
    s.push_str(
        "/// Syscalls with a dedicated kernel handler: `(native nr, exit event code)`; others emit `GENERIC_X`.\n",
    );
    s.push_str("pub static HANDLED: &[(u32, u16)] = &[\n");
    for h in handlers {
        let _ = writeln!(s, "    ({}, {}),", h.nr, h.code);
    }
    s.push_str("];\n");
    Ok(s)
}
