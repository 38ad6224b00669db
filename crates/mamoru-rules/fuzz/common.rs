// The fuzz target bodies, shared by the cargo-fuzz targets and the stable-Rust smoke runner
// (crates/mamoru-rules/tests/fuzz_smoke.rs). Each panics only when an invariant is broken.

/// Arbitrary bytes as a rules file: loading never panics, and every loaded condition prints to text that parses
/// back to the same printed form.
pub fn load_rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = mamoru_rules::LoadOptions::with_sources(["syscall", "k8s_audit"]);
    let loaded = mamoru_rules::load_str("fuzz.yaml", text, &opts);
    for d in &loaded.diagnostics {
        let _ = d.to_string();
    }
    assert_eq!(
        loaded.has_errors(),
        loaded
            .diagnostics
            .iter()
            .any(|d| d.severity == mamoru_rules::Severity::Error)
    );
    for r in &loaded.rules {
        check_round_trip(&r.condition);
    }
}

/// Arbitrary bytes as a condition: parsing never panics, and what parses prints to text that parses back to the
/// same printed form.
pub fn parse_condition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = mamoru_rules::parse_condition(text) {
        check_round_trip(&expr);
    }
}

fn check_round_trip(expr: &mamoru_rules::ast::Expr) {
    let printed = expr.to_string();
    match mamoru_rules::parse_condition(&printed) {
        Ok(again) => assert_eq!(again.to_string(), printed, "printing is not a fixed point"),
        Err(e) => panic!("printed condition {printed:?} does not parse: {e}"),
    }
}
