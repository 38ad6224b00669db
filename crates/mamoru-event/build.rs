//! Turns `data/scap-event-table.tsv` (the scap event schema, one row per event code) into a static Rust table,
//! so the event layout is data in one place and never hand-copied into code.
use std::{env, fmt::Write as _, fs, path::Path};

fn main() {
    let src = Path::new("data/scap-event-table.tsv");
    println!("cargo:rerun-if-changed={}", src.display());
    let text = fs::read_to_string(src).expect("read data/scap-event-table.tsv");
    let mut params_out = String::new();
    let mut events_out = String::new();
    let mut count = 0usize;
    for line in text.lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 7, "bad event table row: {line}");
        let code: u16 = cols[0].parse().expect("event code");
        assert_eq!(code as usize, count, "event table rows must be dense and ordered");
        let (enum_name, name, dir, category, flags) = (cols[1], cols[2], cols[3], cols[4], cols[5]);
        let params_text = cols.get(7).copied().unwrap_or("");
        let mut params = Vec::new();
        for p in params_text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let parts: Vec<&str> = p.split(':').collect();
            assert!(parts.len() == 3, "bad param spec {p} in {enum_name}");
            params.push(format!(
                "ParamInfo {{ name: {:?}, ty: ParamType::{}, fmt: ParamFormat::{} }}",
                parts[0],
                camel(parts[1].trim_start_matches("PT_")),
                camel(parts[2].trim_start_matches("PF_")),
            ));
        }
        writeln!(params_out, "const P{code}: &[ParamInfo] = &[{}];", params.join(", ")).unwrap();
        let flag_expr = bit_expr(flags, "EF_", "flags");
        let cat_expr = bit_expr(category, "EC_", "cat");
        writeln!(
            events_out,
            "    EventInfo {{ code: {code}, enum_name: {enum_name:?}, name: {name:?}, dir: Direction::{}, category: {cat_expr}, flags: {flag_expr}, params: P{code} }},",
            if dir == "E" { "Enter" } else { "Exit" },
        )
        .unwrap();
        count += 1;
    }
    let out = format!(
        "{params_out}\n/// Every scap event code, indexed by code.\npub static EVENT_TABLE: [EventInfo; {count}] = [\n{events_out}];\n"
    );
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("event_table.rs");
    fs::write(dest, out).unwrap();
}

fn camel(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

fn bit_expr(text: &str, prefix: &str, module: &str) -> String {
    let parts: Vec<String> = text
        .split('|')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| format!("{module}::{}", t.trim_start_matches(prefix)))
        .collect();
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join(" | ")
    }
}
