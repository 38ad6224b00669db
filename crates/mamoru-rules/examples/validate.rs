//! Loads rules files and prints diagnostics and a summary: `cargo run --example validate -- FILE...`.
use mamoru_rules::{load_files, LoadOptions};

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let opts = LoadOptions::with_sources([
        "syscall",
        "k8s_audit",
        "aws_cloudtrail",
        "okta",
        "github",
        "gcp_auditlog",
    ]);
    let loaded = load_files(&paths, &opts);
    for d in &loaded.diagnostics {
        println!("{d}");
    }
    for r in &loaded.rules {
        println!("rule {:?}: {}", r.name, r.condition);
    }
    println!(
        "{} rules, {} macros, {} lists, errors: {}",
        loaded.rules.len(),
        loaded.macros.len(),
        loaded.lists.len(),
        loaded.has_errors()
    );
}
