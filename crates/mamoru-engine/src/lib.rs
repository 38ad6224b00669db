//! The rule engine: compiles Falco rule conditions and outputs against a source's field catalogue and evaluates
//! them per event.
//!
//! [`SourceRuleset::compile`] takes the loaded rules ([`mamoru_rules::loaded::LoadedRules`]) and a
//! [`mamoru_fields::Catalog`], type-checks every condition of that source the way libsinsp does (with its error
//! texts and Falco's diagnostic codes), and compiles it to a tree of specialised tests: constants are parsed once,
//! value lists become hash sets, `pmatch` lists path tries, `or`-chains of `contains` one Aho-Corasick automaton.
//! Rules are indexed by the event codes their condition can match, so [`SourceRuleset::evaluate`] only runs the
//! rules for the event's code, in definition order, stopping at the first match unless [`RuleMatching::All`].
//! Fields are extracted lazily, at most once per event, into a caller-owned [`Scratch`]; evaluating an event that
//! matches nothing allocates nothing. A matching rule renders an [`Alert`] from its compiled output format.

mod check;
mod compile;
mod consts;
mod evttype;
mod glob;
mod optimize;
mod output;
mod pmatch;
mod ruleset;
mod sets;
mod slots;
mod text;

pub use output::FieldJson;
pub use ruleset::{Alert, AlertSubject, CompiledRule, EngineConfig, RuleMatching, SourceRuleset};
pub use sets::CodeSet;
pub use slots::Scratch;
