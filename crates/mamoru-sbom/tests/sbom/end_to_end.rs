//! End to end over the OSV corpus in `../shared/corpus/osv`: a directory tree with a vulnerable PyPI distribution,
//! a Cargo.lock and a Go binary is inventoried, matched, and filtered by an OpenVEX statement.

use mamoru_sbom::{inventory, match_vulns, Database, DirFs, Ecosystem, Vex};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/osv");
    assert!(
        p.is_dir(),
        "OSV corpus missing at {} (the shared/ directory must sit beside the repository)",
        p.display()
    );
    p
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// A Go 1.18+ build-info blob (the linker's inline layout) inside an otherwise meaningless executable.
fn go_binary(go: &str, modinfo: &str) -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0 not really an ELF ".to_vec();
    b.resize(64, 0);
    b.extend_from_slice(b"\xff Go buildinf:\x08\x02");
    b.resize(64 + 32, 0);
    let framed = format!("0123456789abcdef{modinfo}\nfedcba9876543210");
    for s in [go, framed.as_str()] {
        let mut n = s.len();
        while n >= 0x80 {
            b.push((n as u8) | 0x80);
            n >>= 7;
        }
        b.push(n as u8);
        b.extend_from_slice(s.as_bytes());
    }
    b
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "usr/lib/python3/dist-packages/Jinja2-2.10.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n\nbody\n",
    );
    // A fixed version of another package must not match.
    write(
        root,
        "usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\n",
    );
    write(
        root,
        "srv/app/Cargo.lock",
        b"version = 3\n\n[[package]]\nname = \"hyper\"\nversion = \"0.14.9\"\n\
          source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n",
    );
    write(
        root,
        "usr/local/bin/tool",
        &go_binary(
            "go1.12.10",
            "path\texample.com/tool\nmod\texample.com/tool\t(devel)\t\ndep\tgolang.org/x/crypto\tv0.0.0-20200115085410-6d4e4cb37c7d\th1:x=",
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.join("usr/local/bin/tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn database() -> Database {
    let mut db = Database::default();
    for eco in ["pypi", "crates.io", "go"] {
        let stats = db.import(&corpus().join(eco)).unwrap();
        assert!(stats.imported > 100, "{eco}: {stats:?}");
    }
    db
}

#[test]
fn inventory_match_and_vex() {
    let dir = tree();
    let pkgs = inventory(&DirFs::new(dir.path())).unwrap();
    let summary: Vec<String> = pkgs
        .iter()
        .map(|p| format!("{:?} {} {}", p.ecosystem, p.name, p.version))
        .collect();
    assert_eq!(
        summary,
        vec![
            "PyPI Jinja2 2.10",
            "PyPI PyYAML 6.0.1",
            "CratesIo hyper 0.14.9",
            "Go golang.org/x/crypto v0.0.0-20200115085410-6d4e4cb37c7d",
            "Go stdlib v1.12.10",
        ]
    );

    let db = database();
    let mut findings = match_vulns(&db, &pkgs);
    let ids = |eco: Ecosystem, f: &[mamoru_sbom::VulnFinding]| -> BTreeSet<String> {
        f.iter()
            .filter(|f| f.package.ecosystem == eco)
            .map(|f| f.id.clone())
            .collect()
    };
    // Expected sets read off the corpus records (PyPI `versions` lists; crates.io SEMVER ranges).
    assert_eq!(
        ids(Ecosystem::PyPI, &findings),
        BTreeSet::from(["PYSEC-2019-217".into(), "PYSEC-2021-66".into()])
    );
    assert_eq!(
        ids(Ecosystem::CratesIo, &findings),
        BTreeSet::from([
            "RUSTSEC-2021-0078".into(),
            "RUSTSEC-2021-0079".into(),
            "RUSTSEC-2022-0022".into()
        ])
    );
    // GO-2022-0229: stdlib < 1.12.16 and x/crypto before the 2020-01-24 pseudo-version.
    let go = ids(Ecosystem::Go, &findings);
    assert!(go.contains("GO-2022-0229"), "{go:?}");
    let x509 = findings.iter().filter(|f| f.id == "GO-2022-0229").count();
    assert_eq!(x509, 2, "both the stdlib and x/crypto entries of GO-2022-0229 match");
    let hyper = findings.iter().find(|f| f.id == "RUSTSEC-2021-0078").unwrap();
    assert_eq!(hyper.fixed_version.as_deref(), Some("0.14.10"));
    assert_eq!(hyper.package.path, "srv/app/Cargo.lock");

    // VEX: the alias (CVE) and the package purl select the Jinja2 finding only.
    let vex_path = dir.path().join("vex.json");
    std::fs::File::create(&vex_path)
        .unwrap()
        .write_all(
            br#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"sec team",
            "timestamp":"2024-01-01T00:00:00Z","version":1,"statements":[
            {"vulnerability":{"name":"CVE-2020-28493"},"products":[{"@id":"pkg:pypi/jinja2@2.10"}],
             "status":"not_affected","justification":"vulnerable_code_not_in_execute_path",
             "impact_statement":"urlize is never called"},
            {"vulnerability":{"name":"CVE-2021-32715"},"products":[{"@id":"pkg:cargo/hyper@0.14.8"}],"status":"not_affected",
             "justification":"component_not_present"}]}"#,
        )
        .unwrap();
    let mut vex = Vex::default();
    vex.load(&vex_path).unwrap();
    vex.apply(&mut findings, &[]);
    let suppressed: Vec<_> = findings.iter().filter(|f| f.suppressed.is_some()).collect();
    assert_eq!(suppressed.len(), 1);
    let s = suppressed[0];
    assert_eq!(s.id, "PYSEC-2021-66");
    let reason = s.suppressed.as_ref().unwrap();
    assert_eq!(reason.status, "not_affected");
    assert_eq!(
        reason.justification.as_deref(),
        Some("vulnerable_code_not_in_execute_path")
    );
    assert_eq!(reason.statement.as_deref(), Some("urlize is never called"));
    assert_eq!(reason.document, "https://example.com/vex/1");
}

#[test]
fn database_round_trip_and_zip_import() {
    let dir = tempfile::tempdir().unwrap();
    // A zip the way osv.dev ships an ecosystem (all.zip), built from a few corpus records.
    let zip_path = dir.path().join("all.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for id in ["RUSTSEC-2021-0078", "RUSTSEC-2021-0079"] {
        w.start_file(format!("{id}.json"), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&std::fs::read(corpus().join(format!("crates.io/{id}.json"))).unwrap())
            .unwrap();
    }
    w.start_file("broken.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"{not json").unwrap();
    w.finish().unwrap();

    let mut db = Database::default();
    let stats = db.import(&zip_path).unwrap();
    assert_eq!((stats.imported, stats.invalid, stats.total), (2, 1, 2));
    let db_dir = dir.path().join("db");
    db.save(&db_dir).unwrap();
    let loaded = Database::open(&db_dir).unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded.get("RUSTSEC-2021-0078"), db.get("RUSTSEC-2021-0078"));
    let pkg = mamoru_sbom::Package::new(Ecosystem::CratesIo, "hyper", "0.14.9", "Cargo.lock", None);
    assert_eq!(match_vulns(&loaded, std::slice::from_ref(&pkg)).len(), 2);
    // An absent database opens empty; a corrupt one is an error naming the file.
    assert!(Database::open(&dir.path().join("none")).unwrap().is_empty());
    std::fs::write(db_dir.join("osv.json"), b"[").unwrap();
    let err = Database::open(&db_dir).unwrap_err().to_string();
    assert!(err.contains("osv.json"), "{err}");
}
