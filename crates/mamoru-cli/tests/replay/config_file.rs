//! `mamoru run -c FILE`: a bad configuration stops the agent before anything starts, with the key (and line) named.

use std::process::Command;

const MAMORU: &str = env!("CARGO_BIN_EXE_mamoru");

fn run_with(config: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mamoru.yaml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(MAMORU)
        .args(["run", "--duration", "1", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let (ok, err) = run_with("json_output: true\nfile_outptu:\n  enabled: true\n");
    assert!(!ok);
    assert!(err.contains("line 2: unknown configuration key 'file_outptu'"), "{err}");
    assert!(!err.contains("watching"), "nothing started: {err}");
}

#[test]
fn unknown_nested_key_and_bad_value_are_named() {
    let (ok, err) = run_with("nats_output:\n  enabled: true\n  urll: nats://x\n");
    assert!(!ok);
    assert!(err.contains("urll") && err.contains("line 3"), "{err}");
    let (ok, err) = run_with("http_output:\n  enabled: true\n  url: \"not a url\"\n");
    assert!(!ok);
    assert!(err.contains("http_output") && err.contains("not a url"), "{err}");
    let (ok, err) = run_with("webserver:\n  enabled: true\n  listen_address: 0.0.0.0\n  listen_port: 0\n");
    assert!(!ok);
    assert!(err.contains("webserver") && err.contains("not loopback"), "{err}");
}

#[test]
fn the_shipped_configuration_loads() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/mamoru.yaml");
    let text = std::fs::read_to_string(shipped).unwrap();
    // Past the configuration the agent needs BPF (as root it runs for the one second --duration gives it).
    let (_, err) = run_with(&text);
    assert!(!err.contains("configuration key"), "{err}");
    assert!(!err.contains("mamoru.yaml:"), "{err}");
}
