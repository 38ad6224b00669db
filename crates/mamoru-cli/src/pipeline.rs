//! The per-event path shared by `run`, `replay`, `capture`-then-`replay` and the benchmarks: state update, rule
//! evaluation, alert rendering. Keeping it in one place is what makes a replayed capture give the live run's alerts.

use mamoru_engine::{Alert, AlertSubject, CompiledRule, Scratch, SourceRuleset};
use mamoru_event::RawEvent;
use mamoru_fields::json::{JsonContext, JsonEvent, JsonSource};
use mamoru_fields::syscall::{raw_event_code, SysEvent, Syscall};
use mamoru_records::Record;
use mamoru_scap::Record as ScapRecord;
use mamoru_state::State;
use std::collections::BTreeMap;

/// What a pipeline has seen.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PipelineStats {
    pub events: u64,
    pub alerts: u64,
    /// Alerts per rule name.
    pub alerts_by_rule: BTreeMap<String, u64>,
}

impl PipelineStats {
    fn count(&mut self, alert: &Alert) {
        self.alerts += 1;
        *self.alerts_by_rule.entry(alert.rule.to_string()).or_default() += 1;
    }

    /// A human summary, one line per rule.
    pub fn summary(&self) -> String {
        let mut s = format!("events: {}, alerts: {}", self.events, self.alerts);
        for (rule, n) in &self.alerts_by_rule {
            s.push_str(&format!("\n  {n:>8}  {rule}"));
        }
        s
    }
}

/// Syscall events: the state engine followed by the syscall ruleset.
pub struct SyscallPipeline {
    pub state: State,
    ruleset: SourceRuleset<Syscall>,
    scratch: Scratch,
    evt_num: u64,
    /// A capture's process list was applied and its parent/child links are not rebuilt yet.
    seeding: bool,
    pub stats: PipelineStats,
}

impl SyscallPipeline {
    pub fn new(state: State, ruleset: SourceRuleset<Syscall>) -> Self {
        SyscallPipeline {
            state,
            ruleset,
            scratch: Scratch::new(),
            evt_num: 0,
            seeding: false,
            stats: PipelineStats::default(),
        }
    }

    pub fn ruleset(&self) -> &SourceRuleset<Syscall> {
        &self.ruleset
    }

    /// Applies a state record from a capture (process, fd, user, interface and machine blocks). Events go to
    /// [`SyscallPipeline::on_event`].
    pub fn on_state_record(&mut self, rec: ScapRecord<'_>) {
        match rec {
            ScapRecord::Threads(threads) => {
                threads.into_iter().for_each(|t| self.state.add_thread(t));
                self.seeding = true;
            }
            ScapRecord::Fds { tid, fds } => fds.into_iter().for_each(|fd| self.state.add_fd(tid, fd)),
            ScapRecord::Users(list) => {
                list.users.into_iter().for_each(|u| self.state.add_user(u));
                list.groups.into_iter().for_each(|g| self.state.add_group(g));
            }
            ScapRecord::Interfaces(ifs) => ifs.into_iter().for_each(|i| self.state.add_interface(i)),
            ScapRecord::MachineInfo(mi) => {
                if !mi.hostname.is_empty() {
                    self.state.set_hostname(mi.hostname);
                }
                if let Some(boot) = mi.boot_ts_epoch {
                    self.state.set_boot_ts(boot);
                }
            }
            ScapRecord::Section(_) | ScapRecord::Event { .. } => {}
        }
    }

    /// Processes one event: updates the state, evaluates the rules indexed under its type, and hands each alert to
    /// `emit`. Allocates nothing unless a rule matches.
    pub fn on_event(&mut self, raw: &RawEvent<'_>, mut emit: impl FnMut(Alert)) {
        self.apply_event(raw);
        self.evaluate_event(raw, &mut emit);
    }

    /// The first half of [`SyscallPipeline::on_event`]: the state update alone. The container metadata gate holds
    /// an event between the two halves while its container's lookup is in flight.
    pub fn apply_event(&mut self, raw: &RawEvent<'_>) {
        if std::mem::take(&mut self.seeding) {
            self.state.finish_seeding();
        }
        self.evt_num += 1;
        self.stats.events += 1;
        self.state.process_event(raw);
    }

    /// The second half of [`SyscallPipeline::on_event`]: rules evaluated on the event applied last.
    pub fn evaluate_event(&mut self, raw: &RawEvent<'_>, emit: &mut dyn FnMut(Alert)) {
        // Most events (closes, reads, process exits) have no rule indexed under their type: skip resolving the
        // thread and fd for them.
        if !self.ruleset.has_rules_for_code(usize::from(raw_event_code(raw))) {
            return;
        }
        let ev = SysEvent::new(raw, &self.state, self.evt_num);
        let mut hits: Vec<&CompiledRule<Syscall>> = Vec::new();
        self.ruleset.evaluate(&ev, &mut self.scratch, |r| hits.push(r));
        if hits.is_empty() {
            return;
        }
        let subject = alert_subject(&self.state, raw.tid);
        for rule in hits {
            let mut alert = rule.render(&ev, raw.ts, &mut self.scratch);
            alert.subject = subject.clone();
            self.stats.count(&alert);
            emit(alert);
        }
    }
}

/// The process an event came from, for response actions: host pid/tid, the process start time (the main thread's
/// clone time) that guards against pid reuse, and the full container id.
fn alert_subject(state: &State, tid: u64) -> Option<AlertSubject> {
    let thread = state.thread(i64::try_from(tid).ok()?)?;
    if thread.invalid {
        return None;
    }
    let main = state.main_thread(thread);
    let container = main.container_full_id.as_deref().unwrap_or(&main.container_id);
    let container_id =
        (!container.is_empty() && container != b"host").then(|| String::from_utf8_lossy(container).into_owned());
    Some(AlertSubject {
        pid: thread.pid,
        tid: thread.tid,
        start_time_ns: main.clone_ts,
        container_id,
    })
}

/// Records of one JSON source (k8s_audit, aws_cloudtrail, okta, github, gcp_auditlog).
pub struct JsonPipeline<'r> {
    ruleset: &'r SourceRuleset<JsonSource>,
    ctx: JsonContext,
    scratch: Scratch,
    num: u64,
    pub stats: PipelineStats,
}

impl<'r> JsonPipeline<'r> {
    pub fn new(ruleset: &'r SourceRuleset<JsonSource>, ctx: JsonContext) -> Self {
        JsonPipeline {
            ruleset,
            ctx,
            scratch: Scratch::new(),
            num: 0,
            stats: PipelineStats::default(),
        }
    }

    /// Evaluates one record and hands each alert to `emit`.
    pub fn on_record(&mut self, rec: &Record, mut emit: impl FnMut(Alert)) {
        self.num += 1;
        self.stats.events += 1;
        let json = rec.json();
        self.ctx.observe(self.ruleset.source_name(), json, rec.ts_ns);
        let ev = JsonEvent::new(json, rec.ts_ns)
            .with_num(self.num)
            .with_context(&self.ctx);
        let mut hits = Vec::new();
        self.ruleset.evaluate(&ev, &mut self.scratch, |r| hits.push(r));
        for rule in hits {
            let alert = rule.render(&ev, rec.ts_ns, &mut self.scratch);
            self.stats.count(&alert);
            emit(alert);
        }
    }
}
