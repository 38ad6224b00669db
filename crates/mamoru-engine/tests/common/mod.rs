//! A small event source for engine tests and benchmarks: events are plain structs, the catalogue has a field of
//! every type class, a list field, an any-of field (`proc.aname`), argument fields and flagged fields.
#![allow(dead_code)]

use mamoru_engine::{EngineConfig, SourceRuleset};
use mamoru_fields::{
    resolve_field_name, ArgForm, ArgSpec, BindError, BoundField, Catalog, Extractor, FieldFlags, FieldInfo, FieldType,
    IpNet, Source, Values,
};
use mamoru_rules::ast::Expr;
use mamoru_rules::loaded::{Diagnostic, LoadedRules, Location, Priority, RuleDef};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

pub struct TestSource;

impl Source for TestSource {
    type Event<'a> = Ev;
}

/// One test event. `None`/empty fields have no value.
#[derive(Debug, Clone, Default)]
pub struct Ev {
    pub code: u16,
    pub num: u64,
    pub proc_name: Option<String>,
    pub pid: Option<i64>,
    pub res: Option<i64>,
    pub args: Vec<String>,
    /// Ancestors, parent first (`proc.aname[1]` is `ancestors[0]`); `proc.aname[0]` is the process itself.
    pub ancestors: Vec<String>,
    pub env: Vec<(String, String)>,
    pub fd_name: Option<String>,
    pub exepath: Option<String>,
    pub ip: Option<IpAddr>,
    pub net: Option<IpNet>,
    pub ips: Vec<IpAddr>,
    pub port: Option<u16>,
    pub buffer: Option<Vec<u8>>,
    pub is_open: Option<bool>,
    pub uid: Option<u32>,
    pub rate: Option<f64>,
    pub fds: Vec<u64>,
}

/// Event code names (code = index). Code 100 is a second code for `openat` (like an older event version).
pub const NUM_CODES: usize = 120;
pub const NAMES: [&str; 8] = [
    "open",
    "openat",
    "execve",
    "connect",
    "accept",
    "mmap",
    "container",
    "close",
];

pub fn code_name(code: u16) -> String {
    match code {
        c if (c as usize) < NAMES.len() => NAMES[c as usize].to_string(),
        100 => "openat".to_string(),
        c => format!("sc{c}"),
    }
}

pub fn code_of(name: &str) -> u16 {
    TestCatalog
        .event_codes_for(name)
        .and_then(|c| c.first().copied())
        .unwrap_or(0)
}

impl Ev {
    pub fn new(evt_type: &str) -> Ev {
        Ev {
            code: code_of(evt_type),
            num: 1,
            ..Ev::default()
        }
    }
    pub fn proc(mut self, name: &str) -> Ev {
        self.proc_name = Some(name.to_string());
        self
    }
    pub fn fd(mut self, name: &str) -> Ev {
        self.fd_name = Some(name.to_string());
        self
    }
}

const fn f(name: &'static str, ty: FieldType) -> FieldInfo {
    FieldInfo {
        name,
        ty,
        arg: ArgSpec::None,
        flags: FieldFlags {
            is_list: false,
            no_rhs: false,
            no_transformer: false,
            hidden: false,
            dotted_arg: false,
            deprecated: false,
        },
        desc: "",
    }
}

const fn list(mut fi: FieldInfo) -> FieldInfo {
    fi.flags.is_list = true;
    fi
}

const fn with_arg(mut fi: FieldInfo, arg: ArgSpec, dotted: bool) -> FieldInfo {
    fi.arg = arg;
    fi.flags.dotted_arg = dotted;
    fi
}

static FIELDS: [FieldInfo; 24] = [
    f("evt.type", FieldType::Charbuf),
    f("evt.num", FieldType::Uint64),
    f("evt.res", FieldType::Errno),
    f("proc.name", FieldType::Charbuf),
    f("proc.pid", FieldType::Pid),
    list(f("proc.args", FieldType::Charbuf)),
    {
        let mut fi = with_arg(
            f("proc.aname", FieldType::Charbuf),
            ArgSpec::Optional(ArgForm::Index),
            false,
        );
        fi.flags.no_rhs = true;
        fi
    },
    with_arg(
        f("proc.env", FieldType::Charbuf),
        ArgSpec::Required(ArgForm::Key),
        false,
    ),
    f("proc.exepath", FieldType::Fspath),
    f("fd.name", FieldType::Fspath),
    f("fd.ip", FieldType::Ipaddr),
    f("fd.net", FieldType::Ipnet),
    list(f("fd.ips", FieldType::Ipaddr)),
    f("fd.port", FieldType::Port),
    f("evt.buffer", FieldType::Bytebuf),
    f("evt.is_open", FieldType::Bool),
    f("user.uid", FieldType::Uint32),
    f("evt.rate", FieldType::Double),
    with_arg(
        f("evt.arg", FieldType::Charbuf),
        ArgSpec::Required(ArgForm::IndexOrKey),
        true,
    ),
    {
        let mut fi = f("evt.dir", FieldType::Charbuf);
        fi.flags.deprecated = true;
        fi
    },
    list(f("proc.fds", FieldType::Uint64)),
    {
        let mut fi = f("fd.types", FieldType::Charbuf);
        fi.flags.no_transformer = true;
        fi.flags.no_rhs = true;
        fi
    },
    list(f("proc.durations", FieldType::Double)),
    f("fd.v4", FieldType::Ipv4addr),
];

struct Fx<F>(F);

impl<F: Fn(&Ev, &mut Values) + Send + Sync> Extractor<TestSource> for Fx<F> {
    fn extract(&self, ev: &Ev, out: &mut Values) {
        (self.0)(ev, out)
    }
}

fn fx(f: impl Fn(&Ev, &mut Values) + Send + Sync + 'static) -> Box<dyn Extractor<TestSource>> {
    Box::new(Fx(f))
}

pub struct TestCatalog;

impl Catalog<TestSource> for TestCatalog {
    fn source_name(&self) -> &'static str {
        "syscall"
    }

    fn fields(&self) -> &'static [FieldInfo] {
        &FIELDS
    }

    fn bind(&self, name: &str, arg: Option<&str>) -> Result<BoundField<TestSource>, BindError> {
        let (info, dotted) = resolve_field_name(&FIELDS, name).ok_or_else(|| BindError::UnknownField(name.into()))?;
        let arg = arg.or(dotted).map(str::to_string);
        match (info.arg, &arg) {
            (ArgSpec::None, Some(_)) => {
                return Err(BindError::ArgNotAllowed {
                    field: info.name.into(),
                })
            }
            (ArgSpec::Required(_), None) => {
                return Err(BindError::ArgRequired {
                    field: info.name.into(),
                })
            }
            _ => {}
        }
        let index = match (&arg, info.arg) {
            (Some(a), ArgSpec::Optional(ArgForm::Index)) => {
                Some(a.parse::<usize>().map_err(|_| BindError::BadArg {
                    field: info.name.into(),
                    arg: a.clone(),
                    why: "not a number".into(),
                })?)
            }
            _ => None,
        };
        let key = arg.clone().unwrap_or_default();
        let extractor = match info.name {
            "evt.type" => fx(|e, o| match e.code {
                c if (c as usize) < NAMES.len() => o.push_bytes(NAMES[c as usize].as_bytes()),
                100 => o.push_bytes(b"openat"),
                c => o.push_fmt(format_args!("sc{c}")),
            }),
            "evt.num" => fx(|e, o| o.push_u64(e.num)),
            "evt.res" => fx(|e, o| e.res.iter().for_each(|v| o.push_i64(*v))),
            "proc.name" => fx(|e, o| e.proc_name.iter().for_each(|v| o.push_bytes(v.as_bytes()))),
            "proc.pid" => fx(|e, o| e.pid.iter().for_each(|v| o.push_i64(*v))),
            "proc.args" => fx(|e, o| e.args.iter().for_each(|v| o.push_bytes(v.as_bytes()))),
            "proc.aname" => match index {
                None => fx(|e, o| e.ancestors.iter().for_each(|v| o.push_bytes(v.as_bytes()))),
                Some(0) => fx(|e, o| e.proc_name.iter().for_each(|v| o.push_bytes(v.as_bytes()))),
                Some(n) => fx(move |e, o| e.ancestors.get(n - 1).iter().for_each(|v| o.push_bytes(v.as_bytes()))),
            },
            "proc.env" => fx(move |e, o| {
                e.env
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .for_each(|(_, v)| o.push_bytes(v.as_bytes()))
            }),
            "proc.exepath" => fx(|e, o| e.exepath.iter().for_each(|v| o.push_bytes(v.as_bytes()))),
            "fd.name" => fx(|e, o| e.fd_name.iter().for_each(|v| o.push_bytes(v.as_bytes()))),
            "fd.ip" | "fd.v4" => fx(|e, o| e.ip.iter().for_each(|v| o.push_ip(*v))),
            "fd.net" => fx(|e, o| e.net.iter().for_each(|v| o.push_net(*v))),
            "fd.ips" => fx(|e, o| e.ips.iter().for_each(|v| o.push_ip(*v))),
            "fd.port" => fx(|e, o| e.port.iter().for_each(|v| o.push_u64(*v as u64))),
            "evt.buffer" => fx(|e, o| e.buffer.iter().for_each(|v| o.push_bytes(v))),
            "evt.is_open" => fx(|e, o| e.is_open.iter().for_each(|v| o.push_bool(*v))),
            "user.uid" => fx(|e, o| e.uid.iter().for_each(|v| o.push_u64(*v as u64))),
            "evt.rate" => fx(|e, o| e.rate.iter().for_each(|v| o.push_double(*v))),
            "evt.arg" => fx(move |e, o| match key.as_str() {
                "name" => e.proc_name.iter().for_each(|v| o.push_bytes(v.as_bytes())),
                "fd" | "0" => e.fd_name.iter().for_each(|v| o.push_bytes(v.as_bytes())),
                _ => {}
            }),
            "evt.dir" => fx(|_, o| o.push_bytes(b"<")),
            "proc.fds" => fx(|e, o| e.fds.iter().for_each(|v| o.push_u64(*v))),
            "fd.types" => fx(|e, o| e.fd_name.iter().for_each(|_| o.push_bytes(b"file"))),
            "proc.durations" => fx(|e, o| e.rate.iter().for_each(|v| o.push_double(*v))),
            other => return Err(BindError::UnknownField(other.into())),
        };
        Ok(BoundField {
            info,
            arg,
            any_of: info.name == "proc.aname" && index.is_none(),
            extractor,
        })
    }

    fn num_event_codes(&self) -> usize {
        NUM_CODES
    }

    fn event_codes_for(&self, evt_type: &str) -> Option<Vec<u16>> {
        if evt_type == "openat" {
            return Some(vec![1, 100]);
        }
        NAMES.iter().position(|n| *n == evt_type).map(|p| vec![p as u16])
    }

    fn event_code(&self, ev: &Ev) -> u16 {
        ev.code
    }
}

/// A rule definition from a condition text (parsed with the rules crate's parser).
pub fn rule(name: &str, condition: &str, output: &str) -> RuleDef {
    let expr = mamoru_rules::parse_condition(condition).unwrap_or_else(|e| panic!("test condition {condition:?}: {e}"));
    rule_from_expr(name, condition, expr, output)
}

pub fn rule_from_expr(name: &str, condition: &str, expr: Expr, output: &str) -> RuleDef {
    RuleDef {
        name: name.to_string(),
        desc: format!("{name} description"),
        condition_text: condition.to_string(),
        condition: expr,
        output: output.to_string(),
        priority: Priority::Warning,
        source: "syscall".to_string(),
        tags: BTreeSet::from(["test".to_string()]),
        enabled: true,
        warn_evttypes: true,
        skip_if_unknown_filter: false,
        capture: false,
        capture_duration_ms: 0,
        exception_fields: BTreeSet::new(),
        location: Location {
            file: "rules.yaml".into(),
            line: 1,
            col: 1,
            item_type: "rule".into(),
            item_name: name.to_string(),
        },
        condition_location: Location {
            file: "rules.yaml".into(),
            line: 3,
            col: 14,
            item_type: "rule".into(),
            item_name: name.to_string(),
        },
    }
}

pub fn loaded(rules: Vec<RuleDef>) -> LoadedRules {
    LoadedRules {
        rules,
        ..LoadedRules::default()
    }
}

pub fn compile_with(rules: Vec<RuleDef>, cfg: &EngineConfig) -> (SourceRuleset<TestSource>, Vec<Diagnostic>) {
    SourceRuleset::compile(&loaded(rules), Arc::new(TestCatalog), cfg)
}

pub fn compile(rules: Vec<RuleDef>) -> (SourceRuleset<TestSource>, Vec<Diagnostic>) {
    compile_with(rules, &EngineConfig::default())
}
