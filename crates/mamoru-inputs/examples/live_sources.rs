//! Runs the live inputs of a sources configuration (JSON, the `sources:` section of the `mamoru run -c` file) with
//! the bundled rules and prints alerts, one line each — the wiring `mamoru run` uses:
//!
//! ```text
//! cargo run -p mamoru-inputs --example live_sources -- sources.json
//! ```
//!
//! The evaluator is a plain thread owning one `JsonPipeline` per source: it takes batches from the channel,
//! evaluates every record, then commits the batch (which lets its input persist its cursor). Ctrl-C stops the
//! inputs; the evaluator drains what they already sent.

use mamoru_cli::pipeline::JsonPipeline;
use mamoru_cli::rulesets::Rulesets;
use mamoru_engine::EngineConfig;
use mamoru_fields::json::JsonContext;
use mamoru_inputs::{batch_channel, drain_blocking, run_sources, BatchReceiver, SourcesConfig};
use mamoru_records::RecordSource;
use std::collections::HashMap;

fn evaluate(rx: BatchReceiver) {
    let sets = Rulesets::load(&[], &EngineConfig::default());
    for d in &sets.diagnostics {
        eprintln!("{d:?}");
    }
    let mut pipelines: HashMap<RecordSource, JsonPipeline<'_>> = RecordSource::ALL
        .into_iter()
        .filter_map(|s| {
            Some((
                s,
                JsonPipeline::new(sets.json_ruleset(s.name())?, JsonContext::from_environment()),
            ))
        })
        .collect();
    drain_blocking(rx, |source, record| {
        if let Some(p) = pipelines.get_mut(&source) {
            p.on_record(record, |a| {
                println!("{} {:?} [{}] {}", a.time_ns, a.priority, a.rule, a.message)
            });
        }
    });
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let path = std::env::args().nth(1).ok_or("usage: live_sources SOURCES.json")?;
    let cfg: SourcesConfig = serde_json::from_slice(&std::fs::read(&path)?)?;
    let (tx, rx) = batch_channel(cfg.channel_capacity);
    let evaluator = std::thread::spawn(move || evaluate(rx));
    let mut handle = run_sources(cfg, tx).await?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        exit = handle.next_exit() => eprintln!("an input ended: {exit:?}"),
    }
    handle.stop().await?;
    evaluator.join().map_err(|_| "evaluator panicked")?;
    Ok(())
}
