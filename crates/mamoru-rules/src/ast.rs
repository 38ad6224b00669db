//! The condition syntax tree, as the parser produces it and the engine compiles it.
//!
//! Positions refer to the condition text the node was parsed from (after list substitution); the loader maps them
//! back to the rules file.

/// A position in a condition string: byte offset and 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub offset: usize,
    pub line: u32,
    pub col: u32,
}

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// n-ary conjunction (never fewer than two children after parsing).
    And(Vec<Expr>),
    /// n-ary disjunction.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A bare identifier: a macro reference. Macro resolution replaces every one of these; an expression that reaches
    /// the engine with one left is an "Undefined macro" error.
    Macro {
        name: String,
        pos: Pos,
    },
    /// `field exists`.
    Exists {
        lhs: Operand,
        pos: Pos,
    },
    /// `lhs op rhs`.
    Compare {
        lhs: Operand,
        op: CmpOp,
        modifier: Option<Modifier>,
        rhs: Rhs,
        pos: Pos,
    },
}

/// A field reference, or a transformer applied to operands.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `name` or `name[arg]`; `name` is the dotted name as written (`evt.arg.flags` stays whole).
    Field {
        name: String,
        arg: Option<String>,
        pos: Pos,
    },
    /// `tolower(x)`, `basename(x)`, `len(x)`, ... with an optional `[arg]` after the closing parenthesis.
    Transform {
        kind: Transformer,
        args: Vec<TransformArg>,
        arg: Option<String>,
        pos: Pos,
    },
}

/// An argument of a transformer.
#[derive(Debug, Clone, PartialEq)]
pub enum TransformArg {
    Operand(Operand),
    /// A quoted string or a number literal.
    Literal(String),
    /// A parenthesised list of literals or operands (`join`/`concat` forms).
    List(Vec<TransformArg>),
}

/// Field transformers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transformer {
    ToLower,
    ToUpper,
    B64,
    Basename,
    Len,
    Join,
    Concat,
    Getopt,
}

impl Transformer {
    pub fn name(self) -> &'static str {
        match self {
            Transformer::ToLower => "tolower",
            Transformer::ToUpper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
            Transformer::Join => "join",
            Transformer::Concat => "concat",
            Transformer::Getopt => "getopt",
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    PMatch,
}

impl CmpOp {
    /// The operator as written in Falco conditions (`=` for both `=` and `==`).
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Contains => "contains",
            CmpOp::IContains => "icontains",
            CmpOp::BContains => "bcontains",
            CmpOp::StartsWith => "startswith",
            CmpOp::BStartsWith => "bstartswith",
            CmpOp::EndsWith => "endswith",
            CmpOp::Glob => "glob",
            CmpOp::IGlob => "iglob",
            CmpOp::Regex => "regex",
            CmpOp::In => "in",
            CmpOp::Intersects => "intersects",
            CmpOp::PMatch => "pmatch",
        }
    }

    /// `in`, `intersects`, `pmatch`: operators whose right side is a list.
    pub fn takes_list(self) -> bool {
        matches!(self, CmpOp::In | CmpOp::Intersects | CmpOp::PMatch)
    }
}

/// String-operator modifiers (`startswith anyof (a, b)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    OneOf,
    AnyOf,
    AllOf,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A single literal (quoted or bare string, or number), unescaped.
    Value(String),
    /// A parenthesised list of literals.
    List(Vec<String>),
    /// A bare identifier where a list was expected: a list name that was not substituted (an error at compile time).
    ListName(String),
    /// `val(field)` or a transformer: a field-to-field comparison.
    Operand(Operand),
}
