//! The CEL validation rules (`x-kubernetes-validations`) of the embedded CRDs, evaluated by a
//! small interpreter of the CEL subset those rules use: literals, `self` and field access,
//! `has()`, `size()`, `startsWith`/`endsWith`/`contains`, the `all`/`exists`/`filter` macros,
//! `!`, `&&`, `||`, comparisons and parentheses. No maintained CEL crate carries the Kubernetes
//! extensions and a light dependency tree, and these rules need none of the rest.
//!
//! Transition rules (`oldSelf`) need the object already in the cluster and are skipped, as is
//! any rule the parser does not understand. Values still holding `${VAR}` are unknown, and a
//! rule whose outcome depends on one is not reported. Schema defaults are applied first, as the
//! API server does before it validates.

use serde_json::Value;

use super::json::escape;
use super::plan::Plan;
use crate::source::paths::is_within;

/// A rule that rejects the object.
pub struct Violation {
    /// Where the rule sits (JSON Pointer into the object).
    pub pointer: String,
    pub message: String,
    pub rule: String,
}

/// One `x-kubernetes-validations` entry of a schema node, parsed once per schema.
pub struct Rule {
    text: String,
    message: Option<String>,
    /// `None` when the parser does not understand it: not judged.
    expr: Option<Expr>,
}

/// The rules of one schema node that can be judged here; transition rules (`oldSelf`) need the
/// object already in the cluster and are left out.
pub fn compile_rules(schema: &Value) -> Vec<Rule> {
    let Some(rules) = schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    rules
        .iter()
        .filter_map(|r| {
            let text = r.get("rule").and_then(Value::as_str)?;
            if text.contains("oldSelf") {
                return None;
            }
            Some(Rule {
                text: text.to_string(),
                message: r.get("message").and_then(Value::as_str).map(str::to_string),
                expr: parse(text),
            })
        })
        .collect()
}

/// Evaluates every rule in `schema` against `value`.
pub fn check(schema: &Value, plan: &Plan, value: &Value, unknown: &[String]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut pointer = String::new();
    visit(schema, plan, value, &mut pointer, unknown, &mut out, 0);
    out
}

const MAX_DEPTH: usize = 256;

fn visit(
    schema: &Value,
    plan: &Plan,
    value: &Value,
    pointer: &mut String,
    unknown: &[String],
    out: &mut Vec<Violation>,
    depth: usize,
) {
    if depth > MAX_DEPTH || !plan.has_rules_below(schema) {
        return;
    }
    let rules = plan.rules(schema);
    // A list longer than its `maxItems` is reported by the schema check already; its rules
    // (often comparing every pair of items) are not run on it. The API server bounds CEL's cost
    // by the same `maxItems`.
    let over_max = match (value, schema.get("maxItems").and_then(Value::as_u64)) {
        (Value::Array(items), Some(max)) => items.len() as u64 > max,
        _ => false,
    };
    if !rules.is_empty() && !over_max {
        let scope = Scope { unknown };
        let this = scope.lift(value, Some(schema), pointer.clone());
        for r in rules {
            let Some(expr) = &r.expr else { continue };
            let mut env = Env::new();
            env.push(("self".to_string(), this.clone()));
            let failed = match scope.eval(expr, &mut env) {
                Cel::Bool(b) => !b,
                Cel::Error(Fault::Invalid) => true,
                _ => false,
            };
            if failed {
                let message = r
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("failed rule: {}", r.text));
                out.push(Violation {
                    pointer: pointer.clone(),
                    message,
                    rule: r.text.clone(),
                });
            }
        }
    }
    let mut descend = |child_schema: &Value, child: &Value, seg: &str, out: &mut Vec<Violation>| {
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&escape(seg));
        visit(child_schema, plan, child, pointer, unknown, out, depth + 1);
        pointer.truncate(len);
    };
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                // The API server ignores what a manifest writes under the status subresource.
                if depth == 0 && k == "status" {
                    continue;
                }
                if let Some(s) = super::child_schema(schema, k) {
                    descend(s, v, k, out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    descend(s, v, &i.to_string(), out);
                }
            }
        }
        _ => {}
    }
}

/// Why evaluation did not give a value.
#[derive(Debug, Clone, PartialEq)]
enum Fault {
    /// The API server rejects the object too (a missing field read, a type mismatch).
    Invalid,
    /// Something this interpreter does not do: the rule is not judged.
    Unsupported,
}

/// A CEL value. Mappings and lists of the object stay references into it and are read field by
/// field, so a rule on `spec` does not copy a HelmRelease's whole `values`.
#[derive(Debug, Clone)]
enum Cel<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    List(Vec<Cel<'a>>),
    /// A mapping or list of the object: the value, its schema (for defaults), its pointer.
    Json(&'a Value, Option<&'a Value>, String),
    Unknown,
    Error(Fault),
}

impl PartialEq for Cel<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Cel::Null, Cel::Null) | (Cel::Unknown, Cel::Unknown) => true,
            (Cel::Bool(a), Cel::Bool(b)) => a == b,
            (Cel::Int(a), Cel::Int(b)) => a == b,
            (Cel::Double(a), Cel::Double(b)) => a == b,
            (Cel::Str(a), Cel::Str(b)) => a == b,
            (Cel::List(a), Cel::List(b)) => a == b,
            (Cel::Json(a, _, _), Cel::Json(b, _, _)) => a == b,
            (Cel::Error(a), Cel::Error(b)) => a == b,
            _ => false,
        }
    }
}

type Env<'a> = Vec<(String, Cel<'a>)>;

struct Scope<'u> {
    unknown: &'u [String],
}

impl Scope<'_> {
    /// The CEL value of a part of the object.
    fn lift<'a>(&self, v: &'a Value, schema: Option<&'a Value>, pointer: String) -> Cel<'a> {
        if self.unknown.iter().any(|u| is_within(&pointer, u)) {
            return Cel::Unknown;
        }
        scalar_or_json(v, schema, pointer)
    }

    /// A field of a mapping, or its schema default when it is absent (the API server defaults
    /// before it validates).
    fn field<'a>(&self, obj: &Cel<'a>, name: &str) -> Option<Cel<'a>> {
        let Cel::Json(Value::Object(m), schema, pointer) = obj else {
            return None;
        };
        let child_schema = schema
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(name));
        match m.get(name).filter(|v| !v.is_null()) {
            Some(v) => Some(self.lift(v, child_schema, format!("{pointer}/{}", escape(name)))),
            None => child_schema
                .and_then(|s| s.get("default"))
                .map(|d| scalar_or_json(d, child_schema, "\u{0}".to_string())),
        }
    }

    /// The elements of a list (or the keys of a mapping, for the macros).
    fn items<'a>(&self, v: &Cel<'a>) -> Option<Vec<Cel<'a>>> {
        match v {
            Cel::List(l) => Some(l.clone()),
            Cel::Json(Value::Array(a), schema, pointer) => {
                let item_schema = schema.and_then(|s| s.get("items"));
                Some(
                    a.iter()
                        .enumerate()
                        .map(|(i, x)| self.lift(x, item_schema, format!("{pointer}/{i}")))
                        .collect(),
                )
            }
            Cel::Json(Value::Object(m), _, _) => {
                Some(m.keys().map(|k| Cel::Str(k.clone())).collect())
            }
            _ => None,
        }
    }

    /// Whether a value, read in full, holds an unknown part.
    fn has_unknown(&self, v: &Cel<'_>) -> bool {
        match v {
            Cel::Unknown => true,
            Cel::List(l) => l.iter().any(|x| self.has_unknown(x)),
            Cel::Json(_, _, pointer) => self.unknown.iter().any(|u| is_within(u, pointer)),
            _ => false,
        }
    }
}

fn scalar_or_json<'a>(v: &'a Value, schema: Option<&'a Value>, pointer: String) -> Cel<'a> {
    match v {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Cel::Int)
            .unwrap_or_else(|| Cel::Double(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => Cel::Str(s.clone()),
        Value::Array(_) | Value::Object(_) => Cel::Json(v, schema, pointer),
    }
}

// ---- parsing ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Op(&'static str),
}

fn lex(src: &str) -> Option<Vec<Tok>> {
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let text: String = b[start..i].iter().collect();
            out.push(Tok::Int(text.parse().ok()?));
        } else if c == '\'' || c == '"' {
            let quote = c;
            i += 1;
            let mut s = String::new();
            while i < b.len() && b[i] != quote {
                if b[i] == '\\' {
                    i += 1;
                }
                s.push(*b.get(i)?);
                i += 1;
            }
            if i >= b.len() {
                return None;
            }
            i += 1;
            out.push(Tok::Str(s));
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let op = ["&&", "||", "==", "!=", "<=", ">="]
                .into_iter()
                .find(|o| *o == two);
            if let Some(o) = op {
                out.push(Tok::Op(o));
                i += 2;
            } else {
                let o = ["!", "(", ")", ".", ",", "<", ">", "[", "]", "-"]
                    .into_iter()
                    .find(|o| o.starts_with(c))?;
                out.push(Tok::Op(o));
                i += 1;
            }
        }
    }
    Some(out)
}

#[derive(Debug, Clone)]
enum Expr {
    Lit(Cel<'static>),
    Var(String),
    Field(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Has(Box<Expr>, String),
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    Macro(Box<Expr>, String, String, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

fn parse(src: &str) -> Option<Expr> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    (p.pos == p.toks.len()).then_some(e)
}

impl Parser {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Op(o)) if *o == op)
    }

    fn eat(&mut self, op: &str) -> Option<()> {
        if self.peek_op(op) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn or(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let mut l = self.and()?;
        while self.eat("||").is_some() {
            l = Expr::Bin("||", Box::new(l), Box::new(self.and()?));
        }
        self.depth -= 1;
        Some(l)
    }

    fn and(&mut self) -> Option<Expr> {
        let mut l = self.relation()?;
        while self.eat("&&").is_some() {
            l = Expr::Bin("&&", Box::new(l), Box::new(self.relation()?));
        }
        Some(l)
    }

    fn relation(&mut self) -> Option<Expr> {
        let l = self.unary()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat(op).is_some() {
                return Some(Expr::Bin(op, Box::new(l), Box::new(self.unary()?)));
            }
        }
        Some(l)
    }

    fn unary(&mut self) -> Option<Expr> {
        if self.eat("!").is_some() {
            return Some(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat("-").is_some() {
            return Some(Expr::Neg(Box::new(self.unary()?)));
        }
        self.member()
    }

    fn member(&mut self) -> Option<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat(".").is_some() {
                let Some(Tok::Ident(name)) = self.toks.get(self.pos).cloned() else {
                    return None;
                };
                self.pos += 1;
                if self.eat("(").is_some() {
                    if matches!(name.as_str(), "all" | "exists" | "filter") {
                        let Some(Tok::Ident(var)) = self.toks.get(self.pos).cloned() else {
                            return None;
                        };
                        self.pos += 1;
                        self.eat(",")?;
                        let body = self.or()?;
                        self.eat(")")?;
                        e = Expr::Macro(Box::new(e), name, var, Box::new(body));
                    } else {
                        let args = self.args()?;
                        e = Expr::Call(Some(Box::new(e)), name, args);
                    }
                } else {
                    e = Expr::Field(Box::new(e), name);
                }
            } else if self.eat("[").is_some() {
                let i = self.or()?;
                self.eat("]")?;
                e = Expr::Index(Box::new(e), Box::new(i));
            } else {
                return Some(e);
            }
        }
    }

    fn args(&mut self) -> Option<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat(")").is_some() {
            return Some(args);
        }
        loop {
            args.push(self.or()?);
            if self.eat(")").is_some() {
                return Some(args);
            }
            self.eat(",")?;
        }
    }

    fn primary(&mut self) -> Option<Expr> {
        let t = self.toks.get(self.pos).cloned()?;
        self.pos += 1;
        match t {
            Tok::Int(i) => Some(Expr::Lit(Cel::Int(i))),
            Tok::Str(s) => Some(Expr::Lit(Cel::Str(s))),
            Tok::Op("(") => {
                let e = self.or()?;
                self.eat(")")?;
                Some(e)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if self.eat("]").is_none() {
                    loop {
                        items.push(self.or()?);
                        if self.eat("]").is_some() {
                            break;
                        }
                        self.eat(",")?;
                    }
                }
                Some(Expr::List(items))
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Some(Expr::Lit(Cel::Bool(true))),
                "false" => Some(Expr::Lit(Cel::Bool(false))),
                "null" => Some(Expr::Lit(Cel::Null)),
                "has" => {
                    self.eat("(")?;
                    let inner = self.member()?;
                    self.eat(")")?;
                    match inner {
                        Expr::Field(obj, field) => Some(Expr::Has(obj, field)),
                        _ => None,
                    }
                }
                _ if self.peek_op("(") => {
                    self.pos += 1;
                    let args = self.args()?;
                    Some(Expr::Call(None, name, args))
                }
                _ => Some(Expr::Var(name)),
            },
            Tok::Op(_) => None,
        }
    }
}

// ---- evaluation ----

fn fault<'a>(v: &Cel<'a>) -> Option<Cel<'a>> {
    match v {
        Cel::Error(_) | Cel::Unknown => Some(v.clone()),
        _ => None,
    }
}

impl Scope<'_> {
    fn eval<'a>(&self, e: &Expr, env: &mut Env<'a>) -> Cel<'a> {
        match e {
            Expr::Lit(v) => v.to_owned_cel(),
            Expr::Var(name) => env
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map_or(Cel::Error(Fault::Unsupported), |(_, v)| v.clone()),
            Expr::Field(obj, field) => {
                let o = self.eval(obj, env);
                if let Some(f) = fault(&o) {
                    return f;
                }
                self.field(&o, field).unwrap_or(Cel::Error(Fault::Invalid))
            }
            Expr::Index(obj, idx) => {
                let o = self.eval(obj, env);
                let i = self.eval(idx, env);
                if let Some(v) = undecided(&[o.clone(), i.clone()]) {
                    return v;
                }
                match (&o, &i) {
                    (Cel::Json(Value::Object(_), _, _), Cel::Str(k)) => {
                        self.field(&o, k).unwrap_or(Cel::Error(Fault::Invalid))
                    }
                    (_, Cel::Int(n)) => self
                        .items(&o)
                        .and_then(|l| usize::try_from(*n).ok().and_then(|n| l.into_iter().nth(n)))
                        .unwrap_or(Cel::Error(Fault::Invalid)),
                    _ => Cel::Error(Fault::Invalid),
                }
            }
            Expr::Has(obj, field) => {
                let o = self.eval(obj, env);
                if let Some(f) = fault(&o) {
                    return f;
                }
                match &o {
                    Cel::Json(Value::Object(_), _, _) => Cel::Bool(self.field(&o, field).is_some()),
                    _ => Cel::Error(Fault::Invalid),
                }
            }
            Expr::Not(x) => match self.eval(x, env) {
                Cel::Bool(b) => Cel::Bool(!b),
                v @ (Cel::Unknown | Cel::Error(_)) => v,
                _ => Cel::Error(Fault::Invalid),
            },
            Expr::Neg(x) => match self.eval(x, env) {
                Cel::Int(i) => Cel::Int(i.wrapping_neg()),
                Cel::Double(d) => Cel::Double(-d),
                v @ (Cel::Unknown | Cel::Error(_)) => v,
                _ => Cel::Error(Fault::Invalid),
            },
            Expr::List(items) => {
                let vals: Vec<Cel<'a>> = items.iter().map(|x| self.eval(x, env)).collect();
                if let Some(err) = vals.iter().find(|v| matches!(v, Cel::Error(_))) {
                    return err.clone();
                }
                Cel::List(vals)
            }
            Expr::Bin(op, l, r) => self.binary(op, l, r, env),
            Expr::Call(recv, name, args) => self.call(recv.as_deref(), name, args, env),
            Expr::Macro(list, name, var, body) => {
                let l = self.eval(list, env);
                if let Some(f) = fault(&l) {
                    return f;
                }
                let Some(items) = self.items(&l) else {
                    return Cel::Error(Fault::Invalid);
                };
                let mut results = Vec::with_capacity(items.len());
                for item in &items {
                    env.push((var.clone(), item.clone()));
                    results.push(self.eval(body, env));
                    env.pop();
                }
                match name.as_str() {
                    "all" => fold(&results, false),
                    "exists" => fold(&results, true),
                    _ => {
                        // filter
                        let mut kept = Vec::new();
                        for (item, r) in items.into_iter().zip(results) {
                            match r {
                                Cel::Bool(true) => kept.push(item),
                                Cel::Bool(false) => {}
                                v @ (Cel::Unknown | Cel::Error(_)) => return v,
                                _ => return Cel::Error(Fault::Invalid),
                            }
                        }
                        Cel::List(kept)
                    }
                }
            }
        }
    }

    fn binary<'a>(&self, op: &str, l: &Expr, r: &Expr, env: &mut Env<'a>) -> Cel<'a> {
        let a = self.eval(l, env);
        let b = self.eval(r, env);
        if op == "||" || op == "&&" {
            let decisive = op == "||";
            if a == Cel::Bool(decisive) || b == Cel::Bool(decisive) {
                return Cel::Bool(decisive);
            }
            // An unknown side might have decided it, so it outranks an error.
            return match (a, b) {
                (Cel::Bool(_), Cel::Bool(_)) => Cel::Bool(!decisive),
                (Cel::Unknown, _) | (_, Cel::Unknown) => Cel::Unknown,
                (x @ Cel::Error(_), y) | (y, x @ Cel::Error(_)) => worst(x, y),
                _ => Cel::Error(Fault::Invalid),
            };
        }
        match (&a, &b) {
            (Cel::Unknown, _) | (_, Cel::Unknown) => return Cel::Unknown,
            (Cel::Error(_), _) | (_, Cel::Error(_)) => return worst(a, b),
            _ => {}
        }
        if self.has_unknown(&a) || self.has_unknown(&b) {
            return Cel::Unknown;
        }
        match op {
            "==" => Cel::Bool(equal(&a, &b)),
            "!=" => Cel::Bool(!equal(&a, &b)),
            _ => {
                let ord = match (&a, &b) {
                    (Cel::Int(x), Cel::Int(y)) => x.partial_cmp(y),
                    (Cel::Str(x), Cel::Str(y)) => x.partial_cmp(y),
                    _ => match (num(&a), num(&b)) {
                        (Some(x), Some(y)) => x.partial_cmp(&y),
                        _ => None,
                    },
                };
                let Some(ord) = ord else {
                    return Cel::Error(Fault::Invalid);
                };
                Cel::Bool(match op {
                    "<" => ord.is_lt(),
                    "<=" => ord.is_le(),
                    ">" => ord.is_gt(),
                    _ => ord.is_ge(),
                })
            }
        }
    }

    fn call<'a>(
        &self,
        recv: Option<&Expr>,
        name: &str,
        args: &[Expr],
        env: &mut Env<'a>,
    ) -> Cel<'a> {
        let mut vals: Vec<Cel<'a>> = Vec::new();
        if let Some(r) = recv {
            vals.push(self.eval(r, env));
        }
        for a in args {
            vals.push(self.eval(a, env));
        }
        if let Some(v) = undecided(&vals) {
            return v;
        }
        match (name, vals.as_slice()) {
            ("size", [Cel::Str(s)]) => Cel::Int(s.chars().count() as i64),
            ("size", [Cel::List(l)]) => Cel::Int(l.len() as i64),
            ("size", [Cel::Json(Value::Array(a), _, _)]) => Cel::Int(a.len() as i64),
            ("size", [Cel::Json(Value::Object(m), _, _)]) => Cel::Int(m.len() as i64),
            ("startsWith", [Cel::Str(s), Cel::Str(p)]) => Cel::Bool(s.starts_with(p.as_str())),
            ("endsWith", [Cel::Str(s), Cel::Str(p)]) => Cel::Bool(s.ends_with(p.as_str())),
            ("contains", [Cel::Str(s), Cel::Str(p)]) => Cel::Bool(s.contains(p.as_str())),
            ("size" | "startsWith" | "endsWith" | "contains", _) => Cel::Error(Fault::Invalid),
            _ => Cel::Error(Fault::Unsupported),
        }
    }
}

impl Cel<'_> {
    /// A literal from the parsed rule, detached from any object.
    fn to_owned_cel<'b>(&self) -> Cel<'b> {
        match self {
            Cel::Null => Cel::Null,
            Cel::Bool(b) => Cel::Bool(*b),
            Cel::Int(i) => Cel::Int(*i),
            Cel::Double(d) => Cel::Double(*d),
            Cel::Str(s) => Cel::Str(s.clone()),
            Cel::List(l) => Cel::List(l.iter().map(Cel::to_owned_cel).collect()),
            Cel::Json(..) | Cel::Unknown => Cel::Unknown,
            Cel::Error(f) => Cel::Error(f.clone()),
        }
    }
}

/// `all` (short-circuit on false) and `exists` (short-circuit on true), with CEL's
/// commutative treatment of errors and unknowns.
fn fold<'a>(results: &[Cel<'a>], exists: bool) -> Cel<'a> {
    if results.contains(&Cel::Bool(exists)) {
        return Cel::Bool(exists);
    }
    if let Some(v) = undecided(results) {
        return v;
    }
    if results.iter().any(|r| !matches!(r, Cel::Bool(_))) {
        return Cel::Error(Fault::Invalid);
    }
    Cel::Bool(!exists)
}

/// What a set of operands leaves undecided: unknown if any is (it might have decided the
/// outcome), else the worst of their errors; `None` when every operand has a value.
fn undecided<'a>(vals: &[Cel<'a>]) -> Option<Cel<'a>> {
    if vals.contains(&Cel::Unknown) {
        return Some(Cel::Unknown);
    }
    vals.iter()
        .filter(|v| matches!(v, Cel::Error(_)))
        .cloned()
        .reduce(worst)
}

/// Of two outcomes where at least one is an error: the one that leaves the rule unjudged wins
/// (something this interpreter does not do), so a doubt never becomes a finding.
fn worst<'a>(a: Cel<'a>, b: Cel<'a>) -> Cel<'a> {
    match (&a, &b) {
        (Cel::Error(Fault::Unsupported), _) => a,
        (_, Cel::Error(Fault::Unsupported)) => b,
        (Cel::Error(_), _) => a,
        _ => b,
    }
}

fn num(v: &Cel<'_>) -> Option<f64> {
    match v {
        Cel::Int(i) => Some(*i as f64),
        Cel::Double(d) => Some(*d),
        _ => None,
    }
}

fn equal(a: &Cel<'_>, b: &Cel<'_>) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Checks `value` with the schema's plan made on the spot.
    fn planned(schema: &Value, value: &Value, unknown: &[String]) -> Vec<Violation> {
        check(schema, &Plan::new(schema), value, unknown)
    }

    fn run(rule: &str, value: Value) -> Vec<String> {
        let schema = json!({"x-kubernetes-validations": [{"rule": rule, "message": "no"}]});
        planned(&schema, &value, &[])
            .into_iter()
            .map(|v| v.message)
            .collect()
    }

    #[test]
    fn the_crd_rules_evaluate() {
        let excl = "!(has(self.imageCatalogRef) && has(self.imageName))";
        assert!(run(excl, json!({"imageName": "x"})).is_empty());
        assert_eq!(
            run(excl, json!({"imageName": "x", "imageCatalogRef": {}})).len(),
            1
        );
        let unique = "self.all(e, self.filter(f, f.major==e.major).size() == 1)";
        assert!(run(unique, json!([{"major": 16}, {"major": 17}])).is_empty());
        assert_eq!(run(unique, json!([{"major": 16}, {"major": 16}])).len(), 1);
        let sync = "self.dataDurability!='preferred' || ((!has(self.standbyNamesPre) || self.standbyNamesPre.size()==0))";
        assert!(run(
            sync,
            json!({"dataDurability": "required", "standbyNamesPre": ["a"]})
        )
        .is_empty());
        assert_eq!(
            run(
                sync,
                json!({"dataDurability": "preferred", "standbyNamesPre": ["a"]})
            )
            .len(),
            1
        );
        assert_eq!(
            run("!self.name.startsWith('pg_')", json!({"name": "pg_x"})).len(),
            1
        );
        assert_eq!(run("self > 0", json!(0)).len(), 1);
        assert!(run(
            "!self.exists(a, a.startsWith('--log-level'))",
            json!(["--x"])
        )
        .is_empty());
    }

    #[test]
    fn every_rule_of_the_embedded_crds_parses_except_transition_rules() {
        fn rules(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for r in m
                        .get("x-kubernetes-validations")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        out.extend(r.get("rule").and_then(Value::as_str).map(str::to_string));
                    }
                    m.values().for_each(|x| rules(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| rules(x, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        for e in crate::schema::catalog::all() {
            let v: Value = serde_json::from_str(e.json).expect("schema JSON");
            rules(&v, &mut all);
        }
        let judged: Vec<&String> = all.iter().filter(|r| !r.contains("oldSelf")).collect();
        assert!(judged.len() >= 50, "{}", judged.len());
        for r in judged {
            assert!(parse(r).is_some(), "cannot parse {r}");
        }
    }

    #[test]
    fn an_unknown_outranks_an_error() {
        let schema = json!({"x-kubernetes-validations": [{
            "rule": "!has(self.c) || !self.c.enabled || self.login", "message": "needs login"}]});
        let v = json!({"c": {"enabled": "${CERT}"}});
        assert!(planned(&schema, &v, &["/c/enabled".to_string()]).is_empty());
        assert_eq!(
            planned(&schema, &json!({"c": {"enabled": true}}), &[]).len(),
            1
        );
    }

    #[test]
    fn transition_unknown_and_unsupported_rules_are_not_judged() {
        assert!(run("self == oldSelf", json!(1)).is_empty());
        assert!(run("self.matches('^a$')", json!("b")).is_empty());
        assert!(run("self ? 1 : 2", json!(true)).is_empty());
        let schema =
            json!({"x-kubernetes-validations": [{"rule": "self.a == 'x'", "message": "no"}]});
        assert!(planned(&schema, &json!({"a": "${A}"}), &["/a".to_string()]).is_empty());
    }

    #[test]
    fn a_missing_field_read_fails_and_defaults_apply() {
        let schema = json!({
            "properties": {"p": {"type": "string", "default": "libc"}, "icu": {"type": "string"}},
            "x-kubernetes-validations": [{"rule": "!has(self.icu) || self.p == 'icu'", "message": "icu needs p"}]
        });
        assert_eq!(planned(&schema, &json!({"icu": "x"}), &[]).len(), 1);
        assert!(planned(&schema, &json!({"icu": "x", "p": "icu"}), &[]).is_empty());
        let schema = json!({"x-kubernetes-validations": [{"rule": "!has(self.icu) || self.p == 'icu'", "message": "m"}]});
        assert_eq!(planned(&schema, &json!({"icu": "x"}), &[]).len(), 1);
    }
}
