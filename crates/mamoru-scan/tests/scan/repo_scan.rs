//! `scan repo`: a secret committed and later deleted is still found in history, with its commit and line.

use mamoru_scan::repo::scan_repo;
use mamoru_scan::secrets::{SecretRules, SecretsAnalyzer};
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git must be installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn deleted_secret_is_found_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    std::fs::write(repo.join("README.md"), "hello\n").unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "init"]);
    std::fs::write(
        repo.join("deploy.sh"),
        "#!/bin/sh\necho deploying\nexport GITHUB_TOKEN=ghp_cg3hPOJ0EW1zkso24L5PjV1AyD1hiH0daF6r\n",
    )
    .unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "add deploy"]);
    let leaking = git(repo, &["rev-parse", "HEAD"]);
    std::fs::remove_file(repo.join("deploy.sh")).unwrap();
    git(repo, &["commit", "-q", "-am", "remove secret"]);

    let analyzer = SecretsAnalyzer::new(SecretRules::bundled().unwrap(), false);
    let report = scan_repo(repo, &analyzer).unwrap();
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "secret:github-pat")
        .unwrap_or_else(|| panic!("not found: {:?}", report.findings));
    assert_eq!(f.location.commit.as_deref(), Some(leaking.as_str()));
    assert_eq!(f.location.path.as_deref(), Some("deploy.sh"));
    assert_eq!(f.location.line, Some(3));
    assert_eq!(f.evidence.as_deref(), Some("ghp_*****"));
    assert!(scan_repo(&repo.join("missing"), &analyzer).is_err());
}
