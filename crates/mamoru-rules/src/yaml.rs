//! A small YAML tree with source positions, built from yaml-rust2's event stream.
//!
//! yaml-rust2 reports plain scalars verbatim (no YAML 1.1 resolution), so `comps: [=, in]` yields the string `=`,
//! like yaml-cpp, which Falco uses. Plain `~`, `null`, `Null`, `NULL` and empty plain scalars are nulls, as in
//! yaml-cpp. The tree is built iteratively and its nesting depth and size are bounded, so hostile input cannot
//! exhaust the stack (including when the tree is dropped) or memory (alias bombs).

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting of sequences/mappings accepted in a rules file.
pub(crate) const MAX_YAML_DEPTH: usize = 256;
/// Most nodes (counting alias expansions) accepted in a rules file.
pub(crate) const MAX_YAML_NODES: usize = 4_000_000;

/// Where a node starts: byte offset in the file text, 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Mark {
    pub byte: usize,
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum YValue {
    Null,
    Scalar(String),
    Seq(Vec<YNode>),
    Map(Vec<(YNode, YNode)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YNode {
    pub value: YValue,
    pub mark: Mark,
}

impl YNode {
    /// The value for `key` in a mapping (the first one if the key is repeated, as yaml-cpp does).
    pub fn get(&self, key: &str) -> Option<&YNode> {
        match &self.value {
            YValue::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, YValue::Scalar(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, YValue::Null)
    }

    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            YValue::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[YNode]> {
        match &self.value {
            YValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(YNode, YNode)]> {
        match &self.value {
            YValue::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub message: String,
    pub mark: Mark,
}

/// Parses every document of `text`; an empty or null document is `None`.
pub(crate) fn load_documents(text: &str) -> Result<Vec<Option<YNode>>, YamlError> {
    // yaml-rust2 is not known to panic, but a panic inside a third-party parser must not take the process down
    // while loading a user's file: it becomes an ordinary parse error.
    match catch_unwind(AssertUnwindSafe(|| Builder::new(text).run())) {
        Ok(result) => result,
        Err(_) => Err(YamlError {
            message: "internal YAML parser failure".to_string(),
            mark: Mark::default(),
        }),
    }
}

/// Converts yaml-rust2 markers (char index, 1-based line, 0-based column) to [`Mark`]s.
struct MarkConverter {
    /// Byte offset of each char index; `None` when the text is ASCII (char index == byte offset).
    char_bytes: Option<Vec<usize>>,
    len: usize,
}

impl MarkConverter {
    fn new(text: &str) -> Self {
        let char_bytes = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(b, _)| b).collect())
        };
        MarkConverter {
            char_bytes,
            len: text.len(),
        }
    }

    fn convert(&self, m: &Marker) -> Mark {
        let byte = match &self.char_bytes {
            None => m.index().min(self.len),
            Some(table) => table.get(m.index()).copied().unwrap_or(self.len),
        };
        Mark {
            byte,
            line: to_u32(m.line()),
            col: to_u32(m.col() + 1),
        }
    }
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

enum Frame {
    Seq {
        items: Vec<YNode>,
        mark: Mark,
        anchor: usize,
        size: usize,
    },
    Map {
        entries: Vec<(YNode, YNode)>,
        key: Option<YNode>,
        mark: Mark,
        anchor: usize,
        size: usize,
    },
}

struct Builder<'a> {
    text: &'a str,
    marks: MarkConverter,
    anchors: HashMap<usize, (YNode, usize)>,
    stack: Vec<Frame>,
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        Builder {
            text,
            marks: MarkConverter::new(text),
            anchors: HashMap::new(),
            stack: Vec::new(),
            nodes: 0,
        }
    }

    fn run(mut self) -> Result<Vec<Option<YNode>>, YamlError> {
        let mut parser = Parser::new_from_str(self.text);
        let mut docs = Vec::new();
        let mut root: Option<YNode> = None;
        loop {
            let (event, marker) = parser.next_token().map_err(|e| YamlError {
                message: e.info().to_string(),
                mark: self.marks.convert(e.marker()),
            })?;
            let mark = self.marks.convert(&marker);
            let completed = match event {
                Event::StreamEnd => break,
                Event::StreamStart | Event::Nothing => None,
                Event::DocumentStart => {
                    root = None;
                    self.anchors.clear();
                    None
                }
                Event::DocumentEnd => {
                    docs.push(root.take().filter(|n| !n.is_null()));
                    None
                }
                Event::Alias(id) => Some(self.alias(id, mark)?),
                Event::Scalar(value, style, anchor, _tag) => {
                    let node = scalar_node(value, style, mark);
                    Some(self.finish(node, anchor, 1)?)
                }
                Event::SequenceStart(anchor, _) => {
                    self.push(
                        Frame::Seq {
                            items: Vec::new(),
                            mark,
                            anchor,
                            size: 1,
                        },
                        mark,
                    )?;
                    None
                }
                Event::MappingStart(anchor, _) => {
                    self.push(
                        Frame::Map {
                            entries: Vec::new(),
                            key: None,
                            mark,
                            anchor,
                            size: 1,
                        },
                        mark,
                    )?;
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => Some(self.pop(mark)?),
            };
            if let Some((node, size)) = completed {
                if let Some(node) = self.attach(node, size) {
                    root = Some(node);
                }
            }
        }
        Ok(docs)
    }

    fn push(&mut self, frame: Frame, mark: Mark) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_YAML_DEPTH {
            return Err(YamlError {
                message: format!("nesting deeper than {MAX_YAML_DEPTH} levels"),
                mark,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn pop(&mut self, mark: Mark) -> Result<(YNode, usize), YamlError> {
        let unbalanced = || YamlError {
            message: "unbalanced collection end".to_string(),
            mark,
        };
        let (node, anchor, size) = match self.stack.pop().ok_or_else(unbalanced)? {
            Frame::Seq {
                items,
                mark,
                anchor,
                size,
            } => (
                YNode {
                    value: YValue::Seq(items),
                    mark,
                },
                anchor,
                size,
            ),
            Frame::Map {
                entries,
                mark,
                anchor,
                size,
                ..
            } => {
                // A mapping's position is where its first key is (what yaml-cpp reports for a block mapping).
                let mark = entries.first().map(|(k, _)| k.mark).unwrap_or(mark);
                (
                    YNode {
                        value: YValue::Map(entries),
                        mark,
                    },
                    anchor,
                    size,
                )
            }
        };
        self.finish(node, anchor, size)
    }

    /// Records a completed node's anchor and counts it against the size budget.
    fn finish(&mut self, node: YNode, anchor: usize, size: usize) -> Result<(YNode, usize), YamlError> {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        Ok((node, size))
    }

    fn alias(&mut self, id: usize, mark: Mark) -> Result<(YNode, usize), YamlError> {
        let (node, size) = self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
            message: "alias to an unknown anchor".to_string(),
            mark,
        })?;
        self.count(size, mark)?;
        Ok((node, size))
    }

    fn count(&mut self, size: usize, mark: Mark) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > MAX_YAML_NODES {
            return Err(YamlError {
                message: format!("document has more than {MAX_YAML_NODES} nodes"),
                mark,
            });
        }
        Ok(())
    }

    /// Adds a completed node to the enclosing collection; returns it when it is a document root.
    fn attach(&mut self, node: YNode, size: usize) -> Option<YNode> {
        self.nodes = self.nodes.saturating_add(1);
        match self.stack.last_mut() {
            None => Some(node),
            Some(Frame::Seq { items, size: total, .. }) => {
                items.push(node);
                *total = total.saturating_add(size);
                None
            }
            Some(Frame::Map {
                entries,
                key,
                size: total,
                ..
            }) => {
                *total = total.saturating_add(size);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                }
                None
            }
        }
    }
}

fn scalar_node(value: String, style: TScalarStyle, mark: Mark) -> YNode {
    let is_null = style == TScalarStyle::Plain && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL");
    let value = if is_null { YValue::Null } else { YValue::Scalar(value) };
    YNode { value, mark }
}

/// yaml-cpp's boolean spellings: y/n, yes/no, true/false, on/off, each lower-case, upper-case or capitalised.
pub(crate) fn decode_bool(s: &str) -> Option<bool> {
    const PAIRS: [(&str, &str); 4] = [("y", "n"), ("yes", "no"), ("true", "false"), ("on", "off")];
    let spelled = |word: &str| {
        s == word || s == word.to_ascii_uppercase() || {
            let mut c = word.chars();
            c.next()
                .is_some_and(|first| s == format!("{}{}", first.to_ascii_uppercase(), c.as_str()))
        }
    };
    PAIRS.iter().find_map(|(t, f)| {
        if spelled(t) {
            Some(true)
        } else if spelled(f) {
            Some(false)
        } else {
            None
        }
    })
}

/// An unsigned decimal integer as yaml-cpp decodes one (optional `+`, digits only).
pub(crate) fn decode_u64(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> YNode {
        load_documents(text)
            .expect("parses")
            .into_iter()
            .flatten()
            .next()
            .expect("one document")
    }

    #[test]
    fn equals_sign_is_a_plain_string() {
        let d = doc("- comps: [=, in]\n");
        let item = &d.as_seq().expect("seq")[0];
        let comps = item.get("comps").and_then(YNode::as_seq).expect("comps");
        assert_eq!(comps[0].as_scalar(), Some("="));
        assert_eq!(comps[1].as_scalar(), Some("in"));
    }

    #[test]
    fn null_spellings_and_quoted_null() {
        let d = doc("a: ~\nb: null\nc:\nd: 'null'\n");
        assert!(d.get("a").expect("a").is_null());
        assert!(d.get("b").expect("b").is_null());
        assert!(d.get("c").expect("c").is_null());
        assert_eq!(d.get("d").and_then(YNode::as_scalar), Some("null"));
    }

    #[test]
    fn positions_are_one_based() {
        let d = doc("# comment\n- rule: x\n  desc: y\n");
        let item = &d.as_seq().expect("seq")[0];
        assert_eq!((item.mark.line, item.mark.col), (2, 3));
        let desc = item.get("desc").expect("desc");
        assert_eq!((desc.mark.line, desc.mark.col), (3, 9));
        assert_eq!(
            &"# comment\n- rule: x\n  desc: y\n"[desc.mark.byte..desc.mark.byte + 1],
            "y"
        );
    }

    #[test]
    fn multi_document_and_empty_documents() {
        let docs = load_documents("- a\n---\n---\n- b\n").expect("parses");
        assert_eq!(docs.iter().flatten().count(), 2);
    }

    #[test]
    fn syntax_error_has_position() {
        let err = load_documents("- a: [b\n- c: d\n").expect_err("bad yaml");
        assert!(err.mark.line >= 1);
        assert!(!err.message.is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(load_documents(&text).is_err());
        let block = format!("{}x\n", "- ".repeat(5000));
        let err = load_documents(&block).expect_err("too deep");
        assert!(err.message.contains("nesting"), "{}", err.message);
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(load_documents(&text).is_err());
    }

    #[test]
    fn booleans_like_yaml_cpp() {
        for t in ["true", "True", "TRUE", "yes", "on", "y", "Y"] {
            assert_eq!(decode_bool(t), Some(true), "{t}");
        }
        for f in ["false", "False", "FALSE", "no", "off", "n"] {
            assert_eq!(decode_bool(f), Some(false), "{f}");
        }
        assert_eq!(decode_bool("tRue"), None);
        assert_eq!(decode_bool("1"), None);
    }
}
