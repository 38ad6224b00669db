//! The plug-in points: per-file analyzers run over every file of every layer (or directory, or git blob), and
//! image analyzers run once over the image's metadata.

use crate::finding::Finding;
use mamoru_oci::{Image, MergedView};

/// Where a file came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A layer of an image (index 0 = base layer).
    Layer { index: usize, digest: String },
    /// A directory tree on disk.
    Filesystem,
    /// A blob added in a git commit.
    Commit { id: String },
}

/// A file handed to analyzers.
#[derive(Debug, Clone)]
pub struct FileRef {
    pub origin: Origin,
    /// Path relative to the image/directory/repository root.
    pub path: String,
    /// The file's full size (content may be cut at the scan cap, see `truncated`).
    pub size: u64,
    pub mode: u32,
    pub truncated: bool,
}

impl FileRef {
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }

    /// The last path component.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// A location for findings on this file.
    pub fn location(&self) -> crate::finding::Location {
        let mut loc = crate::finding::Location::in_file(self.path.clone());
        match &self.origin {
            Origin::Layer { index, digest } => {
                loc.layer = Some(*index);
                loc.layer_digest = Some(digest.clone());
            }
            Origin::Commit { id } => loc.commit = Some(id.clone()),
            Origin::Filesystem => {}
        }
        loc
    }
}

/// Per-thread state of an analyzer (e.g. a YARA scanner, which is not shareable between threads).
pub trait FileWorker {
    fn analyze(&mut self, file: &FileRef, content: &[u8], out: &mut Vec<Finding>);
}

/// An analyzer of file contents, run in parallel over files. Packages/SBOM analyzers plug in here too: they keep
/// what they collect behind a `Mutex` and emit it in [`FileAnalyzer::finish`], where the merged view tells which
/// files the final image still shows.
pub trait FileAnalyzer: Send + Sync {
    /// Short name for logs (`yara`, `hashes`, `miner`, `secrets`).
    fn name(&self) -> &'static str;
    /// Cheap check on metadata; a file whose content no analyzer wants is not read.
    fn wants(&self, _file: &FileRef) -> bool {
        true
    }
    /// State for one worker thread.
    fn worker(&self) -> Box<dyn FileWorker + '_>;
    /// Called once after all files, with the merged view for image scans.
    fn finish(&self, _merged: Option<&MergedView>, _out: &mut Vec<Finding>) {}
}

/// An analyzer of image metadata (reference, annotations, config), run once per image.
pub trait ImageAnalyzer: Send + Sync {
    fn name(&self) -> &'static str;
    fn analyze_image(&self, image: &Image, out: &mut Vec<Finding>);
}

/// Analysis that needs no per-thread state; wrap in [`StatelessWorker`] to serve as a [`FileWorker`].
pub trait StatelessAnalyze: Sync {
    fn analyze_file(&self, file: &FileRef, content: &[u8], out: &mut Vec<Finding>);
}

/// A [`FileWorker`] that calls a [`StatelessAnalyze`] through a shared reference.
pub struct StatelessWorker<'a, A: ?Sized>(pub &'a A);

impl<A: StatelessAnalyze + ?Sized> FileWorker for StatelessWorker<'_, A> {
    fn analyze(&mut self, file: &FileRef, content: &[u8], out: &mut Vec<Finding>) {
        self.0.analyze_file(file, content, out)
    }
}
