//! The condition grammar: what Falco accepts, what it rejects and with which message, the canonical printer, and
//! robustness against deep or huge input.

use mamoru_rules::ast::{CmpOp, Expr, Modifier, Operand, Rhs, TransformArg, Transformer};
use mamoru_rules::{parse_condition, parse_condition_with_max_depth, MAX_PARSE_DEPTH};

fn ok(text: &str) -> Expr {
    match parse_condition(text) {
        Ok(e) => e,
        Err(e) => panic!("{text:?} should parse, got {e:?}"),
    }
}

fn err(text: &str) -> String {
    match parse_condition(text) {
        Ok(e) => panic!("{text:?} should not parse, got {e:?}"),
        Err(e) => e.message,
    }
}

fn canon(text: &str) -> String {
    ok(text).to_string()
}

/// Runs `f` on a thread with the 2 MiB stack tests get by default, whatever RUST_MIN_STACK says.
fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no overflow");
}

#[test]
fn checks_and_operators() {
    assert_eq!(canon("evt.type=open"), "evt.type = open");
    assert_eq!(canon("evt.type == open"), "evt.type = open");
    assert_eq!(canon("fd.num>=0"), "fd.num >= 0");
    assert_eq!(canon("fd.num < -1"), "fd.num < -1");
    assert_eq!(canon("evt.rawres <= 0x10"), "evt.rawres <= 0x10");
    assert_eq!(canon("x.y > 1.5e+3"), "x.y > 1.5e+3");
    assert_eq!(canon("proc.name != bash"), "proc.name != bash");
    for op in [
        "contains",
        "icontains",
        "bcontains",
        "startswith",
        "bstartswith",
        "endswith",
        "glob",
        "iglob",
        "regex",
    ] {
        assert_eq!(canon(&format!("fd.name {op} abc")), format!("fd.name {op} abc"));
    }
    assert_eq!(canon("proc.name in (a, b)"), "proc.name in (a, b)");
    assert_eq!(canon("proc.name in(a,b)"), "proc.name in (a, b)");
    assert_eq!(canon("proc.name in ()"), "proc.name in ()");
    assert_eq!(canon("ka.groups intersects (a)"), "ka.groups intersects (a)");
    assert_eq!(
        canon("fd.name pmatch (/tmp, '/var/lib')"),
        "fd.name pmatch (/tmp, /var/lib)"
    );
    assert_eq!(canon("proc.name exists"), "proc.name exists");
    // `exists` needs no blank after it.
    assert_eq!(canon("test.op existsand macro"), "(test.op exists and macro)");
}

#[test]
fn boolean_structure_and_precedence() {
    assert_eq!(canon("a and b or c"), "((a and b) or c)");
    assert_eq!(canon("a or b and c"), "(a or (b and c))");
    assert_eq!(canon("a and b and c"), "(a and b and c)");
    assert_eq!(canon("a and (b and c)"), "(a and (b and c))");
    assert_eq!(canon("not a"), "not a");
    assert_eq!(canon("not not a"), "a");
    assert_eq!(canon("not(a)"), "not a");
    assert_eq!(canon("not (a or b)"), "not (a or b)");
    assert_eq!(canon("a and(b)"), "(a and b)");
    assert_eq!(canon("a or(b)"), "(a or b)");
    assert_eq!(canon("((a))"), "a");
    assert_eq!(canon("  a  and\n\tb "), "(a and b)");
    // Identifiers that merely start with a keyword are macro names.
    assert_eq!(canon("notify and android_x"), "(notify and android_x)");
}

#[test]
fn fields_and_arguments() {
    match ok("proc.aname[2] = bash") {
        Expr::Compare {
            lhs: Operand::Field { name, arg, .. },
            ..
        } => {
            assert_eq!(name, "proc.aname");
            assert_eq!(arg.as_deref(), Some("2"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(canon("proc.env[HOME] = /root"), "proc.env[HOME] = /root");
    assert_eq!(canon("proc.env['MY VAR'] = x"), "proc.env[\"MY VAR\"] = x");
    assert_eq!(
        canon("container.mount.dest[/var/run/docker.sock] exists"),
        "container.mount.dest[/var/run/docker.sock] exists"
    );
    // Dotted names stay whole.
    match ok("evt.arg.flags contains O_RDONLY") {
        Expr::Compare {
            lhs: Operand::Field { name, arg, .. },
            ..
        } => {
            assert_eq!(name, "evt.arg.flags");
            assert_eq!(arg, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(canon("k8s.ns.name = default"), "k8s.ns.name = default");
}

#[test]
fn values_quoting_and_escapes() {
    let value = |text: &str| match ok(text) {
        Expr::Compare { rhs: Rhs::Value(v), .. } => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(value("a.b = 'x y'"), "x y");
    assert_eq!(value("a.b = \"x\\\"y\""), "x\"y");
    assert_eq!(value("a.b = 'it\\'s'"), "it's");
    assert_eq!(value("a.b = \"t\\tn\\nr\\r\\\\/\\/\""), "t\tn\nr\r\\//");
    assert_eq!(value("a.b = \"legacy\\ space\""), "legacy\\space");
    assert_eq!(value("a.b = \"\""), "");
    assert_eq!(value("fd.name=/etc/passwd"), "/etc/passwd");
    assert_eq!(value("a.b = é"), "é");
    assert_eq!(err("a.b = \"\\q\""), "unsupported string escape sequence: \\q");
    assert_eq!(err("a.b = \"\\x41\""), "unsupported string escape sequence: \\x");
    assert_eq!(err("a.b = '\\\"'"), "invalid \\\" escape in '-quoted string");
    assert_eq!(err("a.b = \"\\'\""), "invalid \\' escape in \"-quoted string");
    // Printing quotes what would not read back bare.
    assert_eq!(canon("a.b = 'x y'"), "a.b = \"x y\"");
    assert_eq!(canon("a.b = 'x,y'"), "a.b = \"x,y\"");
    assert_eq!(canon("a.b in ('(systemd)', '')"), "a.b in (\"(systemd)\", \"\")");
    // A value ending in a backslash can only be written with the legacy `\ ` escape.
    assert_eq!(canon("a.b = 'tail\\ '"), "a.b = \"tail\\ \"");
    assert_eq!(value(&canon("a.b = 'tail\\ '")), "tail\\");
}

#[test]
fn rhs_fields_transformers_and_modifiers() {
    match ok("fd.name = val(fs.path.name)") {
        Expr::Compare {
            rhs: Rhs::Operand(Operand::Field { name, .. }),
            ..
        } => assert_eq!(name, "fs.path.name"),
        other => panic!("{other:?}"),
    }
    assert_eq!(canon("fd.name = val( fs.path.name )"), "fd.name = val(fs.path.name)");
    assert_eq!(canon("tolower(proc.name) = bash"), "tolower(proc.name) = bash");
    assert_eq!(
        canon("toupper(basename(fd.name)) = X"),
        "toupper(basename(fd.name)) = X"
    );
    assert_eq!(canon("len(proc.args) > 3"), "len(proc.args) > 3");
    assert_eq!(
        canon("b64(evt.buffer) bcontains 48545450"),
        "b64(evt.buffer) bcontains 48545450"
    );
    assert_eq!(
        canon("proc.name = tolower(proc.pname)"),
        "proc.name = tolower(proc.pname)"
    );
    assert_eq!(canon("join(\",\", proc.args) = a"), "join(\",\", proc.args) = a");
    assert_eq!(
        canon("concat(proc.name, \"-\", 1) = a"),
        "concat(proc.name, \"-\", 1) = a"
    );
    assert_eq!(
        canon("getopt(proc.args, \"ab:\")[b] = x"),
        "getopt(proc.args, \"ab:\")[b] = x"
    );
    assert_eq!(canon("concat((proc.name, 'x')) = y"), "concat((proc.name, \"x\")) = y");
    match ok("getopt(proc.args, 'ab:')[b] = x") {
        Expr::Compare {
            lhs: Operand::Transform { kind, args, arg, .. },
            ..
        } => {
            assert_eq!(kind, Transformer::Getopt);
            assert_eq!(args.len(), 2);
            assert_eq!(args[1], TransformArg::Literal("ab:".to_string()));
            assert_eq!(arg.as_deref(), Some("b"));
        }
        other => panic!("{other:?}"),
    }
    match ok("proc.name startswith anyof (a, 'b c')") {
        Expr::Compare { op, modifier, rhs, .. } => {
            assert_eq!(op, CmpOp::StartsWith);
            assert_eq!(modifier, Some(Modifier::AnyOf));
            assert_eq!(rhs, Rhs::List(vec!["a".to_string(), "b c".to_string()]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(canon("proc.name = oneof my_list"), "proc.name = oneof my_list");
    assert_eq!(canon("proc.name contains allof (x)"), "proc.name contains allof (x)");
    // Without a list after it, the word is an ordinary value.
    assert_eq!(canon("proc.name = anyof"), "proc.name = anyof");
    assert_eq!(canon("proc.name = anyof and x"), "(proc.name = anyof and x)");
    // A bare identifier where a list is expected is kept as a list name.
    match ok("proc.name in shell_binaries") {
        Expr::Compare {
            rhs: Rhs::ListName(n), ..
        } => assert_eq!(n, "shell_binaries"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rejections_with_falco_messages() {
    assert_eq!(err(""), "filter input string is empty");
    assert_eq!(
        err("evt.type = open )"),
        "unexpected token after 'open', expecting 'or', 'and'"
    );
    assert_eq!(err("(a) b"), "unexpected token after ')', expecting 'or', 'and'");
    assert_eq!(err("(a"), "expected a ')' token");
    assert_eq!(err("a andx"), "expected blank or '(' after 'and'");
    assert_eq!(err("a ory"), "expected blank or '(' after 'or'");
    assert_eq!(err("a.b"), "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'");
    assert_eq!(err("test.op startswithvalue"), err("a.b"));
    assert_eq!(err("a.b > x"), "expected a number value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'");
    assert_eq!(err("a.b = )"), "expected a string value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'");
    assert_eq!(err("a.b in (x,)"), "expected a string value");
    assert_eq!(err("a.b in (x"), "expected a ')' token");
    assert_eq!(err("a.b in 'x'"), "expected a list, an identifier, or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'");
    assert_eq!(err("a.b[x = 1"), "expected a ']' token");
    assert_eq!(
        err("a.b[] = 1"),
        "expected a valid field argument: a quoted string or a bare string"
    );
    assert_eq!(err("= x"), "expected a '(' token, a field check, or an identifier");
    assert_eq!(err("a.b = val(x)"), "expected a field within 'val' transformer");
    assert_eq!(err("a.b = val(x.y"), "expected a ')' token closing the transformer");
    assert_eq!(err("tolower(a) = b"), "expected a field or a nested valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'");
    assert_eq!(err("a.b = 'unterminated"), "expected a string value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'");
    // A backslash right before the quote does not close the string.
    assert!(parse_condition("a.b = \"x\\\\\"").is_err());
    // `val(...)` is not a left-hand side: `val` reads as a macro name, then garbage follows.
    assert_eq!(
        err("val(a.b) = c"),
        "unexpected token after 'val', expecting 'or', 'and'"
    );
    // Trailing garbage after a number.
    assert_eq!(err("a.b > 10abc"), "unexpected token after '10', expecting 'or', 'and'");
    // Word operators need a space, not any blank.
    assert!(parse_condition("a.b contains\nx").is_err());
}

#[test]
fn error_positions() {
    let e = parse_condition("evt.type = open and\n  (proc.name = x").expect_err("unbalanced");
    assert_eq!(e.message, "expected a ')' token");
    assert_eq!((e.pos.line, e.pos.col, e.pos.offset), (2, 17, 36));
    let e = parse_condition("a and )").expect_err("bad");
    assert_eq!((e.pos.line, e.pos.col), (1, 7));
}

#[test]
fn depth_limit_is_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        let deep = format!("{}a.b = 1{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = parse_condition(&deep).expect_err("too deep");
        assert_eq!(e.message, format!("exceeded max depth limit of {MAX_PARSE_DEPTH}"));

        let nots = format!("{}a.b = 1{}", "not (".repeat(10_000), ")".repeat(10_000));
        assert!(parse_condition(&nots)
            .expect_err("too deep")
            .message
            .starts_with("exceeded max depth"));

        let mixed = format!("{}a.b = 1{}", "a.c = 2 and (x or (".repeat(5_000), "))".repeat(5_000));
        assert!(parse_condition(&mixed)
            .expect_err("too deep")
            .message
            .starts_with("exceeded max depth"));

        let transformers = format!("{}proc.name{} = x", "tolower(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_condition(&transformers)
            .expect_err("too deep")
            .message
            .starts_with("exceeded max depth"));

        // libsinsp's own default limit of 100.
        let forty = format!("{}a.b = 1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse_condition(&forty).is_ok());
        assert!(parse_condition_with_max_depth(&forty, 100).is_err());
    });
}

#[test]
fn deepest_accepted_nesting_prints_clones_and_drops_safely() {
    on_small_stack(|| {
        // Find the deepest `not (` nesting the parser accepts and exercise the tree.
        let mut depth = 1;
        let mut best = None;
        while let Ok(e) = parse_condition(&format!("{}a.b = 1{}", "not (".repeat(depth), ")".repeat(depth))) {
            best = Some(e);
            depth += 1;
        }
        let e = best.expect("some nesting is accepted");
        assert!(depth > 150, "only {depth} levels accepted");
        let printed = e.to_string();
        assert!(printed.starts_with("not not not"));
        assert_eq!(e.depth(), depth);
        let cloned = e.clone();
        assert_eq!(cloned, e);
        drop(cloned);
        drop(e);
    });
}

#[test]
fn a_million_item_list() {
    on_small_stack(|| {
        let items: Vec<String> = (0..1_000_000).map(|i| format!("v{i}")).collect();
        let text = format!("proc.name in ({})", items.join(", "));
        match parse_condition(&text).expect("parses") {
            Expr::Compare {
                rhs: Rhs::List(values), ..
            } => {
                assert_eq!(values.len(), 1_000_000);
                assert_eq!(values[999_999], "v999999");
            }
            other => panic!("{other:?}"),
        }
        let long_or = vec!["a.b = 1"; 100_000].join(" or ");
        match parse_condition(&long_or).expect("parses") {
            Expr::Or(children) => assert_eq!(children.len(), 100_000),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn printing_round_trips() {
    for text in [
        "evt.type in (open, openat) and not proc.name in (\"a b\", 'c,d', '') or fd.name glob '/tmp/*'",
        "not (a or not b) and c.d exists and tolower(x.y) startswith anyof (p, q)",
        "x.y = val(z.w) and len(p.q) >= 0x1F and a.b[\"k]\"] = \"\\n\\t\"",
    ] {
        let e = ok(text);
        let printed = e.to_string();
        let reparsed = ok(&printed);
        assert_eq!(strip(&reparsed), strip(&e), "{printed}");
        assert_eq!(reparsed.to_string(), printed);
    }
}

/// The tree with every position zeroed (positions differ between the original and the printed text).
fn strip(e: &Expr) -> Expr {
    use mamoru_rules::ast::Pos;
    fn operand(o: &Operand) -> Operand {
        match o {
            Operand::Field { name, arg, .. } => Operand::Field {
                name: name.clone(),
                arg: arg.clone(),
                pos: Pos::default(),
            },
            Operand::Transform { kind, args, arg, .. } => Operand::Transform {
                kind: *kind,
                args: args.iter().map(targ).collect(),
                arg: arg.clone(),
                pos: Pos::default(),
            },
        }
    }
    fn targ(a: &TransformArg) -> TransformArg {
        match a {
            TransformArg::Operand(o) => TransformArg::Operand(operand(o)),
            TransformArg::Literal(l) => TransformArg::Literal(l.clone()),
            TransformArg::List(items) => TransformArg::List(items.iter().map(targ).collect()),
        }
    }
    match e {
        Expr::And(c) => Expr::And(c.iter().map(strip).collect()),
        Expr::Or(c) => Expr::Or(c.iter().map(strip).collect()),
        Expr::Not(c) => Expr::Not(Box::new(strip(c))),
        Expr::Macro { name, .. } => Expr::Macro {
            name: name.clone(),
            pos: Pos::default(),
        },
        Expr::Exists { lhs, .. } => Expr::Exists {
            lhs: operand(lhs),
            pos: Pos::default(),
        },
        Expr::Compare {
            lhs, op, modifier, rhs, ..
        } => Expr::Compare {
            lhs: operand(lhs),
            op: *op,
            modifier: *modifier,
            rhs: match rhs {
                Rhs::Operand(o) => Rhs::Operand(operand(o)),
                other => other.clone(),
            },
            pos: Pos::default(),
        },
    }
}
