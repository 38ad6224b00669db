//! Runs the configured response actions for an alert and reports each as an alert of its own.

use crate::alert::{field_i64, field_opt_str, field_str, field_u64, mamoru_alert};
use crate::config::{ActionKind, ResponseConfig};
use crate::error::ResponseError;
use crate::process::{Killer, ProcFs, ProcessIdentity, ProcessTable};
use crate::runtime::ContainerRuntime;
use mamoru_engine::{Alert, FieldJson};
use mamoru_rules::loaded::Priority;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What one action did.
#[derive(Debug)]
pub struct ActionOutcome {
    pub action: ActionKind,
    /// Pids signalled (process actions) on success.
    pub signalled: Vec<i64>,
    pub result: Result<(), ResponseError>,
}

/// Chooses and runs response actions.
pub struct Responder<T: ProcessTable = ProcFs> {
    config: ResponseConfig,
    killer: Killer<T>,
    runtime: Option<Box<dyn ContainerRuntime>>,
}

impl Responder<ProcFs> {
    /// A responder on the live `/proc`. `runtime` is needed for the container actions.
    pub fn new(config: ResponseConfig, runtime: Option<Box<dyn ContainerRuntime>>) -> Result<Self, ResponseError> {
        config.validate()?;
        let tolerance = config.start_time_tolerance_ms.saturating_mul(1_000_000);
        Ok(Responder {
            killer: Killer::new(ProcFs::new()?, tolerance),
            config,
            runtime,
        })
    }
}

impl<T: ProcessTable> Responder<T> {
    pub fn with_table(config: ResponseConfig, table: T, runtime: Option<Box<dyn ContainerRuntime>>) -> Self {
        let tolerance = config.start_time_tolerance_ms.saturating_mul(1_000_000);
        Responder {
            killer: Killer::new(table, tolerance),
            config,
            runtime,
        }
    }

    /// The actions `alert` triggers, in configuration order, without duplicates. Alerts mamoru raised about its own
    /// actions never trigger actions.
    pub fn select(&self, alert: &Alert) -> Vec<ActionKind> {
        let mut out = Vec::new();
        if !self.config.enabled || alert.source == crate::alert::SOURCE && alert.rule.starts_with("mamoru response") {
            return out;
        }
        for rule in self.config.actions.iter().filter(|r| r.when.matches(alert)) {
            for a in &rule.actions {
                if !out.contains(a) {
                    out.push(*a);
                }
            }
        }
        out
    }

    /// Runs one action on the alert's subject.
    pub fn execute(&self, action: ActionKind, alert: &Alert) -> ActionOutcome {
        let mut signalled = Vec::new();
        let result = (|| {
            let subject = alert
                .subject
                .as_ref()
                .ok_or(ResponseError::NoSubject("no process in the alert"))?;
            let target = ProcessIdentity {
                pid: subject.pid,
                start_time_ns: subject.start_time_ns,
            };
            match action {
                ActionKind::KillProcess => {
                    self.killer.kill(target)?;
                    signalled.push(target.pid);
                }
                ActionKind::KillProcessGroup => signalled = self.killer.kill_group(target)?,
                ActionKind::PauseContainer | ActionKind::StopContainer => {
                    let id = subject
                        .container_id
                        .as_deref()
                        .ok_or(ResponseError::NoSubject("the process is not in a container"))?;
                    let runtime = self
                        .runtime
                        .as_ref()
                        .ok_or_else(|| ResponseError::Runtime("no container runtime configured".into()))?;
                    if action == ActionKind::PauseContainer {
                        runtime.pause(id)?;
                    } else {
                        runtime.kill(id, libc::SIGKILL)?;
                    }
                }
            }
            Ok(())
        })();
        ActionOutcome {
            action,
            signalled,
            result,
        }
    }

    /// Runs every selected action and returns one alert per action with its result.
    pub fn respond(&self, alert: &Alert) -> Vec<Alert> {
        self.select(alert)
            .into_iter()
            .map(|action| {
                let outcome = self.execute(action, alert);
                outcome_alert(&outcome, alert, self.runtime.as_deref().map(|r| r.name()))
            })
            .collect()
    }
}

/// The alert reporting one action: rule `mamoru response: <action>`, Notice on success, Error on failure.
pub fn outcome_alert(outcome: &ActionOutcome, trigger: &Alert, runtime: Option<&str>) -> Alert {
    let label = outcome.action.label();
    let subject = trigger.subject.as_ref();
    let pid = subject.map_or(-1, |s| s.pid);
    let container = subject.and_then(|s| s.container_id.as_deref());
    let (priority, result, detail) = match &outcome.result {
        Ok(()) => (Priority::Notice, "ok", String::new()),
        Err(e @ ResponseError::PidReused { .. }) => (Priority::Warning, "refused", e.to_string()),
        Err(e @ ResponseError::NoSuchProcess(_)) => (Priority::Warning, "gone", e.to_string()),
        Err(e) => (Priority::Error, "failed", e.to_string()),
    };
    let target = match outcome.action {
        ActionKind::PauseContainer | ActionKind::StopContainer => {
            format!("container {}", container.unwrap_or("<none>"))
        }
        _ => format!("process {pid}"),
    };
    let message = if detail.is_empty() {
        format!(
            "mamoru response: {label} of {target} for rule \"{}\": {result}",
            trigger.rule
        )
    } else {
        format!(
            "mamoru response: {label} of {target} for rule \"{}\": {result} ({detail})",
            trigger.rule
        )
    };
    let fields = vec![
        field_str("mamoru.action", label),
        field_str("mamoru.result", result),
        field_str("mamoru.error", detail),
        field_str("mamoru.trigger.rule", trigger.rule.to_string()),
        field_u64("mamoru.trigger.time", trigger.time_ns),
        field_i64("proc.pid", pid),
        field_u64("proc.start_ts", subject.map_or(0, |s| s.start_time_ns)),
        field_opt_str("container.id", container),
        field_opt_str("mamoru.runtime", runtime),
        (
            "mamoru.signalled".into(),
            FieldJson::Array(outcome.signalled.iter().map(|p| FieldJson::I64(*p)).collect()),
        ),
    ];
    mamoru_alert(
        &format!("mamoru response: {label}"),
        priority,
        &["mamoru", "response"],
        message,
        fields,
        trigger.subject.clone(),
    )
}

/// Runs responses off the event path: [`ResponseWorker::submit`] never blocks; what does not fit in the queue is
/// counted and reported as a failed action alert instead of being lost silently.
pub struct ResponseWorker {
    sender: Option<SyncSender<Alert>>,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    selector: Arc<dyn Fn(&Alert) -> bool + Send + Sync>,
}

impl ResponseWorker {
    /// Starts the worker; every response alert goes to `sink`.
    pub fn spawn<T: ProcessTable + Send + Sync + 'static>(
        responder: Responder<T>,
        capacity: usize,
        mut sink: impl FnMut(Alert) + Send + 'static,
    ) -> Result<ResponseWorker, ResponseError> {
        let (sender, receiver) = sync_channel::<Alert>(capacity.max(1));
        let responder = Arc::new(responder);
        let for_select = Arc::clone(&responder);
        let selector: Arc<dyn Fn(&Alert) -> bool + Send + Sync> = Arc::new(move |a| !for_select.select(a).is_empty());
        let thread = std::thread::Builder::new()
            .name("mamoru-response".into())
            .spawn(move || {
                for alert in receiver {
                    for out in responder.respond(&alert) {
                        sink(out);
                    }
                }
            })
            .map_err(ResponseError::io("spawning the response thread"))?;
        Ok(ResponseWorker {
            sender: Some(sender),
            dropped: Arc::new(AtomicU64::new(0)),
            thread: Some(thread),
            selector,
        })
    }

    /// Queues `alert` if any action applies to it. Returns false when the queue was full (the alert is counted in
    /// [`ResponseWorker::dropped`]).
    pub fn submit(&self, alert: &Alert) -> bool {
        if !(self.selector)(alert) {
            return true;
        }
        let Some(sender) = &self.sender else { return false };
        match sender.try_send(alert.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!(rule = %alert.rule, "response queue full: actions for this alert were not run");
                false
            }
        }
    }

    /// Alerts whose actions were not run because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Runs what is queued, then stops.
    pub fn shutdown(mut self) {
        self.sender.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ResponseWorker {
    fn drop(&mut self) {
        self.sender.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::mamoru_alert;
    use crate::config::{ActionRule, AlertSelector};
    use mamoru_engine::AlertSubject;

    /// A process table that must not be consulted.
    struct NoProcesses;
    impl ProcessTable for NoProcesses {
        fn start_time_ns(&self, pid: i64) -> Result<u64, ResponseError> {
            Err(ResponseError::NoSuchProcess(pid))
        }
        fn process_group(&self, pid: i64) -> Result<i64, ResponseError> {
            Err(ResponseError::NoSuchProcess(pid))
        }
        fn pids(&self) -> Result<Vec<i64>, ResponseError> {
            Ok(Vec::new())
        }
    }

    fn responder(enabled: bool, actions: Vec<ActionKind>) -> Responder<NoProcesses> {
        let cfg = ResponseConfig {
            enabled,
            actions: vec![ActionRule {
                when: AlertSelector::default(),
                actions,
            }],
            ..ResponseConfig::default()
        };
        Responder::with_table(cfg, NoProcesses, None)
    }

    fn alert(rule: &str, subject: Option<AlertSubject>) -> Alert {
        mamoru_alert(rule, Priority::Critical, &[], String::new(), vec![], subject)
    }

    #[test]
    fn own_action_alerts_and_a_disabled_section_trigger_nothing() {
        let r = responder(true, vec![ActionKind::KillProcess, ActionKind::KillProcess]);
        assert_eq!(r.select(&alert("Some rule", None)), vec![ActionKind::KillProcess]);
        assert!(r.select(&alert("mamoru response: kill", None)).is_empty());
        assert!(responder(false, vec![ActionKind::KillProcess])
            .select(&alert("Some rule", None))
            .is_empty());
    }

    #[test]
    fn failures_are_reported_as_alerts() {
        let r = responder(true, vec![ActionKind::KillProcess, ActionKind::PauseContainer]);
        let out = r.respond(&alert("Some rule", None));
        assert_eq!(out.len(), 2);
        for a in &out {
            assert_eq!(a.source, "mamoru");
            assert_eq!(a.priority, Priority::Error);
            assert!(a.message.contains("failed (the alert has no subject"), "{}", a.message);
        }
        let subject = AlertSubject {
            pid: 4242,
            tid: 4242,
            start_time_ns: 1,
            container_id: Some("abc".into()),
        };
        let out = r.respond(&alert("Some rule", Some(subject)));
        assert_eq!(&*out[1].rule, "mamoru response: pause container");
        assert!(
            out[1].message.contains("no container runtime configured"),
            "{}",
            out[1].message
        );
    }
}
