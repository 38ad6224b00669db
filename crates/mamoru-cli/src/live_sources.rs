//! The cloud, identity and SaaS sources of `mamoru run` (the `sources:` configuration section): the inputs of
//! mamoru-inputs run on their own tokio runtime, and one evaluator thread owns a [`JsonPipeline`] per source. The
//! kernel event path shares nothing with them but the alert sender, so a slow or bursting source never stalls it.

use crate::pipeline::JsonPipeline;
use mamoru_engine::{Alert, SourceRuleset};
use mamoru_fields::json::{JsonContext, JsonSource, DEFAULT_OKTA_CACHE_EXPIRATION_S, DEFAULT_OKTA_CACHE_USERMAXSIZE};
use mamoru_inputs::{batch_channel, drain_blocking, run_sources, SourcesConfig, SourcesHandle};
use mamoru_records::RecordSource;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::thread::JoinHandle;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum LiveSourcesError {
    #[error("starting the sources runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("starting the sources: {0}")]
    Start(#[from] mamoru_inputs::InputError),
    #[error("starting the sources' evaluator thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// Running inputs and their evaluator.
pub struct LiveSources {
    runtime: tokio::runtime::Runtime,
    handle: SourcesHandle,
    evaluator: JoinHandle<u64>,
}

impl LiveSources {
    /// Binds the endpoints, opens cursors and starts every configured input; their records are evaluated against
    /// `rulesets` (one per JSON source) and alerts go to `emit` (from the evaluator thread).
    pub fn start(
        cfg: SourcesConfig,
        rulesets: Vec<SourceRuleset<JsonSource>>,
        emit: impl FnMut(Alert) + Send + 'static,
    ) -> Result<LiveSources, LiveSourcesError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mamoru-sources")
            .enable_all()
            .build()
            .map_err(LiveSourcesError::Runtime)?;
        let (tx, rx) = batch_channel(cfg.channel_capacity);
        let okta_org = cfg.okta.as_ref().map(|o| o.organization.clone());
        let handle = runtime.block_on(run_sources(cfg, tx))?;
        let evaluator = std::thread::Builder::new()
            .name("mamoru-sources-eval".into())
            .spawn(move || evaluate(rx, rulesets, okta_org, emit))
            .map_err(LiveSourcesError::Thread)?;
        Ok(LiveSources {
            runtime,
            handle,
            evaluator,
        })
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        self.handle.register_metrics(registry);
    }

    /// Stops the inputs after their current batch (their cursors stay after what was evaluated), then waits for
    /// the evaluator to finish what was sent. Returns the number of records evaluated.
    pub fn stop(self) -> u64 {
        if let Err(e) = self.runtime.block_on(self.handle.stop()) {
            tracing::error!("a source ended with an error: {e}");
        }
        let n = self.evaluator.join().unwrap_or_else(|_| {
            tracing::error!("the sources' evaluator panicked");
            0
        });
        self.runtime.shutdown_background();
        n
    }
}

/// The evaluator thread: every record of every batch through its source's rules, then the batch is committed.
fn evaluate(
    rx: mamoru_inputs::BatchReceiver,
    rulesets: Vec<SourceRuleset<JsonSource>>,
    okta_org: Option<String>,
    mut emit: impl FnMut(Alert),
) -> u64 {
    let mut pipelines: HashMap<RecordSource, JsonPipeline<'_>> = RecordSource::ALL
        .into_iter()
        .filter_map(|source| {
            let ruleset = rulesets.iter().find(|r| r.source_name() == source.name())?;
            let mut ctx = JsonContext::from_environment();
            if let (RecordSource::Okta, Some(org)) = (source, &okta_org) {
                ctx = ctx.with_okta(org, DEFAULT_OKTA_CACHE_EXPIRATION_S, DEFAULT_OKTA_CACHE_USERMAXSIZE);
            }
            Some((source, JsonPipeline::new(ruleset, ctx)))
        })
        .collect();
    let mut evaluated = 0u64;
    drain_blocking(rx, |source, record| {
        evaluated += 1;
        match pipelines.get_mut(&source) {
            Some(p) => p.on_record(record, &mut emit),
            None => tracing::warn!(source = source.name(), "record of a source with no rules loaded"),
        }
    });
    evaluated
}
