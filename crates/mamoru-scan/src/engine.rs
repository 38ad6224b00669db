//! The scan driver: walks image layers (or a directory), hands each file to the file analyzers on a pool of
//! worker threads with a byte budget, keeps the merged view, and runs the image analyzers.

use crate::analyzer::{FileAnalyzer, FileRef, FileWorker, ImageAnalyzer, Origin};
use crate::finding::{Category, Finding, ImageReport, LayerReport, Location, Report, ScanStats, Severity};
use mamoru_oci::{
    walk_layer, EntryKind, EntryMeta, GuardIssue, GuardKind, Image, LayerVisitor, Limits, MergedView, OciError,
};
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};

/// Why a scan failed (hostile content is never an error: it becomes findings).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] OciError),
    #[error("layer {layer} ({digest}): {source}")]
    Layer {
        layer: usize,
        digest: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(String),
}

/// Progress of an image scan, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub layer: usize,
    pub layers: usize,
    /// Compressed size of the current layer.
    pub layer_bytes: u64,
}

/// Callback for progress events.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Scan settings.
#[derive(Clone)]
pub struct ScanOptions {
    pub limits: Limits,
    /// Worker threads for file analysis (0 = one per CPU).
    pub threads: usize,
    /// Most file content held in memory at once across workers.
    pub memory_budget: u64,
    pub progress: Option<ProgressFn>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            limits: Limits::default(),
            threads: 0,
            memory_budget: 256 << 20,
            progress: None,
        }
    }
}

/// The result of an image scan: the report plus the merged view (for inventory/SBOM consumers).
pub struct ImageScan {
    pub report: Report,
    pub merged: MergedView,
}

/// Runs analyzers over images, directories and repositories.
pub struct Scanner {
    file_analyzers: Vec<Arc<dyn FileAnalyzer>>,
    image_analyzers: Vec<Arc<dyn ImageAnalyzer>>,
    options: ScanOptions,
}

impl Scanner {
    pub fn new(options: ScanOptions) -> Self {
        Scanner {
            file_analyzers: Vec::new(),
            image_analyzers: Vec::new(),
            options,
        }
    }

    pub fn add_file_analyzer(&mut self, analyzer: Arc<dyn FileAnalyzer>) {
        self.file_analyzers.push(analyzer);
    }

    pub fn add_image_analyzer(&mut self, analyzer: Arc<dyn ImageAnalyzer>) {
        self.image_analyzers.push(analyzer);
    }

    pub fn options(&self) -> &ScanOptions {
        &self.options
    }

    fn threads(&self) -> usize {
        if self.options.threads > 0 {
            self.options.threads
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }

    /// Scans every layer on its own (so files deleted later are still found, attributed to the layer that ships
    /// them), builds the merged view, then checks the image's metadata.
    pub fn scan_image(&self, image: &Image) -> Result<ImageScan, ScanError> {
        let mut merged = MergedView::new();
        let mut layer_reports = Vec::with_capacity(image.layers.len());
        let mut guards = Vec::new();
        let (mut findings, stats) = self.run_pipeline(|submit, stats| {
            for layer in &image.layers {
                if let Some(p) = &self.options.progress {
                    p(Progress {
                        layer: layer.index,
                        layers: image.layers.len(),
                        layer_bytes: layer.size,
                    });
                }
                let blob = image.open_layer(layer.index)?;
                let mut visitor = LayerWalk {
                    origin: Origin::Layer {
                        index: layer.index,
                        digest: layer.digest.clone(),
                    },
                    layer: layer.index,
                    merged: Some(&mut merged),
                    submit,
                    analyzers: &self.file_analyzers,
                    limits: &self.options.limits,
                    guards: &mut guards,
                    stats,
                };
                let summary =
                    walk_layer(blob, &self.options.limits, &mut visitor).map_err(|source| ScanError::Layer {
                        layer: layer.index,
                        digest: layer.digest.clone(),
                        source,
                    })?;
                layer_reports.push(LayerReport {
                    index: layer.index,
                    digest: layer.digest.clone(),
                    compressed_bytes: summary.compressed_bytes,
                    uncompressed_bytes: summary.uncompressed_bytes,
                    entries: summary.entries,
                    compression: summary.compression.map(|c| format!("{c:?}").to_ascii_lowercase()),
                    created_by: layer.created_by.clone(),
                    truncated: summary.truncated,
                });
            }
            Ok(())
        })?;
        findings.append(&mut guards);
        for f in &mut findings {
            if let (Some(layer), Some(path)) = (f.location.layer, f.location.path.as_deref()) {
                if f.category != Category::Guard {
                    f.in_final_image = Some(merged.is_visible(path, layer));
                }
            }
        }
        for a in &self.image_analyzers {
            a.analyze_image(image, &mut findings);
        }
        for a in &self.file_analyzers {
            a.finish(Some(&merged), &mut findings);
        }
        let platform = match (&image.config.os, &image.config.architecture) {
            (Some(os), Some(arch)) => Some(format!("{os}/{arch}")),
            _ => None,
        };
        let mut report = Report {
            kind: "image".to_string(),
            target: image.target.clone(),
            image: Some(ImageReport {
                names: image.names.clone(),
                manifest_digest: image.manifest_digest.clone(),
                config_digest: image.config_digest.clone(),
                platform,
                layers: layer_reports,
                final_entries: merged.len(),
            }),
            findings,
            stats,
        };
        report.normalize();
        Ok(ImageScan { report, merged })
    }

    /// Scans a directory tree (a root filesystem or a project). Symlinks are not followed.
    pub fn scan_dir(&self, root: &Path) -> Result<Report, ScanError> {
        let mut guards = Vec::new();
        let (mut findings, stats) = self.run_pipeline(|submit, stats| {
            let mut visitor = LayerWalk {
                origin: Origin::Filesystem,
                layer: 0,
                merged: None,
                submit,
                analyzers: &self.file_analyzers,
                limits: &self.options.limits,
                guards: &mut guards,
                stats,
            };
            walk_dir(root, &mut visitor)
        })?;
        findings.append(&mut guards);
        for a in &self.file_analyzers {
            a.finish(None, &mut findings);
        }
        let mut report = Report {
            kind: "fs".to_string(),
            target: root.display().to_string(),
            image: None,
            findings,
            stats,
        };
        report.normalize();
        Ok(report)
    }

    /// Runs `produce` (which submits files) while worker threads analyze them; returns all file findings.
    pub(crate) fn run_pipeline<F>(&self, produce: F) -> Result<(Vec<Finding>, ScanStats), ScanError>
    where
        F: FnOnce(&Submit<'_>, &mut ScanStats) -> Result<(), ScanError>,
    {
        let threads = self.threads();
        let budget = ByteBudget::new(self.options.memory_budget.max(self.options.limits.max_scan_bytes));
        let results: Mutex<Vec<Finding>> = Mutex::new(Vec::new());
        let mut stats = ScanStats::default();
        let outcome = std::thread::scope(|scope| {
            let (tx, rx) = sync_channel::<Job>(threads * 4);
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..threads {
                let rx = Arc::clone(&rx);
                let (budget, results) = (&budget, &results);
                scope.spawn(move || worker_loop(&self.file_analyzers, &rx, budget, results));
            }
            let submit = Submit { tx, budget: &budget };
            let r = produce(&submit, &mut stats);
            drop(submit);
            r
        });
        outcome?;
        let findings = results.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok((findings, stats))
    }
}

struct Job {
    file: FileRef,
    content: Vec<u8>,
    wanted: Vec<bool>,
}

/// Hands files to the workers, waiting while the byte budget is spent.
pub(crate) struct Submit<'a> {
    tx: SyncSender<Job>,
    budget: &'a ByteBudget,
}

impl Submit<'_> {
    fn send(&self, job: Job) {
        self.budget.acquire(job.content.len() as u64);
        let len = job.content.len() as u64;
        if self.tx.send(job).is_err() {
            self.budget.release(len);
        }
    }
}

fn worker_loop(
    analyzers: &[Arc<dyn FileAnalyzer>],
    rx: &Mutex<Receiver<Job>>,
    budget: &ByteBudget,
    results: &Mutex<Vec<Finding>>,
) {
    let mut workers: Vec<Box<dyn FileWorker + '_>> = analyzers.iter().map(|a| a.worker()).collect();
    let mut local = Vec::new();
    loop {
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => break,
        };
        let Ok(job) = job else { break };
        for (worker, wanted) in workers.iter_mut().zip(&job.wanted) {
            if *wanted {
                worker.analyze(&job.file, &job.content, &mut local);
            }
        }
        budget.release(job.content.len() as u64);
    }
    if let Ok(mut r) = results.lock() {
        r.append(&mut local);
    }
}

/// Bounds the file content in flight.
pub(crate) struct ByteBudget {
    used: Mutex<u64>,
    freed: Condvar,
    cap: u64,
}

impl ByteBudget {
    fn new(cap: u64) -> Self {
        ByteBudget {
            used: Mutex::new(0),
            freed: Condvar::new(),
            cap,
        }
    }

    fn acquire(&self, n: u64) {
        let Ok(mut used) = self.used.lock() else { return };
        while *used > 0 && *used + n > self.cap {
            used = match self.freed.wait(used) {
                Ok(g) => g,
                Err(_) => return,
            };
        }
        *used += n;
    }

    fn release(&self, n: u64) {
        if let Ok(mut used) = self.used.lock() {
            *used = used.saturating_sub(n);
        }
        self.freed.notify_all();
    }
}

/// Per-layer (or per-directory) visitor: feeds the merged view, records guards, submits wanted files.
struct LayerWalk<'a, 's> {
    origin: Origin,
    layer: usize,
    merged: Option<&'a mut MergedView>,
    submit: &'a Submit<'s>,
    analyzers: &'a [Arc<dyn FileAnalyzer>],
    limits: &'a Limits,
    guards: &'a mut Vec<Finding>,
    stats: &'a mut ScanStats,
}

impl LayerVisitor for LayerWalk<'_, '_> {
    fn entry(&mut self, meta: &EntryMeta, content: &mut dyn Read) -> std::io::Result<()> {
        if let Some(m) = self.merged.as_deref_mut() {
            m.apply(self.layer, meta);
        }
        if meta.kind != EntryKind::File {
            return Ok(());
        }
        self.stats.files_seen += 1;
        let file = FileRef {
            origin: self.origin.clone(),
            path: meta.path.clone(),
            size: meta.size,
            mode: meta.mode,
            truncated: meta.size > self.limits.max_scan_bytes,
        };
        let wanted: Vec<bool> = self.analyzers.iter().map(|a| a.wants(&file)).collect();
        if !wanted.iter().any(|&w| w) {
            return Ok(());
        }
        let mut data = Vec::with_capacity(meta.size.min(self.limits.max_scan_bytes) as usize);
        content.read_to_end(&mut data)?;
        self.stats.files_analyzed += 1;
        self.stats.bytes_analyzed += data.len() as u64;
        self.submit.send(Job {
            file,
            content: data,
            wanted,
        });
        Ok(())
    }

    fn guard(&mut self, issue: GuardIssue) {
        self.guards.push(guard_finding(&issue, &self.origin));
    }
}

fn guard_severity(kind: GuardKind) -> Severity {
    match kind {
        GuardKind::PathTraversal
        | GuardKind::WriteThroughSymlink
        | GuardKind::HardLinkEscape
        | GuardKind::DecompressionBomb => Severity::High,
        GuardKind::SymlinkEscape
        | GuardKind::DeviceFile
        | GuardKind::TooManyEntries
        | GuardKind::OversizedHeader
        | GuardKind::CorruptArchive => Severity::Medium,
        GuardKind::AbsolutePath | GuardKind::DanglingHardLink | GuardKind::GiantEntry => Severity::Low,
    }
}

/// A guard issue as a finding.
pub fn guard_finding(issue: &GuardIssue, origin: &Origin) -> Finding {
    let mut location = Location::default();
    if let Origin::Layer { index, digest } = origin {
        location.layer = Some(*index);
        location.layer_digest = Some(digest.clone());
    }
    location.path = issue.path.clone();
    Finding::new(
        Category::Guard,
        guard_severity(issue.kind),
        format!("guard:{}", issue.kind.as_str()),
        format!("unsafe archive entry: {}", issue.kind.as_str()),
        issue.detail.clone(),
        location,
    )
}

/// Depth-first walk of a directory, feeding regular files to the visitor as if they were layer entries.
fn walk_dir(root: &Path, visitor: &mut LayerWalk<'_, '_>) -> Result<(), ScanError> {
    let io_err = |p: &Path, source| ScanError::Io {
        path: p.display().to_string(),
        source,
    };
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| io_err(&dir, e))?
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
                continue;
            }
            if !ft.is_file() {
                continue;
            }
            let Ok(md) = entry.metadata() else { continue };
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            #[cfg(unix)]
            let mode = std::os::unix::fs::PermissionsExt::mode(&md.permissions());
            #[cfg(not(unix))]
            let mode = 0o644;
            let meta = EntryMeta {
                path: rel,
                kind: EntryKind::File,
                size: md.len(),
                mode,
                uid: 0,
                gid: 0,
                link_target: None,
            };
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot read file");
                    continue;
                }
            };
            let mut limited = file.take(visitor.limits.max_scan_bytes);
            visitor.entry(&meta, &mut limited).map_err(|e| io_err(&path, e))?;
        }
    }
    Ok(())
}
