//! Rules files as loaded, and the bookkeeping that maps a byte of a (concatenated, list-substituted) condition back
//! to the line and column of the rules file it came from.

use crate::loaded::{Diagnostic, Location, Severity};
use crate::yaml::Mark;
use std::path::PathBuf;

/// One rules file's name and text.
pub(crate) struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, byte: usize) -> (u32, u32) {
        let byte = byte.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= byte).max(1);
        let start = self.line_starts[line - 1];
        let col = self.text.get(start..byte).map_or(byte - start, |s| s.chars().count()) + 1;
        (to_u32(line), to_u32(col))
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let Some(&start) = self.line_starts.get((line as usize).wrapping_sub(1)) else {
            return "";
        };
        let end = self.line_starts.get(line as usize).map_or(self.text.len(), |&e| e);
        self.text.get(start..end).unwrap_or("").trim_end_matches(['\n', '\r'])
    }
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A node of a rules file: which file, where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Origin {
    pub file: usize,
    pub mark: Mark,
}

/// The kind and name of the item a diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ItemId {
    pub kind: &'static str,
    pub name: String,
}

impl ItemId {
    pub fn new(kind: &'static str, name: impl Into<String>) -> Self {
        ItemId {
            kind,
            name: name.into(),
        }
    }
}

/// A failure on the way, before it is turned into a [`Diagnostic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub code: &'static str,
    pub message: String,
    pub at: Origin,
    /// A more precise file byte than `at` (e.g. the position of a condition parse error), if known.
    pub byte: Option<usize>,
}

impl Fail {
    pub fn new(code: &'static str, message: impl Into<String>, at: Origin) -> Self {
        Fail {
            code,
            message: message.into(),
            at,
            byte: None,
        }
    }
}

/// Text assembled from YAML scalars (a condition and its appends), remembering which scalar each part came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrackedText {
    pub text: String,
    /// (start byte in `text`, origin of the scalar that starts there; `None` for inserted separators).
    segments: Vec<(usize, Option<Origin>)>,
}

impl TrackedText {
    pub fn from_scalar(text: &str, origin: Origin) -> Self {
        TrackedText {
            text: text.to_string(),
            segments: vec![(0, Some(origin))],
        }
    }

    /// Appends `sep` (synthetic) and then another scalar.
    pub fn append(&mut self, sep: &str, other: &TrackedText) {
        self.segments.push((self.text.len(), None));
        self.text.push_str(sep);
        let base = self.text.len();
        self.segments.extend(other.segments.iter().map(|&(s, o)| (base + s, o)));
        self.text.push_str(&other.text);
    }

    /// Appends text that comes from no scalar (separators, compiled exceptions).
    pub fn push_synthetic(&mut self, s: &str) {
        self.segments.push((self.text.len(), None));
        self.text.push_str(s);
    }

    /// The origin of the first scalar (where the condition starts in the file).
    pub fn first_origin(&self) -> Option<Origin> {
        self.segments.iter().find_map(|&(_, o)| o)
    }

    /// File position of byte `offset` of the text: (file index, byte in that file).
    pub fn locate(&self, offset: usize, files: &[SourceFile]) -> Option<(usize, usize)> {
        let seg = self.segments.partition_point(|&(s, _)| s <= offset).checked_sub(1)?;
        let (start, origin) = self.segments[seg];
        let origin = origin?;
        let file = files.get(origin.file)?;
        let end = self.segments.get(seg + 1).map_or(self.text.len(), |&(e, _)| e);
        let value = self.text.get(start..end)?;
        let raw = file.text.get(origin.mark.byte..)?;
        Some((origin.file, origin.mark.byte + align(raw, value, offset - start)))
    }
}

/// How far into `raw` (a scalar as written in the file, possibly quoted or folded) the byte `k` of its decoded value
/// `value` sits. Matches decoded characters to raw ones greedily, skipping what decoding removed (quotes, escapes,
/// indentation, line folds) within a bounded window.
fn align(raw: &str, value: &str, k: usize) -> usize {
    const WINDOW: usize = 96;
    let mut r = 0;
    for (vi, c) in value.char_indices() {
        let found = raw
            .get(r..)
            .and_then(|rest| rest.char_indices().take(WINDOW).find(|&(_, rc)| rc == c));
        if vi >= k {
            return r + found.map_or(0, |(off, _)| off);
        }
        if let Some((off, rc)) = found {
            r += off + rc.len_utf8();
        }
    }
    r
}

/// Builds diagnostics with file positions and snippets.
pub(crate) struct DiagBuilder<'a> {
    pub files: &'a [SourceFile],
}

impl DiagBuilder<'_> {
    pub fn at(
        &self,
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        file: usize,
        byte: Option<usize>,
        item: &ItemId,
    ) -> Diagnostic {
        let mut location = Location {
            item_type: item.kind.to_string(),
            item_name: item.name.clone(),
            ..Location::default()
        };
        let mut snippet = String::new();
        if let Some(f) = self.files.get(file) {
            location.file = f.path.clone();
            if let Some(byte) = byte {
                let (line, col) = f.line_col(byte);
                location.line = line;
                location.col = col;
                snippet = f.line_text(line).to_string();
            }
        }
        Diagnostic {
            severity,
            code,
            message: message.into(),
            location,
            snippet,
        }
    }

    pub fn fail(&self, fail: &Fail, item: &ItemId) -> Diagnostic {
        let byte = fail.byte.unwrap_or(fail.at.mark.byte);
        let has_position = fail.byte.is_some() || fail.at.mark.line > 0;
        self.at(
            Severity::Error,
            fail.code,
            &fail.message,
            fail.at.file,
            has_position.then_some(byte),
            item,
        )
    }

    pub fn warn(&self, code: &'static str, message: impl Into<String>, at: Origin, item: &ItemId) -> Diagnostic {
        let byte = (at.mark.line > 0).then_some(at.mark.byte);
        self.at(Severity::Warning, code, message, at.file, byte, item)
    }

    /// A location for an item (its first key).
    pub fn location(&self, at: Origin, item: &ItemId) -> Location {
        self.warn("", "", at, item).location
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_plain_and_folded() {
        assert_eq!(align("abc def", "abc def", 4), 4);
        // Folded: "a and\n    b" decodes to "a and b".
        let raw = "a and\n    b\n";
        assert_eq!(&raw[align(raw, "a and b", 6)..][..1], "b");
        // Double-quoted with an escape.
        let raw = "\"x\\\"y\" rest";
        assert_eq!(&raw[align(raw, "x\"y", 2)..][..1], "y");
    }

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new(PathBuf::from("f"), "ab\né x\n".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(f.line_text(2), "é x");
    }
}
