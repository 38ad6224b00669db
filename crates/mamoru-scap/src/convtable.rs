//! The conversion rules (`data/converter-table.txt`), loaded once and indexed by `(event type, parameter count)`.

use std::collections::HashMap;
use std::sync::OnceLock;

use mamoru_event::event_table;

/// What to do with an event matching a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Remember it as the thread's pending enter event.
    Store,
    /// Leave it as it is.
    Pass,
    /// Remember it and leave it as it is.
    StorePass,
    /// Append one parameter per instruction.
    Add,
    /// Rewrite to this event type with one parameter per instruction.
    Change(u16),
}

/// Where one parameter of the converted event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instr {
    /// Parameter N of the event being converted.
    Old(u8),
    /// Parameter N of the stored enter event; when there is none, an empty parameter if `empty_if_missing`, else
    /// the type's default value.
    Enter { index: u8, empty_if_missing: bool },
    /// The parameter type's default value.
    Default,
    /// A zero-length parameter.
    Empty,
    /// The JSON description of a container, built from the old `PPME_CONTAINER_E` parameters.
    ContainerJson,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub action: Action,
    pub instrs: Vec<Instr>,
}

pub(crate) type Table = HashMap<(u16, u8), Rule>;

const SOURCE: &str = include_str!("../data/converter-table.txt");

/// The conversion table. Lines that do not parse are logged and left out; a unit test keeps that set empty.
pub(crate) fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let (table, errors) = parse(SOURCE);
        for e in errors {
            tracing::error!(target: "mamoru_scap::converter", "converter table: {e}");
        }
        table
    })
}

fn code_of(name: &str) -> Option<u16> {
    event_table()
        .iter()
        .find(|e| e.enum_name.strip_prefix("PPME_") == Some(name))
        .map(|e| e.code)
}

/// Parses the table text; returns the rules and a description of every line that could not be used.
pub(crate) fn parse(text: &str) -> (Table, Vec<String>) {
    let mut table = Table::new();
    let mut errors = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Ok((key, rule)) => {
                if table.insert(key, rule).is_some() {
                    errors.push(format!("line {}: duplicate rule for {key:?}", lineno + 1));
                }
            }
            Err(e) => errors.push(format!("line {}: {e}: {line}", lineno + 1)),
        }
    }
    (table, errors)
}

fn parse_line(line: &str) -> Result<((u16, u8), Rule), String> {
    let mut words = line.split_whitespace();
    let event = words.next().ok_or("missing event")?;
    let code = code_of(event).ok_or_else(|| format!("unknown event {event}"))?;
    let nparams: u8 = words
        .next()
        .ok_or("missing parameter count")?
        .parse()
        .map_err(|_| "bad parameter count")?;
    let action = match words.next().ok_or("missing action")? {
        "store" => Action::Store,
        "pass" => Action::Pass,
        "storepass" => Action::StorePass,
        "add" => Action::Add,
        "change" => {
            let target = words.next().ok_or("change without a target")?;
            Action::Change(code_of(target).ok_or_else(|| format!("unknown target {target}"))?)
        }
        other => return Err(format!("unknown action {other}")),
    };
    let instrs = words.map(parse_instr).collect::<Result<Vec<_>, _>>()?;
    Ok(((code, nparams), Rule { action, instrs }))
}

fn parse_instr(word: &str) -> Result<Instr, String> {
    let index = |s: &str| s.parse::<u8>().map_err(|_| format!("bad instruction {word}"));
    Ok(match word {
        "-" => Instr::Empty,
        "def" => Instr::Default,
        "cb:container_json" => Instr::ContainerJson,
        w if w.starts_with('o') => Instr::Old(index(&w[1..])?),
        w if w.starts_with('e') && w.ends_with('?') => Instr::Enter {
            index: index(&w[1..w.len() - 1])?,
            empty_if_missing: true,
        },
        w if w.starts_with('e') => Instr::Enter {
            index: index(&w[1..])?,
            empty_if_missing: false,
        },
        _ => return Err(format!("unknown instruction {word}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamoru_event::{event_info, flags, Direction};

    #[test]
    fn every_line_of_the_table_parses() {
        let (table, errors) = parse(SOURCE);
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(table.len() > 200);
    }

    /// The rules must agree with the event schema: neither a rewrite nor appended parameters exceed the schema, and
    /// parameters taken from the enter event exist there.
    #[test]
    fn rules_agree_with_the_event_schema() {
        for (&(code, n), rule) in table() {
            let info = event_info(code).unwrap();
            match rule.action {
                Action::Change(t) => {
                    let ti = event_info(t).unwrap();
                    assert!(
                        rule.instrs.len() <= ti.params.len(),
                        "{} {n} -> {}",
                        info.enum_name,
                        ti.enum_name
                    );
                }
                Action::Add => {
                    assert!(
                        n as usize + rule.instrs.len() <= info.params.len(),
                        "{} {n}: adds past the schema",
                        info.enum_name
                    );
                }
                _ => {
                    assert!(rule.instrs.is_empty());
                    continue;
                }
            }
            for ins in &rule.instrs {
                match *ins {
                    Instr::Old(i) => assert!(i < n, "{} {n}: takes old param {i}", info.enum_name),
                    Instr::Enter { index, .. } => {
                        // The stored enter event is the one paired with the event being converted.
                        let enter = event_info(code - 1).unwrap();
                        assert_eq!(enter.dir, Direction::Enter);
                        assert!(
                            (index as usize) < enter.params.len(),
                            "{}: enter param {index} beyond {}",
                            info.enum_name,
                            enter.enum_name
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    /// Following the rules from any rule's starting point must end in an event that needs no conversion: the
    /// newest version with all its parameters (or an enter event that is stored or passed).
    #[test]
    fn every_rule_chain_reaches_the_newest_version() {
        let t = table();
        for &(start, n) in t.keys() {
            let (mut code, mut np) = (start, n as usize);
            for _ in 0..16 {
                let info = event_info(code).unwrap();
                let managed = info.has_flag(flags::CONVERTER_MANAGED);
                let done = !managed
                    || (info.dir == Direction::Exit && !info.has_flag(flags::OLD_VERSION) && np == info.params.len());
                if done {
                    break;
                }
                let rule = t
                    .get(&(code, np as u8))
                    .unwrap_or_else(|| panic!("chain from {start}/{n} stops at {} with {np}", info.enum_name));
                match rule.action {
                    Action::Add => np += rule.instrs.len(),
                    Action::Change(to) => {
                        code = to;
                        np = rule.instrs.len();
                    }
                    _ => break,
                }
            }
        }
    }

    #[test]
    fn every_converter_managed_event_has_rules() {
        let (table, _) = parse(SOURCE);
        for e in event_table().iter().filter(|e| e.has_flag(flags::CONVERTER_MANAGED)) {
            assert!(
                table.keys().any(|(c, _)| *c == e.code),
                "{} is converter-managed but has no rule",
                e.enum_name
            );
        }
    }
}
