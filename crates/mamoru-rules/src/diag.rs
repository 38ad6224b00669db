//! How diagnostics print (what `mamoru rules validate` shows):
//!
//! ```text
//! rules.yaml:12:14: error: LOAD_ERR_COMPILE_CONDITION (rule 'Shell in container'): unexpected token after ...
//!     condition: evt.type = execve and )
//!                                      ^
//! ```

use crate::loaded::{Diagnostic, Severity};
use std::fmt::{self, Display, Formatter};

impl Display for Severity {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

impl Display for Diagnostic {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let loc = &self.location;
        write!(f, "{}", loc.file.display())?;
        if loc.line > 0 {
            write!(f, ":{}:{}", loc.line, loc.col)?;
        }
        write!(f, ": {}: {}", self.severity, self.code)?;
        if !loc.item_type.is_empty() {
            if loc.item_name.is_empty() {
                write!(f, " ({})", loc.item_type)?;
            } else {
                write!(f, " ({} '{}')", loc.item_type, loc.item_name)?;
            }
        }
        write!(f, ": {}", self.message)?;
        if !self.snippet.is_empty() {
            write!(f, "\n    {}", self.snippet)?;
            if loc.col > 0 {
                // Keep tabs so the caret lines up under tab-indented text.
                let pad: String = self
                    .snippet
                    .chars()
                    .take(loc.col as usize - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n    {pad}^")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::loaded::{Diagnostic, Location, Severity};
    use std::path::PathBuf;

    #[test]
    fn prints_position_item_and_caret() {
        let d = Diagnostic {
            severity: Severity::Error,
            code: "LOAD_ERR_COMPILE_CONDITION",
            message: "expected a ')' token".to_string(),
            location: Location {
                file: PathBuf::from("r.yaml"),
                line: 3,
                col: 5,
                item_type: "rule".to_string(),
                item_name: "x".to_string(),
            },
            snippet: "  a (b".to_string(),
        };
        assert_eq!(
            d.to_string(),
            "r.yaml:3:5: error: LOAD_ERR_COMPILE_CONDITION (rule 'x'): expected a ')' token\n      a (b\n        ^"
        );
    }

    #[test]
    fn file_level_problem_has_no_position() {
        let d = Diagnostic {
            severity: Severity::Warning,
            code: "LOAD_UNKNOWN_ITEM",
            message: "Unknown top level item".to_string(),
            location: Location {
                file: PathBuf::from("r.yaml"),
                ..Location::default()
            },
            snippet: String::new(),
        };
        assert_eq!(
            d.to_string(),
            "r.yaml: warning: LOAD_UNKNOWN_ITEM: Unknown top level item"
        );
    }
}
