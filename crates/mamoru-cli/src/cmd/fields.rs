//! `mamoru fields`: the field catalogue of each source, as `falco --list` prints it.

use anyhow::{bail, Result};
use mamoru_cli::rulesets::{json_catalog, known_sources, syscall_catalog};
use mamoru_fields::{ArgForm, ArgSpec, FieldInfo};
use std::process::ExitCode;

pub fn list(source: Option<&str>) -> Result<ExitCode> {
    let sources = known_sources();
    if let Some(s) = source {
        if !sources.iter().any(|k| k == s) {
            bail!("unknown source '{s}' (known: {})", sources.join(", "));
        }
    }
    for s in sources.iter().filter(|s| source.is_none_or(|want| want == s.as_str())) {
        let fields = if s == "syscall" {
            syscall_catalog().fields()
        } else {
            match json_catalog(s) {
                Some(c) => c.fields(),
                None => continue,
            }
        };
        println!("Event Source: {s}\n");
        for f in fields.iter().filter(|f| !f.flags.hidden) {
            print_field(f);
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

fn print_field(f: &FieldInfo) {
    let arg = match f.arg {
        ArgSpec::None => String::new(),
        ArgSpec::Required(form) => format!(" [arg required: {}]", form_name(form)),
        ArgSpec::Optional(form) => format!(" [arg optional: {}]", form_name(form)),
    };
    let list = if f.flags.is_list { " (list)" } else { "" };
    let deprecated = if f.flags.deprecated { " (deprecated)" } else { "" };
    println!("{:<40} {}{list}{arg}{deprecated}", f.name, f.ty.falco_name());
    println!("{:<40} {}", "", f.desc);
}

fn form_name(form: ArgForm) -> &'static str {
    match form {
        ArgForm::Index => "index",
        ArgForm::Key => "key",
        ArgForm::IndexOrKey => "index or key",
    }
}
