//! The event codes for which a condition can be true (libsinsp `ppm_event_codes`): `and` intersects, `or` unites,
//! `evt.type = X` / `in (...)` select X's codes, `!=` complements, `not` is pushed to the leaves (De Morgan) so that
//! it only complements `evt.type` leaves, `evt.num = 0` can never hold, and every other check is neutral (all codes).

use crate::sets::CodeSet;
use mamoru_fields::{Catalog, Source};
use mamoru_rules::ast::{CmpOp, Expr, Operand, Rhs};

pub(crate) fn event_codes<S: Source>(e: &Expr, catalog: &dyn Catalog<S>) -> CodeSet {
    let n = catalog.num_event_codes();
    if n <= 1 {
        // A source with a single event code has nothing to index on.
        return CodeSet::all(n);
    }
    Visitor { catalog, n }.visit(e, false)
}

struct Visitor<'a, S: Source> {
    catalog: &'a dyn Catalog<S>,
    n: usize,
}

/// What a leaf says about event codes.
enum Leaf {
    /// Not about event types: all codes, whether negated or not.
    Neutral,
    /// True only for these codes (negation complements).
    Codes(CodeSet),
}

fn plain_field<'o>(o: &'o Operand, field: &str) -> Option<&'o Operand> {
    match o {
        Operand::Field { name, arg: None, .. } if name == field => Some(o),
        _ => None,
    }
}

impl<S: Source> Visitor<'_, S> {
    fn visit(&self, e: &Expr, negated: bool) -> CodeSet {
        match e {
            Expr::And(children) | Expr::Or(children) => {
                // Under negation `and` becomes `or` and vice versa.
                let conjunction = matches!(e, Expr::And(_)) != negated;
                let mut acc = if conjunction {
                    CodeSet::all(self.n)
                } else {
                    CodeSet::empty(self.n)
                };
                for c in children {
                    let s = self.visit(c, negated);
                    if conjunction {
                        acc.intersect_with(&s);
                    } else {
                        acc.union_with(&s);
                    }
                }
                acc
            }
            Expr::Not(child) => self.visit(child, !negated),
            leaf => match self.leaf(leaf) {
                Leaf::Neutral => CodeSet::all(self.n),
                Leaf::Codes(mut s) => {
                    if negated {
                        s.complement();
                    }
                    s
                }
            },
        }
    }

    fn leaf(&self, e: &Expr) -> Leaf {
        match e {
            Expr::Exists { lhs, .. } if plain_field(lhs, "evt.type").is_some() => Leaf::Codes(CodeSet::all(self.n)),
            Expr::Compare {
                lhs,
                op,
                modifier: None,
                rhs,
                ..
            } => {
                if plain_field(lhs, "evt.type").is_some() && matches!(op, CmpOp::Eq | CmpOp::Ne | CmpOp::In) {
                    let names: &[String] = match rhs {
                        Rhs::Value(v) => std::slice::from_ref(v),
                        Rhs::List(vs) => vs,
                        Rhs::ListName(_) | Rhs::Operand(_) => return Leaf::Neutral,
                    };
                    let mut set = self.names_to_codes(names);
                    if *op == CmpOp::Ne {
                        set.complement();
                    }
                    return Leaf::Codes(set);
                }
                if plain_field(lhs, "evt.num").is_some() && evt_num_never_true(*op, rhs) {
                    return Leaf::Codes(CodeSet::empty(self.n));
                }
                Leaf::Neutral
            }
            _ => Leaf::Neutral,
        }
    }

    fn names_to_codes(&self, names: &[String]) -> CodeSet {
        let mut set = CodeSet::empty(self.n);
        for name in names {
            for code in self.catalog.event_codes_for(name).unwrap_or_default() {
                set.insert(code as usize);
            }
        }
        set
    }
}

/// Event numbers start at 1, so `evt.num = 0`, `evt.num in (0)`, `evt.num < 1` and `evt.num <= 0` never hold.
fn evt_num_never_true(op: CmpOp, rhs: &Rhs) -> bool {
    let parse = |v: &String| v.trim().parse::<u64>().ok();
    match (op, rhs) {
        (CmpOp::Eq, Rhs::Value(v)) | (CmpOp::Le, Rhs::Value(v)) => parse(v) == Some(0),
        (CmpOp::Lt, Rhs::Value(v)) => parse(v).is_some_and(|x| x <= 1),
        (CmpOp::In, Rhs::List(vs)) => vs.iter().all(|v| parse(v) == Some(0)),
        _ => false,
    }
}
