//! Drift control: executables that were not in a container's image must not run.
//!
//! Detection follows Falco's "Drop and execute new binary in container": the executable lives on the overlay upper
//! layer (written or modified in the container). Exec from a memfd (fileless) is a second, separately configured
//! kind. One decision function ([`decide`], mirrored bit for bit by `bpf/drift_decide.h` in the kernel) serves every
//! mechanism; the mechanism that enforces it is chosen by a startup probe ([`probe`]):
//!
//! 1. BPF LSM `bprm_check_security`: the exec fails with EPERM before the image is loaded;
//! 2. fanotify `FAN_OPEN_EXEC_PERM` on each container's root filesystem: the open for exec fails with EPERM
//!    (fanotify cannot mark the memfd filesystem, so memfd execs go to mechanism 3);
//! 3. a `tp_btf/sched_process_exec` program that SIGKILLs the task before the new image runs an instruction.
//!
//! Decisions only read local kernel and filesystem state: they never wait on the network. When the agent dies, the
//! kernel answers pending fanotify events with "allow" and detaches the BPF programs; a liveness marker in
//! `state_dir` turns that gap into an alert on the next start ([`LivenessMarker`]).

mod bpf;
mod container;
mod control;
mod fanotify;
mod gap;
mod probe;
mod report;

pub use bpf::{BpfDrift, BpfProgram, DriftStats};
pub use container::{kernel_dev, ContainerMeta, ContainerRootfs};
pub use control::{AlertSink, DriftControl};
pub use fanotify::FanotifyEnforcer;
pub use gap::LivenessMarker;
pub use probe::{probe, Mechanism, MechanismStatus, ProbeReport};
pub use report::{drift_alert, DriftKind, DriftRecord};

use crate::config::{DriftConfig, DriftMode, DriftScope, MemfdMode};

/// Facts about one exec (the `DRIFT_FACT_*` bits of `drift_decide.h`).
pub mod fact {
    pub const UPPER: u32 = 1 << 0;
    pub const MEMFD: u32 = 1 << 1;
    pub const IN_SCOPE: u32 = 1 << 2;
    pub const ALLOWED: u32 = 1 << 3;
}

/// A container's drift policy (the `DRIFT_POLICY_*` bits of `drift_decide.h`).
pub mod policy {
    pub const DETECT_UPPER: u32 = 1 << 0;
    pub const BLOCK_UPPER: u32 = 1 << 1;
    pub const DETECT_MEMFD: u32 = 1 << 2;
    pub const BLOCK_MEMFD: u32 = 1 << 3;
}

/// What to do with an exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow = 0,
    Alert = 1,
    Block = 2,
}

/// The drift decision: out-of-scope and allow-listed executables run; otherwise an upper-layer or memfd executable
/// is blocked or alerted as the policy says (blocking wins when both kinds apply).
pub fn decide(facts: u32, policy_bits: u32) -> Verdict {
    if facts & fact::IN_SCOPE == 0 || facts & fact::ALLOWED != 0 {
        return Verdict::Allow;
    }
    let mut verdict = Verdict::Allow;
    if facts & fact::UPPER != 0 {
        if policy_bits & policy::BLOCK_UPPER != 0 {
            return Verdict::Block;
        }
        if policy_bits & policy::DETECT_UPPER != 0 {
            verdict = Verdict::Alert;
        }
    }
    if facts & fact::MEMFD != 0 {
        if policy_bits & policy::BLOCK_MEMFD != 0 {
            return Verdict::Block;
        }
        if policy_bits & policy::DETECT_MEMFD != 0 {
            verdict = Verdict::Alert;
        }
    }
    verdict
}

/// The policy bits a configuration gives a container in scope.
pub fn policy_bits(cfg: &DriftConfig) -> u32 {
    let mut bits = match cfg.mode {
        DriftMode::Detect => policy::DETECT_UPPER,
        DriftMode::Block => policy::DETECT_UPPER | policy::BLOCK_UPPER,
    };
    bits |= match (cfg.memfd, cfg.mode) {
        (MemfdMode::Off, _) => 0,
        (MemfdMode::Detect, _) | (MemfdMode::Block, DriftMode::Detect) => policy::DETECT_MEMFD,
        (MemfdMode::Block, DriftMode::Block) => policy::DETECT_MEMFD | policy::BLOCK_MEMFD,
    };
    bits
}

/// Whether drift control covers a container.
pub fn in_scope(scope: &DriftScope, meta: &ContainerMeta) -> bool {
    let image_ok = scope.images.is_empty() || scope.images.iter().any(|g| glob_match(g, &meta.image));
    let ns_ok = scope.namespaces.is_empty()
        || meta
            .namespace
            .as_deref()
            .is_some_and(|ns| scope.namespaces.iter().any(|s| s == ns));
    let labels_ok = scope
        .labels
        .iter()
        .all(|(k, v)| meta.labels.get(k).is_some_and(|have| have == v));
    image_ok && ns_ok && labels_ok
}

/// Whether `path` (inside the container) is allow-listed.
pub fn allowed(allow: &[String], path: &str) -> bool {
    allow.iter().any(|g| glob_match(g, path))
}

/// Wildcard match: `*` is any run of characters (including `/`), `?` any one character, the rest literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matcher with backtracking to the last `*` (linear in practice, no recursion).
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    extern "C" {
        /// `drift_decide()` of bpf/drift_decide.h, compiled for the host by build.rs.
        fn mamoru_drift_decide_c(facts: u32, policy: u32) -> u32;
    }

    #[test]
    fn kernel_and_user_space_decide_alike_on_every_input() {
        for facts in 0..16u32 {
            for policy_bits in 0..16u32 {
                // SAFETY: a pure C function over two integers.
                let kernel = unsafe { mamoru_drift_decide_c(facts, policy_bits) };
                assert_eq!(
                    kernel,
                    decide(facts, policy_bits) as u32,
                    "facts {facts:#06b} policy {policy_bits:#06b}"
                );
            }
        }
    }

    fn block_all() -> u32 {
        policy_bits(&DriftConfig {
            mode: DriftMode::Block,
            memfd: MemfdMode::Block,
            ..DriftConfig::default()
        })
    }

    /// The LSM program's decisions, as its bprm_check_security hook would see each case.
    #[test]
    fn lsm_decisions() {
        let block = block_all();
        let scoped = fact::IN_SCOPE;
        assert_eq!(decide(scoped, block), Verdict::Allow, "image binary runs");
        assert_eq!(
            decide(scoped | fact::UPPER, block),
            Verdict::Block,
            "new binary blocked"
        );
        assert_eq!(decide(scoped | fact::MEMFD, block), Verdict::Block, "memfd blocked");
        assert_eq!(
            decide(scoped | fact::UPPER | fact::ALLOWED, block),
            Verdict::Allow,
            "allow-list wins"
        );
        assert_eq!(
            decide(fact::UPPER | fact::MEMFD, block),
            Verdict::Allow,
            "outside the scope"
        );
        let detect = policy_bits(&DriftConfig::default());
        assert_eq!(decide(scoped | fact::UPPER, detect), Verdict::Alert);
        assert_eq!(decide(scoped | fact::MEMFD, detect), Verdict::Alert);
        let no_memfd = policy_bits(&DriftConfig {
            mode: DriftMode::Block,
            memfd: MemfdMode::Off,
            ..DriftConfig::default()
        });
        assert_eq!(decide(scoped | fact::MEMFD, no_memfd), Verdict::Allow);
        assert_eq!(decide(scoped | fact::UPPER | fact::MEMFD, no_memfd), Verdict::Block);
    }

    #[test]
    fn memfd_block_needs_block_mode() {
        let cfg = DriftConfig {
            mode: DriftMode::Detect,
            memfd: MemfdMode::Block,
            ..DriftConfig::default()
        };
        assert_eq!(policy_bits(&cfg) & (policy::BLOCK_MEMFD | policy::BLOCK_UPPER), 0);
    }

    #[test]
    fn scope_by_image_namespace_and_labels() {
        let meta = ContainerMeta {
            id: "abc".into(),
            image: "registry.example/app:1.2".into(),
            namespace: Some("prod".into()),
            labels: BTreeMap::from([("drift".to_string(), "enforce".to_string())]),
        };
        assert!(in_scope(&DriftScope::default(), &meta));
        let mut scope = DriftScope {
            images: vec!["registry.example/app*".into()],
            namespaces: vec!["prod".into()],
            labels: BTreeMap::from([("drift".to_string(), "enforce".to_string())]),
        };
        assert!(in_scope(&scope, &meta));
        scope.labels.insert("team".into(), "x".into());
        assert!(!in_scope(&scope, &meta));
        scope.labels.clear();
        scope.namespaces = vec!["dev".into()];
        assert!(!in_scope(&scope, &meta));
        scope.namespaces.clear();
        scope.images = vec!["other/*".into()];
        assert!(!in_scope(&scope, &meta));
    }

    #[test]
    fn globs() {
        assert!(glob_match("/usr/bin/*", "/usr/bin/x/y"));
        assert!(glob_match("/tmp/build-?", "/tmp/build-1"));
        assert!(!glob_match("/tmp/build-?", "/tmp/build-12"));
        assert!(glob_match("*a*b", "xxaxxb"));
        assert!(!glob_match("*a*b", "xxaxxbc"));
        assert!(glob_match("/exact", "/exact"));
        assert!(!glob_match("/exact", "/exactly"));
        assert!(allowed(&["/opt/*".into()], "/opt/tool"));
        assert!(!allowed(&["/opt/*".into()], "/bin/tool"));
    }
}
