//! Flux post-build variable substitution, reproduced on one string.
//!
//! kustomize-controller (v1.9.x) runs `envsubst.Eval` from `github.com/fluxcd/pkg/envsubst`
//! v1.7.0 (a fork of drone/envsubst) over each resource's YAML, through `varSubstitution` in
//! `github.com/fluxcd/pkg/kustomize` (`kustomize_varsub.go`). This module mirrors that parser
//! and evaluator, quirks included, and reports where each variable was used. It is written from
//! a reading of the upstream code; the behaviours it relies on:
//!
//! * Only `${…}` is substitution syntax; `$var` is left alone. `$$` anywhere in plain text (and
//!   in the pattern and replacement of `${v/…/…}`) becomes `$`, so `$${v}` gives a literal `${v}`
//!   and SQL `$$` dollar quoting becomes `$`. Inside defaults, offsets and trim patterns `$$`
//!   stays `$$`.
//! * Forms: `${v}`, `${#v}`, `${v^}`, `${v^^}`, `${v,}`, `${v,,}`, `${v:off}`, `${v:off:len}`,
//!   `${v#glob}`, `${v##glob}`, `${v%glob}`, `${v%%glob}`, `${v/old/new}`, `${v//old/new}`,
//!   `${v/#old/new}`, `${v/%old/new}`, and the defaults `${v=d}`, `${v:=d}`, `${v:-d}`, `${v:?d}`,
//!   `${v:+d}`. Every default form means the same thing: the value if it is not empty, else the
//!   default (so `=` and `:=` agree on a defined but empty variable, `:?` does not fail and `:+`
//!   does not mean "alternate value"). `${v-d}`, `${v+d}` and `${v?d}` are parse errors
//!   ("missing closing brace").
//! * Any parse error (unterminated `${`, `${}`, a name with other characters, …) fails the build,
//!   in strict mode or not. Names are not checked against Flux's variable-name regex (that
//!   applies to the variables defined), so `${1x}` is a valid reference to an undefinable name.
//! * Defaults and other arguments are evaluated before the variable is looked up, so in strict
//!   mode `${A:=${B}}` fails when `B` is undefined even if `A` is set.
//! * Non-strict mode: an undefined variable reads as the empty string. Strict mode (the
//!   `StrictPostBuildSubstitutions` feature gate, on by default since kustomize-controller
//!   v1.9.0): an undefined variable fails with `variable not set (strict mode): "NAME"`, except
//!   under a default form.
//!
//! * A NUL byte reads as the end of the input (upstream's end-of-input rune is 0): the rest of
//!   the text is dropped.
//! * Lengths, offsets and trims work on bytes, as Go strings do; a cut through a multi-byte
//!   character comes out as U+FFFD here.
//!
//! Flux wraps the messages in [`Outcome::Error`] as `post build failed for '<GVK>/<name>': ` +
//! `envsubst error: variable substitution failed: ` + message (a panic instead fails the whole reconcile with its message).
//!
//! Left to the caller: Flux substitutes only when the Kustomization has `spec.postBuild` and
//! either some variable is defined or `substituteStrategy: Always`; it skips objects labelled or
//! annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`; it removes newlines from every
//! variable value; it fails when a defined variable's name does not match
//! `^[_[:alpha:]][_[:alpha:][:digit:]]*$`; and it substitutes the whole object as YAML text
//! (kustomize's serialisation), where this module takes one string. A `$$` is collapsed even in
//! text without `${`, so call [`substitute`] when [`has_vars`] or [`has_dollar_escapes`] holds.
//!
//! Non-ASCII letters and digits in names and Unicode case mapping follow Go's `unicode` package
//! closely but not exactly (Rust's std has no general-category lookup).

use std::ops::Range;

/// How a variable reference was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarUse {
    pub name: String,
    /// Byte range of the whole `${...}` in the input.
    pub range: Range<usize>,
    /// The value came from the variables, not a default (false when undefined, unknown, or
    /// defined but empty and replaced by a default).
    pub defined: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Substitution succeeded.
    Done { text: String, uses: Vec<VarUse> },
    /// A variable is not in `vars` and has no default, and `may_be_defined` says it may exist
    /// (values we could not read), so the text (or whether strict mode fails) is unknown.
    Unknown { uses: Vec<VarUse> },
    /// Flux fails the build with this message: strict mode and an undefined variable with no
    /// default, or a parse error (in any mode), or a Go runtime panic in a substring function.
    /// `range` covers the `${...}` concerned (for parse errors, from the innermost open `${` to
    /// where the parser stopped).
    Error {
        message: String,
        range: Range<usize>,
    },
}

/// Deepest nesting of `${` inside `${` handled; deeper input gives an [`Outcome::Error`] that
/// says so (Flux itself has no limit).
pub const MAX_DEPTH: usize = 64;

/// `lookup(name)` returns Some(value) for defined variables, None for undefined ones.
/// `may_be_defined(name)` says whether an undefined variable could still come from a source we
/// could not read (then the result is Outcome::Unknown instead of Error).
/// `strict` is kustomize-controller's `StrictPostBuildSubstitutions` feature gate (default on).
/// An undefined variable under a default form takes the default even when `may_be_defined`.
pub fn substitute(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    may_be_defined: &dyn Fn(&str) -> bool,
    strict: bool,
) -> Outcome {
    if !input.contains(['$', '\0']) {
        return Outcome::Done {
            text: input.to_string(),
            uses: Vec::new(),
        };
    }
    let mut parser = Parser::new(input);
    let nodes = match parser.parse_all() {
        Ok(nodes) => nodes,
        Err(e) => {
            return Outcome::Error {
                message: e.message().to_string(),
                range: parser.error_range(),
            }
        }
    };
    let mut ev = Evaluator {
        lookup,
        may_be_defined,
        strict,
        uses: Vec::new(),
        maybe_failed: false,
    };
    let mut out = Some(Vec::with_capacity(input.len()));
    for node in &nodes {
        match ev.eval(node) {
            Err(f) => {
                return Outcome::Error {
                    message: f.message,
                    range: f.range,
                }
            }
            Ok(Val::Known(bytes)) => {
                if let Some(o) = out.as_mut() {
                    o.extend_from_slice(&bytes);
                }
            }
            Ok(Val::Unknown) => out = None,
        }
    }
    let mut uses = ev.uses;
    uses.sort_by_key(|u| u.range.start);
    match out {
        Some(bytes) if !ev.maybe_failed => Outcome::Done {
            text: into_string(bytes),
            uses,
        },
        _ => Outcome::Unknown { uses },
    }
}

/// True if the text contains any substitution syntax Flux would act on (not counting `$${`
/// escapes): a `${` the parser opens, valid or not. See also [`has_dollar_escapes`].
pub fn has_vars(input: &str) -> bool {
    // Every variable starts with `$`; most scalars have none, and need no scanner.
    if !input.contains('$') {
        return false;
    }
    let mut sc = Scanner::new(input);
    loop {
        sc.text_mode();
        match sc.scan() {
            Tok::Lbrack => return true,
            Tok::Ident => {}
            _ => return false,
        }
    }
}

/// True if Flux would turn a `$$` in the plain text into `$` (which it does whenever it
/// substitutes the resource at all, even with no `${` in it).
pub fn has_dollar_escapes(input: &str) -> bool {
    if !input.contains("$$") {
        return false;
    }
    let mut parser = Parser::new(input);
    let _ = parser.parse_all();
    parser.sc.text_skips > 0
}

fn into_string(bytes: Vec<u8>) -> String {
    // Only a substring cut through a multi-byte character can make the bytes invalid.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn tail(s: &[u8], from: usize) -> &[u8] {
    s.get(from..).unwrap_or(&[])
}

// ---------------------------------------------------------------------------------------------
// Scanner: the upstream scanner works on a string it edits in place (an escape deletes the
// escaping byte) and moves back by the width of the last rune read, which is not always the rune
// before the cursor. This one keeps the same observable behaviour: `buf` holds the edited bytes
// before the cursor (with their offsets in the input), the bytes after it are `pushed` (last
// = next) followed by `input[next..]`.

const EOF: char = '\0'; // upstream's eof rune is 0: a NUL byte reads as the end of input.
const RUNE_ERROR: char = '\u{FFFD}';

const SCAN_IDENT: u8 = 1;
const SCAN_LBRACK: u8 = 2;
const SCAN_RBRACK: u8 = 4;
const SCAN_ESCAPE: u8 = 8;

const ESC_DOLLAR: u8 = 1;
const ESC_BACKSLASH: u8 = 2;
const ESC_ALL: u8 = ESC_DOLLAR | ESC_BACKSLASH;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Illegal,
    Eof,
    Ident,
    Lbrack,
    Rbrack,
}

/// Which runes a token accepts; `i` is the token's length in bytes including `r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    Rune,
    Ident,
    Colon,
    OneHash,
    NotClosing,
    HashFunc,
    PercentFunc,
    DefaultFunc,
    ReplaceFunc,
    OneEqual,
    OneColon,
    RejectColonClose,
    Slash,
    NotSlash,
    CasingFunc,
}

impl Accept {
    fn accepts(self, r: char, i: usize) -> bool {
        match self {
            Accept::Rune => true,
            Accept::Ident => go_is_letter(r) || go_is_digit(r) || r == '_',
            Accept::Colon => r == ':',
            Accept::OneHash => r == '#' && i == 1,
            Accept::NotClosing => r != '}',
            Accept::HashFunc => r == '#' && i < 3,
            Accept::PercentFunc => r == '%' && i < 3,
            Accept::DefaultFunc => {
                (i == 1 && r == ':') || (i == 2 && matches!(r, '=' | '-' | '?' | '+'))
            }
            Accept::ReplaceFunc => (i == 1 && r == '/') || (i == 2 && matches!(r, '/' | '#' | '%')),
            Accept::OneEqual => i == 1 && r == '=',
            Accept::OneColon => i == 1 && r == ':',
            Accept::RejectColonClose => r != ':' && r != '}',
            Accept::Slash => r == '/',
            Accept::NotSlash => r != '/',
            Accept::CasingFunc => (r == ',' || r == '^') && i < 3,
        }
    }
}

struct Scanner<'a> {
    input: &'a [u8],
    next: usize,
    pushed: Vec<(u8, usize)>,
    buf: Vec<u8>,
    origin: Vec<usize>,
    start: usize,
    width: usize,
    mode: u8,
    escapes: u8,
    accept: Accept,
    /// `$$` collapsed in plain text.
    text_skips: usize,
}

impl<'a> Scanner<'a> {
    fn new(input: &'a str) -> Self {
        Scanner {
            input: input.as_bytes(),
            next: 0,
            pushed: Vec::new(),
            buf: Vec::new(),
            origin: Vec::new(),
            start: 0,
            width: 0,
            mode: 0,
            escapes: 0,
            accept: Accept::Rune,
            text_skips: 0,
        }
    }

    fn set(&mut self, accept: Accept, mode: u8) {
        self.accept = accept;
        self.mode = mode;
    }

    fn text_mode(&mut self) {
        self.set(Accept::Rune, SCAN_IDENT | SCAN_LBRACK | SCAN_ESCAPE);
        self.escapes = ESC_DOLLAR;
    }

    /// The k-th byte after the cursor.
    fn upcoming(&self, k: usize) -> Option<u8> {
        let n = self.pushed.len();
        if k < n {
            self.pushed.get(n - 1 - k).map(|p| p.0)
        } else {
            self.input.get(self.next + (k - n)).copied()
        }
    }

    fn take(&mut self) -> Option<(u8, usize)> {
        if let Some(p) = self.pushed.pop() {
            return Some(p);
        }
        let b = *self.input.get(self.next)?;
        self.next += 1;
        Some((b, self.next - 1))
    }

    fn advance_one(&mut self) {
        if let Some((b, o)) = self.take() {
            self.buf.push(b);
            self.origin.push(o);
        }
    }

    fn read(&mut self) -> char {
        let (r, w) = go_decode(|k| self.upcoming(k));
        self.width = w;
        for _ in 0..w {
            self.advance_one();
        }
        if w == 0 {
            EOF
        } else {
            r
        }
    }

    fn unread(&mut self) {
        for _ in 0..self.width {
            if let (Some(b), Some(o)) = (self.buf.pop(), self.origin.pop()) {
                self.pushed.push((b, o));
            }
        }
    }

    /// Deletes the byte before the cursor; the cursor keeps its index, so it passes the next byte.
    fn skip(&mut self) {
        self.buf.pop();
        self.origin.pop();
        self.advance_one();
        if self.escapes == ESC_DOLLAR {
            self.text_skips += 1;
        }
    }

    fn peek(&mut self) -> char {
        let r = self.read();
        self.unread();
        r
    }

    fn token(&self) -> Vec<u8> {
        self.buf.get(self.start..).unwrap_or(&[]).to_vec()
    }

    fn token_origin(&self) -> usize {
        self.origin.get(self.start).copied().unwrap_or(self.next)
    }

    /// Input offset just after the last byte consumed.
    fn consumed_end(&self) -> usize {
        self.origin.last().map_or(0, |o| o + 1)
    }

    /// Input offset of the next byte to read.
    fn position(&self) -> usize {
        self.pushed.last().map_or(self.next, |p| p.1)
    }

    fn scan(&mut self) -> Tok {
        self.start = self.buf.len();
        let r = self.read();
        if r == EOF {
            Tok::Eof
        } else if self.scan_lbrack(r) {
            Tok::Lbrack
        } else if self.scan_rbrack(r) {
            Tok::Rbrack
        } else if self.scan_ident(r) {
            Tok::Ident
        } else {
            Tok::Illegal
        }
    }

    fn scan_ident(&mut self, first: char) -> bool {
        if self.mode & SCAN_IDENT == 0 {
            return false;
        }
        if self.scan_escaped(first) {
            self.skip();
        } else if !self.accept.accepts(first, self.buf.len() - self.start) {
            return false;
        }
        loop {
            let r = self.read();
            if r == EOF {
                self.unread();
                break;
            }
            if self.scan_lbrack(r) {
                self.unread();
                self.unread();
                break;
            }
            if self.scan_escaped(r) {
                self.skip();
                continue;
            }
            if !self.accept.accepts(r, self.buf.len() - self.start) {
                self.unread();
                break;
            }
        }
        true
    }

    fn scan_lbrack(&mut self, r: char) -> bool {
        if self.mode & SCAN_LBRACK == 0 {
            return false;
        }
        if r == '$' {
            if self.read() == '{' {
                return true;
            }
            self.unread();
        }
        false
    }

    fn scan_rbrack(&self, r: char) -> bool {
        self.mode & SCAN_RBRACK != 0 && r == '}'
    }

    fn scan_escaped(&mut self, r: char) -> bool {
        if self.mode & SCAN_ESCAPE == 0 {
            return false;
        }
        if r == '$' && self.escapes & ESC_DOLLAR != 0 && self.peek() == '$' {
            return true;
        }
        if r == '\\' && self.escapes & ESC_BACKSLASH != 0 {
            return matches!(self.peek(), '/' | '\\');
        }
        false
    }
}

/// `utf8.DecodeRune`: invalid or truncated sequences give (U+FFFD, 1), no bytes give width 0.
fn go_decode(byte: impl Fn(usize) -> Option<u8>) -> (char, usize) {
    let Some(b0) = byte(0) else {
        return (RUNE_ERROR, 0);
    };
    if b0 < 0x80 {
        return (char::from(b0), 1);
    }
    let (len, lo, hi) = match b0 {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return (RUNE_ERROR, 1),
    };
    let mask: u8 = match len {
        2 => 0x1F,
        3 => 0x0F,
        _ => 0x07,
    };
    let mut cp = u32::from(b0 & mask);
    for k in 1..len {
        let (lo, hi) = if k == 1 { (lo, hi) } else { (0x80, 0xBF) };
        match byte(k) {
            Some(b) if (lo..=hi).contains(&b) => cp = (cp << 6) | u32::from(b & 0x3F),
            _ => return (RUNE_ERROR, 1),
        }
    }
    match char::from_u32(cp) {
        Some(c) => (c, len),
        None => (RUNE_ERROR, 1),
    }
}

fn decode_slice(s: &[u8]) -> (char, usize) {
    go_decode(|k| s.get(k).copied())
}

/// Go's `unicode.IsLetter` (categories L*). Exact for ASCII; otherwise approximated with
/// Rust's Alphabetic property minus numerics (Alphabetic also has some marks and symbols).
fn go_is_letter(r: char) -> bool {
    if r.is_ascii() {
        return r.is_ascii_alphabetic();
    }
    r.is_alphabetic() && !r.is_numeric()
}

/// Go's `unicode.IsDigit` (category Nd). Exact for ASCII; otherwise approximated with Rust's
/// numeric property (which also has Nl and No).
fn go_is_digit(r: char) -> bool {
    if r.is_ascii() {
        return r.is_ascii_digit();
    }
    r.is_numeric()
}

// ---------------------------------------------------------------------------------------------
// Parser

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParseError {
    BadSubstitution,
    MissingClosingBrace,
    VariableName,
    FuncSubstitution,
    DefaultFunction,
    TooDeep,
}

impl ParseError {
    fn message(self) -> &'static str {
        match self {
            ParseError::BadSubstitution => "bad substitution",
            ParseError::MissingClosingBrace => "missing closing brace",
            ParseError::VariableName => "unable to parse variable name",
            ParseError::FuncSubstitution => "unable to parse substitution within function",
            ParseError::DefaultFunction => "unable to parse default function",
            ParseError::TooDeep => {
                "cnpg-lint: ${...} nested deeper than 64 levels is not supported"
            }
        }
    }
}

#[derive(Debug)]
enum Node {
    Text(Vec<u8>),
    Func(Box<Func>),
}

#[derive(Debug)]
struct Func {
    param: Vec<u8>,
    op: Vec<u8>,
    args: Vec<Node>,
    range: Range<usize>,
}

impl Func {
    fn new(param: Vec<u8>, op: Vec<u8>, args: Vec<Node>) -> Func {
        Func {
            param,
            op,
            args,
            range: 0..0,
        }
    }
}

type PResult<T> = Result<T, ParseError>;

struct Parser<'a> {
    sc: Scanner<'a>,
    /// Offsets of the `${` being parsed, innermost last.
    open: Vec<usize>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser {
            sc: Scanner::new(input),
            open: Vec::new(),
        }
    }

    fn error_range(&self) -> Range<usize> {
        let len = self.sc.input.len();
        let open = self.open.last().copied().unwrap_or(0).min(len);
        let end = self.sc.position().max(open + 2).min(len);
        open..end.max(open)
    }

    /// The whole input: text and `${…}` in turn.
    fn parse_all(&mut self) -> PResult<Vec<Node>> {
        let mut nodes = Vec::new();
        loop {
            self.sc.text_mode();
            match self.sc.scan() {
                Tok::Ident => nodes.push(Node::Text(self.sc.token())),
                Tok::Eof => return Ok(nodes),
                Tok::Lbrack => nodes.push(Node::Func(Box::new(self.func(0)?))),
                Tok::Illegal | Tok::Rbrack => return Err(ParseError::BadSubstitution),
            }
        }
    }

    /// After a `${` token.
    fn func(&mut self, depth: usize) -> PResult<Func> {
        let open = self.sc.token_origin();
        self.open.push(open);
        if depth >= MAX_DEPTH {
            return Err(ParseError::TooDeep);
        }
        let mut f = self.func_body(depth)?;
        self.open.pop();
        f.range = open..self.sc.consumed_end();
        Ok(f)
    }

    fn func_body(&mut self, depth: usize) -> PResult<Func> {
        self.sc.escapes = ESC_ALL;
        if self.sc.peek() == '#' {
            return self.length_func();
        }
        self.sc.set(Accept::Ident, SCAN_IDENT);
        let name = match self.sc.scan() {
            Tok::Ident => self.sc.token(),
            _ => return Err(ParseError::VariableName),
        };
        match self.sc.peek() {
            ':' => self.default_or_substr(name, depth),
            '=' => self.default_func(name, depth),
            ',' | '^' => self.casing_func(name),
            '/' => self.replace_func(name, depth),
            '#' => self.remove_func(name, Accept::HashFunc, depth),
            '%' => self.remove_func(name, Accept::PercentFunc, depth),
            _ => {
                self.sc.set(Accept::Ident, SCAN_RBRACK);
                match self.sc.scan() {
                    Tok::Rbrack => Ok(Func::new(name, Vec::new(), Vec::new())),
                    _ => Err(ParseError::MissingClosingBrace),
                }
            }
        }
    }

    /// One argument: a `${…}` or a run of text.
    fn param(&mut self, accept: Accept, mode: u8, depth: usize) -> PResult<Node> {
        self.sc.set(accept, mode | SCAN_LBRACK);
        match self.sc.scan() {
            Tok::Lbrack => Ok(Node::Func(Box::new(self.func(depth + 1)?))),
            Tok::Ident | Tok::Rbrack => Ok(Node::Text(self.sc.token())),
            Tok::Eof | Tok::Illegal => Err(ParseError::FuncSubstitution),
        }
    }

    /// The operator token, or `err`.
    fn operator(&mut self, accept: Accept, err: ParseError) -> PResult<Vec<u8>> {
        self.sc.set(accept, SCAN_IDENT);
        match self.sc.scan() {
            Tok::Ident => Ok(self.sc.token()),
            _ => Err(err),
        }
    }

    fn consume_rbrack(&mut self) -> PResult<()> {
        self.sc.mode = SCAN_RBRACK;
        match self.sc.scan() {
            Tok::Rbrack => Ok(()),
            _ => Err(ParseError::BadSubstitution),
        }
    }

    fn default_or_substr(&mut self, name: Vec<u8>, depth: usize) -> PResult<Func> {
        // Steps back by the width of the rune after ':' (upstream does the same).
        self.sc.read();
        let r = self.sc.peek();
        self.sc.unread();
        match r {
            '=' | '-' | '?' | '+' => self.default_func(name, depth),
            _ => self.substr_func(name, depth),
        }
    }

    fn substr_func(&mut self, name: Vec<u8>, depth: usize) -> PResult<Func> {
        let op = self.operator(Accept::OneColon, ParseError::BadSubstitution)?;
        let mut args = vec![self.param(Accept::RejectColonClose, SCAN_IDENT, depth)?];
        self.sc.set(Accept::Colon, SCAN_IDENT | SCAN_RBRACK);
        match self.sc.scan() {
            Tok::Rbrack => return Ok(Func::new(name, op, args)),
            Tok::Ident => {}
            _ => return Err(ParseError::BadSubstitution),
        }
        args.push(self.param(Accept::NotClosing, SCAN_IDENT, depth)?);
        self.consume_rbrack()?;
        Ok(Func::new(name, op, args))
    }

    fn remove_func(&mut self, name: Vec<u8>, accept: Accept, depth: usize) -> PResult<Func> {
        let op = self.operator(accept, ParseError::BadSubstitution)?;
        let args = vec![self.param(Accept::NotClosing, SCAN_IDENT, depth)?];
        self.consume_rbrack()?;
        Ok(Func::new(name, op, args))
    }

    fn replace_func(&mut self, name: Vec<u8>, depth: usize) -> PResult<Func> {
        let op = self.operator(Accept::ReplaceFunc, ParseError::BadSubstitution)?;
        let mut args = vec![self.param(Accept::NotSlash, SCAN_IDENT | SCAN_ESCAPE, depth)?];
        self.operator(Accept::Slash, ParseError::BadSubstitution)?;
        if self.sc.peek() != '}' {
            args.push(self.param(Accept::NotClosing, SCAN_IDENT | SCAN_ESCAPE, depth)?);
        }
        self.consume_rbrack()?;
        Ok(Func::new(name, op, args))
    }

    fn default_func(&mut self, name: Vec<u8>, depth: usize) -> PResult<Func> {
        let accept = if self.sc.peek() == '=' {
            Accept::OneEqual
        } else {
            Accept::DefaultFunc
        };
        let op = self.operator(accept, ParseError::DefaultFunction)?;
        let mut args = Vec::new();
        // Every step consumes input or fails, so this ends.
        while self.sc.peek() != '}' {
            args.push(self.param(Accept::NotClosing, SCAN_IDENT, depth)?);
        }
        self.consume_rbrack()?;
        Ok(Func::new(name, op, args))
    }

    fn casing_func(&mut self, name: Vec<u8>) -> PResult<Func> {
        let op = self.operator(Accept::CasingFunc, ParseError::BadSubstitution)?;
        self.consume_rbrack()?;
        Ok(Func::new(name, op, Vec::new()))
    }

    fn length_func(&mut self) -> PResult<Func> {
        let op = self.operator(Accept::OneHash, ParseError::BadSubstitution)?;
        let name = self.operator(Accept::Ident, ParseError::BadSubstitution)?;
        self.consume_rbrack()?;
        Ok(Func::new(name, op, Vec::new()))
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

enum Val {
    Known(Vec<u8>),
    Unknown,
}

struct Failure {
    message: String,
    range: Range<usize>,
}

struct Evaluator<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    may_be_defined: &'a dyn Fn(&str) -> bool,
    strict: bool,
    uses: Vec<VarUse>,
    /// Strict mode met a variable that may or may not be defined, outside a default form.
    maybe_failed: bool,
}

fn is_default_op(op: &[u8]) -> bool {
    matches!(
        op,
        b"-" | b"+" | b"=" | b"?" | b":-" | b":+" | b":=" | b":?"
    )
}

impl Evaluator<'_> {
    fn eval(&mut self, node: &Node) -> Result<Val, Failure> {
        match node {
            Node::Text(t) => Ok(Val::Known(t.clone())),
            Node::Func(f) => self.eval_func(f),
        }
    }

    fn eval_func(&mut self, f: &Func) -> Result<Val, Failure> {
        // Arguments first, as upstream: their errors win even when the value is set.
        let mut args = Vec::with_capacity(f.args.len());
        for a in &f.args {
            args.push(self.eval(a)?);
        }
        let name = String::from_utf8_lossy(&f.param).into_owned();
        let default_op = is_default_op(&f.op);
        let (value, defined) = match (self.lookup)(&name) {
            Some(v) => {
                let replaced = default_op && v.is_empty() && !args.is_empty();
                (Val::Known(v.into_bytes()), !replaced)
            }
            None if default_op => (Val::Known(Vec::new()), false),
            None if (self.may_be_defined)(&name) => {
                if self.strict {
                    self.maybe_failed = true;
                }
                (Val::Unknown, false)
            }
            None if self.strict => {
                return Err(Failure {
                    message: format!("variable not set (strict mode): \"{name}\""),
                    range: f.range.clone(),
                })
            }
            None => (Val::Known(Vec::new()), false),
        };
        let result = apply(&f.op, value, &args).map_err(|message| Failure {
            message,
            range: f.range.clone(),
        })?;
        self.uses.push(VarUse {
            name,
            range: f.range.clone(),
            defined,
        });
        Ok(result)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fun {
    LowerFirst,
    Lower,
    UpperFirst,
    Upper,
    Len,
    TrimShortestPrefix,
    TrimLongestPrefix,
    TrimShortestSuffix,
    TrimLongestSuffix,
    Substr,
    ReplacePrefix,
    ReplaceSuffix,
    ReplaceFirst,
    ReplaceAll,
    Default,
}

fn lookup_fun(op: &[u8], nargs: usize) -> Fun {
    match op {
        b"," => Fun::LowerFirst,
        b",," => Fun::Lower,
        b"^" => Fun::UpperFirst,
        b"^^" => Fun::Upper,
        b"#" if nargs == 0 => Fun::Len,
        b"#" => Fun::TrimShortestPrefix,
        b"##" => Fun::TrimLongestPrefix,
        b"%" => Fun::TrimShortestSuffix,
        b"%%" => Fun::TrimLongestSuffix,
        b":" => Fun::Substr,
        b"/#" => Fun::ReplacePrefix,
        b"/%" => Fun::ReplaceSuffix,
        b"/" => Fun::ReplaceFirst,
        b"//" => Fun::ReplaceAll,
        // The default forms, and anything else (such as `^,`), return the value, or the
        // arguments joined when the value is empty.
        _ => Fun::Default,
    }
}

fn apply(op: &[u8], value: Val, args: &[Val]) -> Result<Val, String> {
    let fun = lookup_fun(op, args.len());
    if fun == Fun::Default {
        return Ok(match value {
            Val::Known(s) if s.is_empty() && !args.is_empty() => {
                let mut joined = Vec::new();
                for a in args {
                    match a {
                        Val::Known(b) => joined.extend_from_slice(b),
                        Val::Unknown => return Ok(Val::Unknown),
                    }
                }
                Val::Known(joined)
            }
            other => other,
        });
    }
    let Val::Known(s) = value else {
        return Ok(Val::Unknown);
    };
    let mut a: Vec<&[u8]> = Vec::with_capacity(args.len());
    for x in args {
        match x {
            Val::Known(b) => a.push(b),
            Val::Unknown => return Ok(Val::Unknown),
        }
    }
    let first = a.first().copied();
    let pair = match a.as_slice() {
        [p, r] => Some((*p, *r)),
        _ => None,
    };
    let out = match fun {
        Fun::Len => s.len().to_string().into_bytes(),
        Fun::Lower => map_runes(&s, go_to_lower),
        Fun::Upper => map_runes(&s, go_to_upper),
        Fun::LowerFirst => map_first(&s, go_to_lower),
        Fun::UpperFirst => map_first(&s, go_to_upper),
        Fun::Substr => substr(&s, &a)?,
        Fun::ReplaceFirst | Fun::ReplaceAll => {
            let limit = if fun == Fun::ReplaceFirst {
                Some(1)
            } else {
                None
            };
            match (first, a.get(1)) {
                (None, _) => s,
                (Some(p), None) => go_replace(&s, p, b"", limit),
                (Some(p), Some(r)) => go_replace(&s, p, r, limit),
            }
        }
        Fun::ReplacePrefix => match pair {
            Some((p, r)) if s.starts_with(p) => go_replace(&s, p, r, Some(1)),
            _ => s,
        },
        Fun::ReplaceSuffix => match pair {
            Some((p, r)) if s.ends_with(p) => {
                let mut out = s.get(..s.len() - p.len()).unwrap_or(&[]).to_vec();
                out.extend_from_slice(r);
                out
            }
            _ => s,
        },
        Fun::TrimShortestPrefix => first.map_or_else(|| s.clone(), |p| trim_shortest(&s, p)),
        Fun::TrimLongestPrefix => first.map_or_else(|| s.clone(), |p| trim_longest(&s, p)),
        Fun::TrimShortestSuffix => first.map_or_else(
            || s.clone(),
            |p| go_reverse(&trim_shortest(&go_reverse(&s), &go_reverse(p))),
        ),
        Fun::TrimLongestSuffix => first.map_or_else(
            || s.clone(),
            |p| go_reverse(&trim_longest(&go_reverse(&s), &go_reverse(p))),
        ),
        Fun::Default => s,
    };
    Ok(Val::Known(out))
}

fn runes(s: &[u8]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let (r, w) = decode_slice(rest);
        out.push(r);
        rest = tail(rest, w.max(1));
    }
    out
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut b = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

fn map_runes(s: &[u8], f: fn(char) -> char) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in runes(s) {
        push_char(&mut out, f(c));
    }
    out
}

fn map_first(s: &[u8], f: fn(char) -> char) -> Vec<u8> {
    if s.is_empty() {
        return Vec::new();
    }
    let (r, w) = decode_slice(s);
    let mut out = Vec::with_capacity(s.len() + 4);
    push_char(&mut out, f(r));
    out.extend_from_slice(tail(s, w));
    out
}

/// Go's `unicode.ToUpper` (simple case mapping): characters whose full mapping has several
/// characters keep themselves, except the Greek ones with a simple titlecase-capital mapping.
fn go_to_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let shift8 = |c: char| char::from_u32(c as u32 + 8).unwrap_or(c);
    match c {
        '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => {
            return shift8(c)
        }
        '\u{1FB3}' => return '\u{1FBC}',
        '\u{1FC3}' => return '\u{1FCC}',
        '\u{1FF3}' => return '\u{1FFC}',
        _ => {}
    }
    single(c.to_uppercase(), c)
}

/// Go's `unicode.ToLower` (simple case mapping).
fn go_to_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{130}' {
        return 'i';
    }
    single(c.to_lowercase(), c)
}

fn single(mut it: impl Iterator<Item = char>, otherwise: char) -> char {
    match (it.next(), it.next()) {
        (Some(c), None) => c,
        _ => otherwise,
    }
}

/// `strconv.Atoi`: optional sign and decimal digits, 64-bit.
fn go_atoi(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse::<i64>().ok()
}

/// `${v:offset}` and `${v:offset:length}`, in bytes. A negative length is a Go slice panic, which
/// kustomize-controller recovers as a reconcile error.
fn substr(s: &[u8], args: &[&[u8]]) -> Result<Vec<u8>, String> {
    let Some(first) = args.first() else {
        return Ok(s.to_vec());
    };
    let Some(mut pos) = go_atoi(first) else {
        return Ok(s.to_vec());
    };
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if pos < 0 {
        pos = len.wrapping_add(pos).max(0);
    }
    let rest = |pos: i64| -> Vec<u8> {
        if pos < len {
            tail(s, usize::try_from(pos).unwrap_or(usize::MAX)).to_vec()
        } else {
            Vec::new()
        }
    };
    let Some(second) = args.get(1) else {
        return Ok(rest(pos));
    };
    let Some(length) = go_atoi(second) else {
        return Ok(s.to_vec());
    };
    let end = pos.wrapping_add(length);
    if end >= len {
        return Ok(rest(pos));
    }
    if end < 0 {
        return Err(format!(
            "panic: runtime error: slice bounds out of range [:{end}] [recovered]"
        ));
    }
    if end < pos {
        return Err(format!(
            "panic: runtime error: slice bounds out of range [{pos}:{end}] [recovered]"
        ));
    }
    let (a, b) = (
        usize::try_from(pos).unwrap_or(0),
        usize::try_from(end).unwrap_or(0),
    );
    Ok(s.get(a..b).unwrap_or(&[]).to_vec())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let at = hay.get(i..)?.iter().position(|&b| b == first)? + i;
        if hay.get(at..at + needle.len())? == needle {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// `strings.Replace`: up to `limit` (all when None) non-overlapping matches, left to right; an
/// empty `old` matches at the start and after each rune.
fn go_replace(s: &[u8], old: &[u8], new: &[u8], limit: Option<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut start = 0;
    if old.is_empty() {
        let matches = runes(s).len() + 1;
        let n = limit.map_or(matches, |l| l.min(matches));
        for i in 0..n {
            let mut j = start;
            if i > 0 {
                j += decode_slice(tail(s, start)).1;
            }
            out.extend_from_slice(s.get(start..j).unwrap_or(&[]));
            out.extend_from_slice(new);
            start = j;
        }
    } else {
        let mut done = 0;
        while limit.is_none_or(|l| done < l) {
            let Some(at) = find(tail(s, start), old) else {
                break;
            };
            out.extend_from_slice(s.get(start..start + at).unwrap_or(&[]));
            out.extend_from_slice(new);
            start += at + old.len();
            done += 1;
        }
    }
    out.extend_from_slice(tail(s, start));
    out
}

/// `[]rune` reversal: invalid bytes become U+FFFD.
fn go_reverse(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in runes(s).into_iter().rev() {
        push_char(&mut out, c);
    }
    out
}

/// Strips the shortest non-empty prefix matching the glob (tried from longest to shortest; a
/// bad pattern leaves the value).
fn trim_shortest(s: &[u8], pattern: &[u8]) -> Vec<u8> {
    let mut shortest = 0;
    for i in 0..s.len() {
        let prefix = s.get(..s.len() - i).unwrap_or(&[]);
        match glob_match(pattern, prefix) {
            Err(()) => return s.to_vec(),
            Ok(true) => shortest = prefix.len(),
            Ok(false) => {}
        }
    }
    tail(s, shortest).to_vec()
}

fn trim_longest(s: &[u8], pattern: &[u8]) -> Vec<u8> {
    for i in 0..s.len() {
        let prefix_len = s.len() - i;
        match glob_match(pattern, s.get(..prefix_len).unwrap_or(&[])) {
            Err(()) => return s.to_vec(),
            Ok(true) => return tail(s, prefix_len).to_vec(),
            Ok(false) => {}
        }
    }
    s.to_vec()
}

/// The fork of Go's `path.Match` used upstream: `*` and `?` also match `/`, a trailing `*`
/// matches the rest, no backtracking once a chunk after a `*` has matched. Err is a bad pattern.
fn glob_match(pattern: &[u8], name: &[u8]) -> Result<bool, ()> {
    let mut pattern = pattern;
    let mut name = name;
    'chunks: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(true);
        }
        match match_chunk(chunk, name)? {
            Some(t) if t.is_empty() || !pattern.is_empty() => {
                name = t;
                continue;
            }
            _ => {}
        }
        if star {
            for i in 0..name.len() {
                if let Some(t) = match_chunk(chunk, tail(name, i + 1))? {
                    if pattern.is_empty() && !t.is_empty() {
                        continue;
                    }
                    name = t;
                    continue 'chunks;
                }
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut p = pattern;
    let mut star = false;
    while p.first() == Some(&b'*') {
        p = tail(p, 1);
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while let Some(&c) = p.get(i) {
        match c {
            b'\\' if i + 1 < p.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    let i = i.min(p.len());
    (star, p.get(..i).unwrap_or(&[]), tail(p, i))
}

/// Matches `chunk` (no `*`) at the start of `s`: Ok(Some(rest)), Ok(None) on mismatch.
fn match_chunk<'s>(chunk: &[u8], s: &'s [u8]) -> Result<Option<&'s [u8]>, ()> {
    let mut chunk = chunk;
    let mut s = s;
    while let Some(&c) = chunk.first() {
        if s.is_empty() {
            return Ok(None);
        }
        match c {
            b'[' => {
                let (r, n) = decode_slice(s);
                s = tail(s, n);
                chunk = tail(chunk, 1);
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = tail(chunk, 1);
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = tail(chunk, 1);
                        break;
                    }
                    let (lo, rest) = class_char(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = class_char(tail(chunk, 1))?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    return Ok(None);
                }
            }
            b'?' => {
                s = tail(s, decode_slice(s).1);
                chunk = tail(chunk, 1);
            }
            _ => {
                let lit = if c == b'\\' {
                    chunk = tail(chunk, 1);
                    *chunk.first().ok_or(())?
                } else {
                    c
                };
                if s.first() != Some(&lit) {
                    return Ok(None);
                }
                s = tail(s, 1);
                chunk = tail(chunk, 1);
            }
        }
    }
    Ok(Some(s))
}

/// A possibly escaped character of a class; the class must go on after it.
fn class_char(chunk: &[u8]) -> Result<(char, &[u8]), ()> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(()),
        Some(b'\\') => {
            chunk = tail(chunk, 1);
            if chunk.is_empty() {
                return Err(());
            }
        }
        Some(_) => {}
    }
    let (r, n) = decode_slice(chunk);
    if r == RUNE_ERROR && n == 1 {
        return Err(());
    }
    let rest = tail(chunk, n);
    if rest.is_empty() {
        return Err(());
    }
    Ok((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn run_with(input: &str, pairs: &[(&str, &str)], maybe: &[&str], strict: bool) -> Outcome {
        let vars = map(pairs);
        let maybe: Vec<String> = maybe.iter().map(|s| s.to_string()).collect();
        let lookup = |n: &str| vars.get(n).cloned();
        let may_be = |n: &str| maybe.iter().any(|m| m == n);
        substitute(input, &lookup, &may_be, strict)
    }

    fn run(input: &str, pairs: &[(&str, &str)], strict: bool) -> Outcome {
        run_with(input, pairs, &[], strict)
    }

    /// Non-strict text.
    fn lax(input: &str, pairs: &[(&str, &str)]) -> String {
        match run(input, pairs, false) {
            Outcome::Done { text, .. } => text,
            other => panic!("{input:?}: {other:?}"),
        }
    }

    /// Strict text.
    fn strict(input: &str, pairs: &[(&str, &str)]) -> String {
        match run(input, pairs, true) {
            Outcome::Done { text, .. } => text,
            other => panic!("{input:?}: {other:?}"),
        }
    }

    /// The error, in either mode (checks both modes agree for parse errors).
    fn error(input: &str, pairs: &[(&str, &str)], strict: bool) -> (String, String) {
        match run(input, pairs, strict) {
            Outcome::Error { message, range } => {
                let at = input
                    .get(range.clone())
                    .unwrap_or_else(|| panic!("bad range {range:?}"))
                    .to_string();
                (message, at)
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }

    fn parse_error(input: &str) -> (String, String) {
        let a = error(input, &[], false);
        let b = error(input, &[], true);
        assert_eq!(a, b, "{input:?}");
        a
    }

    fn uses(
        input: &str,
        pairs: &[(&str, &str)],
        maybe: &[&str],
        strict: bool,
    ) -> Vec<(String, String, bool)> {
        let us = match run_with(input, pairs, maybe, strict) {
            Outcome::Done { uses, .. } | Outcome::Unknown { uses } => uses,
            other => panic!("{input:?}: {other:?}"),
        };
        us.into_iter()
            .map(|u| (u.name, input[u.range].to_string(), u.defined))
            .collect()
    }

    fn u(name: &str, at: &str, defined: bool) -> (String, String, bool) {
        (name.to_string(), at.to_string(), defined)
    }

    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

    // --- upstream eval_test.go TestExpand, in non-strict mode ---------------------------------

    #[test]
    fn upstream_expand_cases() {
        let z = [("stringZ", "abcABC123ABCabc")];
        let cases: &[Case] = &[
            (&[], "abcdEFGH28ij", "abcdEFGH28ij"),
            (&[("var01", "abcdEFGH28ij")], "${#var01}", "12"),
            (&[("var01", "abcdEFGH28ij")], "${var01^}", "AbcdEFGH28ij"),
            (&[("var01", "abcdEFGH28ij")], "${var01^^}", "ABCDEFGH28IJ"),
            (&[("var01", "ABCDEFGH28IJ")], "${var01,}", "aBCDEFGH28IJ"),
            (&[("var01", "ABCDEFGH28IJ")], "${var01,,}", "abcdefgh28ij"),
            (
                &[("path_name", "/home/bozo/ideas/thoughts.for.today")],
                "${path_name:11}",
                "ideas/thoughts.for.today",
            ),
            (
                &[("path_name", "/home/bozo/ideas/thoughts.for.today")],
                "${path_name:11:5}",
                "ideas",
            ),
            (&[("var", "abc")], "${var=xyz}", "abc"),
            (&[], "${var=xyz}", "xyz"),
            (
                &[("default_var", "foo")],
                "something ${var=${default_var}}",
                "something foo",
            ),
            (
                &[("default_var", "foo1")],
                "foo: ${var=${default_var}-suffix}",
                "foo: foo1-suffix",
            ),
            (
                &[("default_var", "foo1")],
                "foo: ${var=prefix${default_var}-suffix}",
                "foo: prefixfoo1-suffix",
            ),
            (&[], "${var:=xyz}", "xyz"),
            (&z, "${stringZ/%abc/XYZ}", "abcABC123ABCXYZ"),
            (&z, "${stringZ/#abc/XYZ}", "XYZABC123ABCabc"),
            (&z, "${stringZ//abc/xyz}", "xyzABC123ABCxyz"),
            (&z, "${stringZ/abc/xyz}", "xyzABC123ABCabc"),
            (
                &[("filename", "bash.string.txt")],
                "${filename#*.}",
                "string.txt",
            ),
            (&[("filename", "path/to/file")], "${filename#*/}", "to/file"),
            (
                &[("filename", "/path/to/file")],
                "${filename#*/}",
                "path/to/file",
            ),
            (&[("filename", "bash.string.txt")], "${filename##*.}", "txt"),
            (&[("filename", "path/to/file")], "${filename##*/}", "file"),
            (&[("filename", "/path/to/file")], "${filename##*/}", "file"),
            (
                &[("filename", "bash.string.txt")],
                "${filename%.*}",
                "bash.string",
            ),
            (
                &[("filename", "bash.string.txt")],
                "${filename%%.*}",
                "bash",
            ),
            (
                &[("var01", "abcdEFGH28ij")],
                "${var=${var01^^}}",
                "ABCDEFGH28IJ",
            ),
            (&[("var01", "abcdEFGH28ij")], "$${var01}", "${var01}"),
            (
                &[("var01", "abcdEFGH28ij")],
                "some text ${var01}$${var$${var01}$var01${var01}",
                "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
            ),
            (
                &[("default_var", "foo")],
                "something $${var=${default_var}}",
                "something ${var=foo}",
            ),
            (&[("stringZ", "foo/bar")], r"${stringZ/\//-}", "foo-bar"),
            (
                &[("stringZ", "foo/bar/baz")],
                r"${stringZ//\//-}",
                "foo-bar-baz",
            ),
            (
                &[("default_var", "foo")],
                r"\\something ${var=${default_var}}",
                r"\\something foo",
            ),
            (&[("stringZ", "foo.bar")], "${stringZ/./}", "foobar"),
        ];
        for (pairs, input, want) in cases {
            assert_eq!(lax(input, pairs), *want, "{input:?}");
        }
    }

    // --- upstream parse_test.go texts, evaluated ---------------------------------------------

    #[test]
    fn upstream_parse_cases() {
        let v = [
            ("string", "Hello/World"),
            ("position", "1"),
            ("length", "3"),
            ("var", "V"),
            ("stringz", ""),
        ];
        assert_eq!(lax("text", &v), "text");
        assert_eq!(lax("}text", &v), "}text");
        assert_eq!(lax("http://github.com", &v), "http://github.com");
        assert_eq!(lax("$${string}", &v), "${string}");
        assert_eq!(lax("$$string", &v), "$string");
        assert_eq!(lax(r"\\.\pipe\pipename", &v), r"\\.\pipe\pipename");
        assert_eq!(lax("${string}", &v), "Hello/World");
        assert_eq!(lax("${string:position}", &v), "Hello/World"); // not a number: unchanged
        assert_eq!(lax("${string:${position}:${length}}", &v), "ell");
        // `$%:*{` is one literal pattern argument.
        assert_eq!(lax("${string#$%:*{}", &[("string", "$%:x{rest")]), "rest");
        assert_eq!(lax("hello ${#string} world", &v), "hello 11 world");
        assert_eq!(
            lax(r"\\ hello ${#string} world \\", &v),
            r"\\ hello 11 world \\"
        );
        assert_eq!(
            lax(r"${string/\/position/length}", &[("string", "a/positionb")]),
            "alengthb"
        );
        assert_eq!(
            lax(
                r"${string/\/position\\/length}",
                &[("string", r"a/position\b")]
            ),
            "alengthb"
        );
        assert_eq!(
            lax(r"${string/position/\/length}", &[("string", "position")]),
            "/length"
        );
        assert_eq!(
            lax(r"${string/position/\/length\\}", &[("string", "position")]),
            r"/length\"
        );
        assert_eq!(
            lax(r"${string/position/\/leng\\th}", &[("string", "position")]),
            r"/leng\th"
        );
        assert_eq!(lax("${string:${position}}", &v), "ello/World");
        let w = [
            ("string", "abcdefgh"),
            ("stringy", "x2y"),
            ("stringz", "THREE"),
        ];
        assert_eq!(lax("${string:${stringy:1:1}:${stringz,,}}", &w), "abcdefgh"); // length "three": not a number
        assert_eq!(lax("${string:${stringy:1:1}:${stringy:1:1}}", &w), "cd");
        assert_eq!(
            lax(
                "${string#${stringz}}",
                &[("string", "abcabc"), ("stringz", "a*c")]
            ),
            "abc"
        );
        assert_eq!(lax("${string=${stringz}}", &[("stringz", "z")]), "z");
        assert_eq!(lax("${string=prefix-${var}}", &v), "Hello/World");
        assert_eq!(lax("${x=prefix-${var}}", &v), "prefix-V");
        assert_eq!(lax("${x=${var}-suffix}", &v), "V-suffix");
        assert_eq!(lax("${x=prefix-${var}-suffix}", &v), "prefix-V-suffix");
        assert_eq!(lax("${x=prefix${var} suffix}", &v), "prefixV suffix");
        assert_eq!(
            lax(
                "${string//${stringy}/${stringz}}",
                &[("string", "axbxc"), ("stringy", "x"), ("stringz", "-")]
            ),
            "a-b-c"
        );
    }

    // --- upstream TestExpandStrict --------------------------------------------------------------

    #[test]
    fn upstream_strict_cases() {
        assert_eq!(strict("abcdEFGH28ij", &[]), "abcdEFGH28ij");
        assert_eq!(strict("${foo}", &[("foo", "bar")]), "bar");
        assert_eq!(strict("${foo}", &[("foo", "")]), "");
        assert_eq!(
            error("${missing}", &[], true),
            (
                "variable not set (strict mode): \"missing\"".into(),
                "${missing}".into()
            )
        );
        assert_eq!(strict("${missing:=default}", &[("foo", "bar")]), "default");
        for input in [
            "${#missing}",
            "${missing^}",
            "${missing^^}",
            "${missing,}",
            "${missing,,}",
            "${missing:0}",
            "${missing:0:10}",
            "${missing/pattern/replacement}",
            "${missing//pattern/replacement}",
            "${missing/#pattern/replacement}",
            "${missing/%pattern/replacement}",
            "${missing#pattern}",
            "${missing##pattern}",
            "${missing%pattern}",
            "${missing%%pattern}",
        ] {
            let (message, at) = error(input, &[], true);
            assert_eq!(
                message, "variable not set (strict mode): \"missing\"",
                "{input}"
            );
            assert_eq!(at, input);
            // Non-strict: the empty string.
            assert_eq!(
                lax(input, &[]),
                if input.starts_with("${#") { "0" } else { "" },
                "{input}"
            );
        }
        assert_eq!(strict("${missing:-fallback}", &[]), "fallback");
        assert_eq!(strict("${missing:=assigned}", &[]), "assigned");
        assert_eq!(strict("${missing=assigned}", &[]), "assigned");
    }

    // --- default forms -----------------------------------------------------------------------

    #[test]
    fn all_default_forms_mean_value_or_default() {
        for op in ["=", ":=", ":-", ":?", ":+"] {
            let input = format!("${{V{op}d}}");
            assert_eq!(strict(&input, &[("V", "x")]), "x", "{input}");
            assert_eq!(
                strict(&input, &[("V", "")]),
                "d",
                "{input}: defined but empty"
            );
            assert_eq!(strict(&input, &[]), "d", "{input}: undefined");
            assert_eq!(lax(&input, &[]), "d", "{input}");
        }
        // An empty default keeps the (empty) value.
        assert_eq!(strict("${V:=}", &[("V", "")]), "");
        assert_eq!(strict("${V:=}", &[]), "");
        assert_eq!(strict("${V=}", &[]), "");
    }

    #[test]
    fn unsupported_forms_without_colon_are_parse_errors() {
        for input in ["${var-default}", "${var+x}", "${var?x}"] {
            let (message, at) = parse_error(input);
            assert_eq!(message, "missing closing brace", "{input}");
            assert_eq!(at, &input[..6], "{input}");
        }
    }

    #[test]
    fn defaults_with_nesting_lists_and_quotes() {
        let v = [("APP", "app")];
        assert_eq!(strict("${CNPG_DATABASE:=${APP}}", &v), "app");
        assert_eq!(
            strict(
                "${CNPG_DATABASE:=${APP}}",
                &[("CNPG_DATABASE", "db"), ("APP", "app")]
            ),
            "db"
        );
        assert_eq!(strict("${X:=['ro', 'r']}", &[]), "['ro', 'r']");
        assert_eq!(strict("${Y:=\"1.1\"}", &[]), "\"1.1\"");
        assert_eq!(strict("${Y:={a}}", &[]), "{a}"); // the first } closes
        assert_eq!(strict("${A:=x${B:=y${C:=z}}w}", &[]), "xyzw");
        assert_eq!(strict("${A:=x ${B} y}", &[("B", "b")]), "x b y");
        assert_eq!(strict("${A:=-1}", &[]), "-1");
        assert_eq!(strict("${A:=:=}", &[]), ":=");
        assert_eq!(strict("${A:=a:b/c#d%e,f^g=h}", &[]), "a:b/c#d%e,f^g=h");
        assert_eq!(strict("${A=$B}", &[]), "$B");
    }

    #[test]
    fn strict_nested_default_is_evaluated_even_when_unused() {
        // Upstream evaluates the arguments before looking the variable up.
        let (message, at) = error(
            "x: ${CNPG_DATABASE:=${APP}}",
            &[("CNPG_DATABASE", "db")],
            true,
        );
        assert_eq!(message, "variable not set (strict mode): \"APP\"");
        assert_eq!(at, "${APP}");
        assert_eq!(
            lax("x: ${CNPG_DATABASE:=${APP}}", &[("CNPG_DATABASE", "db")]),
            "x: db"
        );
        assert_eq!(strict("${A:=${B:=b}}", &[]), "b");
    }

    // --- dollars -----------------------------------------------------------------------------

    #[test]
    fn dollar_escapes_in_text() {
        let v = [("var", "V")];
        assert_eq!(
            lax("$var and $ alone and $(var) and ${var}", &v),
            "$var and $ alone and $(var) and V"
        );
        assert_eq!(lax("$$", &v), "$");
        assert_eq!(lax("$$$", &v), "$$");
        assert_eq!(lax("$$$$", &v), "$$");
        assert_eq!(lax("a$$$b", &v), "a$$b");
        assert_eq!(lax("$$${var}", &v), "$V");
        assert_eq!(lax("$$$${var}", &v), "$${var}");
        assert_eq!(lax("$", &v), "$");
        assert_eq!(lax("x$", &v), "x$");
        assert_eq!(lax("${var}$", &v), "V$");
        assert_eq!(lax("${var}$$", &v), "V$");
        // SQL dollar quoting is collapsed.
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; $tag$x$tag$";
        assert_eq!(
            lax(sql, &v),
            "CREATE FUNCTION f() RETURNS int AS $ BEGIN RETURN 1; END $ LANGUAGE plpgsql; $tag$x$tag$"
        );
        assert!(has_dollar_escapes(sql));
        assert!(!has_vars(sql));
        // Backslashes are not escapes in text.
        assert_eq!(lax(r"a\${var}\\", &v), r"a\V\\");
    }

    #[test]
    fn dollars_inside_functions() {
        // Defaults, offsets and trim patterns keep `$$`; a `${` in them always opens a reference.
        assert_eq!(strict("${X:=a$$b}", &[]), "a$$b");
        assert_eq!(strict("${X:=$${Y}}", &[("Y", "y")]), "$y");
        assert_eq!(strict("${X#$$}", &[("X", "$$a")]), "a");
        // Replace pattern and replacement collapse `$$` and unescape `\/` and `\\`.
        assert_eq!(strict("${X/$$/-}", &[("X", "a$b")]), "a-b");
        assert_eq!(strict("${X/a/$$$$}", &[("X", "a")]), "$$");
        assert_eq!(strict(r"${X/a/\\\/}", &[("X", "a")]), r"\/");
        assert_eq!(strict(r"${X/a/\n}", &[("X", "a")]), r"\n");
    }

    // --- forms -------------------------------------------------------------------------------

    #[test]
    fn case_functions() {
        let v = [("V", "élan Über"), ("E", "")];
        assert_eq!(strict("${V^}", &v), "Élan Über");
        assert_eq!(strict("${V^^}", &v), "ÉLAN ÜBER");
        assert_eq!(strict("${V,,}", &[("V", "ÉLAN İ ΣΑΣ")]), "élan i σασ");
        assert_eq!(strict("${V,}", &[("V", "ÉLAN")]), "éLAN");
        assert_eq!(strict("${V^^}", &[("V", "straße ǆ")]), "STRAßE Ǆ");
        assert_eq!(strict("${E^}${E^^}${E,}${E,,}", &v), "");
        // Mixed operators fall back to the plain value; a third one is a parse error.
        assert_eq!(strict("${V^,}", &[("V", "abc")]), "abc");
        assert_eq!(strict("${V,^}", &[("V", "ABC")]), "ABC");
        assert_eq!(parse_error("${V^^^}").0, "bad substitution");
        assert_eq!(parse_error("${V,,,}").0, "bad substitution");
    }

    #[test]
    fn length_counts_bytes() {
        assert_eq!(strict("${#V}", &[("V", "héllo")]), "6");
        assert_eq!(strict("${#V}", &[("V", "")]), "0");
        assert_eq!(lax("${#V}", &[]), "0");
        assert_eq!(parse_error("${#}").0, "bad substitution");
        assert_eq!(parse_error("${##}").0, "bad substitution");
        assert_eq!(parse_error("${#V:1}").0, "bad substitution");
        assert_eq!(parse_error("${#V:=x}").0, "bad substitution");
    }

    #[test]
    fn substrings() {
        let v = [("V", "0123456789")];
        assert_eq!(strict("${V:3}", &v), "3456789");
        assert_eq!(strict("${V:3:2}", &v), "34");
        assert_eq!(strict("${V:+3}", &v), "0123456789"); // `:+` is a default form
        assert_eq!(strict("${V:-3}", &v), "0123456789"); // `:-` too
        assert_eq!(strict("${V: -3}", &v), "0123456789"); // " -3" is not a number
        assert_eq!(
            strict("${V:${N}}", &[("V", "0123456789"), ("N", "-3")]),
            "789"
        );
        assert_eq!(
            strict("${V:${N}:2}", &[("V", "0123456789"), ("N", "-30")]),
            "01"
        );
        assert_eq!(strict("${V:10}", &v), "");
        assert_eq!(strict("${V:99}", &v), "");
        assert_eq!(strict("${V:8:99}", &v), "89");
        assert_eq!(strict("${V:99:1}", &v), "");
        assert_eq!(strict("${V:0:0}", &v), "");
        assert_eq!(strict("${V:x}", &v), "0123456789");
        assert_eq!(strict("${V:1:x}", &v), "0123456789");
        assert_eq!(strict("${V:1::2}", &v), "12"); // any run of ':' separates
        assert_eq!(strict("${V:1:2:3}", &v), "0123456789"); // length "2:3" is not a number
        assert_eq!(strict("${V:99999999999999999999}", &v), "0123456789"); // out of range: unchanged
                                                                           // offset + length overflows, as in Go, and the slice panics.
        assert!(error("${V:1:9223372036854775807}", &v, true)
            .0
            .contains("[:-9223372036854775808]"));
        assert_eq!(strict("${V:1:9223372036854775806}", &v), "123456789");
        // Byte offsets: a cut through a character is replaced by U+FFFD.
        assert_eq!(strict("${V:1}", &[("V", "éa")]), "\u{FFFD}a");
        // A negative length panics upstream (recovered by the controller as an error).
        let (message, at) = error("x ${V:0:-1}", &v, false);
        assert!(
            message.contains("slice bounds out of range [:-1]"),
            "{message}"
        );
        assert_eq!(at, "${V:0:-1}");
        assert!(error("${V:5:-2}", &v, true).0.contains("[5:3]"));
        assert!(
            error("${V:5:${L}}", &[("V", "0123456789"), ("L", "-9")], true)
                .0
                .contains("[:-4]")
        );
        for input in ["${V:}", "${V::1}", "${V:1:}", "${V:1", "${V:"] {
            let (message, _) = parse_error(input);
            assert!(
                message == "unable to parse substitution within function"
                    || message == "bad substitution",
                "{input}: {message}"
            );
        }
        // The rune after ':' is multi-byte: upstream steps back too far and fails.
        assert_eq!(parse_error("${V:é}").0, "bad substitution");
    }

    #[test]
    fn trims() {
        let f = [("F", "bash.string.txt")];
        assert_eq!(strict("${F#*.}", &f), "string.txt");
        assert_eq!(strict("${F##*.}", &f), "txt");
        assert_eq!(strict("${F%.*}", &f), "bash.string");
        assert_eq!(strict("${F%%.*}", &f), "bash");
        assert_eq!(strict("${F#bash}", &f), ".string.txt");
        assert_eq!(strict("${F#nomatch}", &f), "bash.string.txt");
        assert_eq!(strict("${F#?}", &f), "ash.string.txt");
        assert_eq!(strict("${F#[a-c]}", &f), "ash.string.txt");
        assert_eq!(strict("${F#[^a-c]}", &f), "bash.string.txt");
        assert_eq!(strict("${F#*}", &f), "ash.string.txt"); // the empty prefix is never tried
        assert_eq!(strict("${F##*}", &f), "");
        assert_eq!(strict("${F#[}", &f), "bash.string.txt"); // bad pattern: unchanged
        assert_eq!(strict("${F###}", &[("F", "#a")]), "a"); // `##` then pattern "#"
                                                            // Suffix trims reverse the pattern too: a class reversed is a bad pattern.
        assert_eq!(strict("${V%[0-9]}", &[("V", "abc1")]), "abc1");
        assert_eq!(strict("${V%1}", &[("V", "abc1")]), "abc");
        assert_eq!(strict("${V%é}", &[("V", "caféé")]), "café");
        assert_eq!(
            parse_error("${F#}").0,
            "unable to parse substitution within function"
        );
        assert_eq!(
            parse_error("${F%}").0,
            "unable to parse substitution within function"
        );
        assert_eq!(parse_error("${F#a").0, "bad substitution");
    }

    #[test]
    fn replaces() {
        let z = [("Z", "abcABCabc")];
        assert_eq!(strict("${Z/abc/x}", &z), "xABCabc");
        assert_eq!(strict("${Z//abc/x}", &z), "xABCx");
        // No second slash: the pattern runs to the end of the input.
        assert_eq!(
            parse_error("${Z//abc}"),
            ("bad substitution".into(), "${Z//abc}".into())
        );
        assert_eq!(strict("${Z/b/}", &z), "acABCabc");
        assert_eq!(strict("${Z//b/}", &z), "acABCac");
        assert_eq!(strict("${Z/#abc/x}", &z), "xABCabc");
        assert_eq!(strict("${Z/#ABC/x}", &z), "abcABCabc");
        assert_eq!(strict("${Z/%abc/x}", &z), "abcABCx");
        // `/#` and `/%` need a replacement, else the value is unchanged.
        assert_eq!(strict("${Z/#abc/}", &z), "abcABCabc");
        assert_eq!(strict("${Z/%abc/}", &z), "abcABCabc");
        // Extra slashes after the pattern are one separator; later ones belong to the replacement.
        assert_eq!(strict("${Z/abc//x}", &z), "xABCabc");
        assert_eq!(strict("${Z/abc/x/y}", &z), "x/yABCabc");
        // `//#` is `//` with pattern "#…".
        assert_eq!(strict("${Z//#a/x}", &[("Z", "#a#a")]), "xx");
        // An empty pattern (from a reference) matches at the start, or before every character.
        let e = [("Z", "ab"), ("E", "")];
        assert_eq!(strict("${Z/${E}/-}", &e), "-ab");
        assert_eq!(strict("${Z//${E}/-}", &e), "-a-b-");
        assert_eq!(strict("${Z//${E}/-}", &[("Z", "é"), ("E", "")]), "-é-");
        // The pattern runs to the next unescaped '/' even past '}'.
        assert_eq!(strict("${Z/a}x/y}", &[("Z", "a}xa")]), "ya");
        assert_eq!(parse_error("${Z/a}").0, "bad substitution");
        assert_eq!(
            parse_error("${Z///x}").0,
            "unable to parse substitution within function"
        );
        assert_eq!(parse_error("${Z/${A}b/c}").0, "bad substitution");
        assert_eq!(
            parse_error("${Z/a/").0,
            "unable to parse substitution within function"
        );
        assert_eq!(parse_error("${Z/a/b").0, "bad substitution");
    }

    // --- parse errors and odd input ------------------------------------------------------------

    #[test]
    fn parse_errors_fail_in_both_modes() {
        assert_eq!(
            parse_error("a ${"),
            ("unable to parse variable name".into(), "${".into())
        );
        assert_eq!(
            parse_error("a ${} b"),
            ("unable to parse variable name".into(), "${}".into())
        );
        assert_eq!(
            parse_error("${ X}"),
            ("unable to parse variable name".into(), "${ ".into())
        );
        assert_eq!(parse_error("${-X}").0, "unable to parse variable name");
        assert_eq!(
            parse_error("a ${abc"),
            ("missing closing brace".into(), "${abc".into())
        );
        assert_eq!(
            parse_error("${X }"),
            ("missing closing brace".into(), "${X ".into())
        );
        assert_eq!(parse_error("${a.b}").0, "missing closing brace");
        assert_eq!(parse_error("${a-b}").0, "missing closing brace");
        assert_eq!(
            parse_error("${X:=abc\nnext: line"),
            (
                "unable to parse substitution within function".into(),
                "${X:=abc\nnext: line".into()
            )
        );
        assert_eq!(
            parse_error("${X:=${Y}"),
            (
                "unable to parse substitution within function".into(),
                "${X:=${Y}".into()
            )
        );
        // The innermost open reference is reported.
        assert_eq!(
            parse_error("${X:=${Y-}}"),
            ("missing closing brace".into(), "${Y-".into())
        );
        // A parse error anywhere wins over a strict-mode error earlier in the text.
        assert_eq!(
            parse_error("${UNSET} ${"),
            ("unable to parse variable name".into(), "${".into())
        );
    }

    #[test]
    fn names_are_not_checked_against_the_variable_regex() {
        assert_eq!(lax("${1abc}", &[]), "");
        assert_eq!(
            error("${1abc}", &[], true).0,
            "variable not set (strict mode): \"1abc\""
        );
        assert_eq!(strict("${1abc}", &[("1abc", "x")]), "x");
        assert_eq!(strict("${_}", &[("_", "u")]), "u");
        assert_eq!(
            error("${nöm}", &[], true),
            (
                "variable not set (strict mode): \"nöm\"".into(),
                "${nöm}".into()
            )
        );
    }

    #[test]
    fn nul_ends_the_input() {
        // Upstream's end-of-input rune is 0, so a NUL byte stops parsing.
        assert_eq!(lax("ab\0${X}", &[("X", "x")]), "ab");
        assert_eq!(lax("${X}\0rest", &[("X", "x")]), "x");
        assert!(!has_vars("ab\0${X}"));
        assert_eq!(
            parse_error("${X:=a\0}").0,
            "unable to parse substitution within function"
        );
    }

    #[test]
    fn non_ascii_and_ranges() {
        let input = "ünï $$ ${A} — $${B} ${C:=ç${A}} ${A/é/e}";
        let out = run(input, &[("A", "é")], true);
        let Outcome::Done { text, uses } = out else {
            panic!("{out:?}")
        };
        assert_eq!(text, "ünï $ é — ${B} çé e");
        let got: Vec<_> = uses
            .iter()
            .map(|u| (u.name.as_str(), &input[u.range.clone()], u.defined))
            .collect();
        assert_eq!(
            got,
            [
                ("A", "${A}", true),
                ("C", "${C:=ç${A}}", false),
                ("A", "${A}", true),
                ("A", "${A/é/e}", true)
            ]
        );
        // Ranges in the original text, after collapsed escapes.
        let input = "$$$$ $$${A} $$";
        let us = uses_of(input);
        assert_eq!(us, [("A".to_string(), 7..11)]);
        assert_eq!(&input[7..11], "${A}");
    }

    fn uses_of(input: &str) -> Vec<(String, Range<usize>)> {
        match run(input, &[("A", "a")], true) {
            Outcome::Done { uses, .. } => uses.into_iter().map(|u| (u.name, u.range)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defined_flags() {
        assert_eq!(
            uses("${A}", &[("A", "")], &[], true),
            [u("A", "${A}", true)]
        );
        assert_eq!(
            uses("${A:=d}", &[("A", "")], &[], true),
            [u("A", "${A:=d}", false)]
        );
        assert_eq!(
            uses("${A:=}", &[("A", "")], &[], true),
            [u("A", "${A:=}", true)]
        );
        assert_eq!(
            uses("${A:=d}", &[("A", "a")], &[], true),
            [u("A", "${A:=d}", true)]
        );
        assert_eq!(uses("${A:=d}", &[], &[], true), [u("A", "${A:=d}", false)]);
        assert_eq!(uses("${A}", &[], &[], false), [u("A", "${A}", false)]);
        assert_eq!(
            uses("${A:=${B}} ${C}", &[("B", "b"), ("C", "c")], &[], true),
            [
                u("A", "${A:=${B}}", false),
                u("B", "${B}", true),
                u("C", "${C}", true)
            ]
        );
    }

    // --- unknowns ------------------------------------------------------------------------------

    #[test]
    fn unknown_variables() {
        // No default: unknown, in either mode.
        for strict in [true, false] {
            let out = run_with("a ${M} b", &[], &["M"], strict);
            assert_eq!(
                out,
                Outcome::Unknown {
                    uses: vec![VarUse {
                        name: "M".into(),
                        range: 2..6,
                        defined: false
                    }]
                }
            );
        }
        // A default is used.
        assert_eq!(
            run_with("${M:=d}", &[], &["M"], true),
            Outcome::Done {
                text: "d".into(),
                uses: vec![VarUse {
                    name: "M".into(),
                    range: 0..7,
                    defined: false
                }]
            }
        );
        // A known value hides an unknown default, but strict mode may still fail on it.
        assert!(
            matches!(run_with("${A:=${M}}", &[("A", "a")], &["M"], false), Outcome::Done { ref text, .. } if text == "a")
        );
        assert!(matches!(
            run_with("${A:=${M}}", &[("A", "a")], &["M"], true),
            Outcome::Unknown { .. }
        ));
        assert!(matches!(
            run_with("${A:=${M}}", &[], &["M"], false),
            Outcome::Unknown { .. }
        ));
        // Transformations of unknown values are unknown.
        assert!(matches!(
            run_with("${M^^}", &[], &["M"], false),
            Outcome::Unknown { .. }
        ));
        assert!(matches!(
            run_with("${A/x/${M}}", &[("A", "x")], &["M"], false),
            Outcome::Unknown { .. }
        ));
        // A certain failure wins over an unknown.
        let out = run_with("${M} ${U}", &[], &["M"], true);
        assert_eq!(
            out,
            Outcome::Error {
                message: "variable not set (strict mode): \"U\"".into(),
                range: 5..9
            }
        );
        // A defined variable is not unknown even when may_be_defined says so.
        let lookup = |n: &str| (n == "A").then(|| "a".to_string());
        assert_eq!(
            substitute("${A}", &lookup, &|_| true, true),
            Outcome::Done {
                text: "a".into(),
                uses: vec![VarUse {
                    name: "A".into(),
                    range: 0..4,
                    defined: true
                }]
            }
        );
    }

    // --- has_vars ------------------------------------------------------------------------------

    #[test]
    fn has_vars_cases() {
        assert!(has_vars("${A}"));
        assert!(has_vars("x ${A:=b}"));
        assert!(has_vars("${"));
        assert!(has_vars("$$${A}"));
        assert!(!has_vars("$${A}"));
        assert!(has_vars("$$$$${A}"));
        assert!(!has_vars("$A $(A) { } $ {A}"));
        assert!(!has_vars(""));
        assert!(!has_dollar_escapes("${A} $x"));
        assert!(has_dollar_escapes("$${A}"));
        assert!(!has_dollar_escapes("${A:=$$}"));
    }

    // --- robustness ----------------------------------------------------------------------------

    #[test]
    fn long_input_is_linear() {
        let mut input = String::new();
        for i in 0..20_000 {
            input.push_str(&format!("line {i}: $$ ${{A}} ${{B:=x${{A}}}} é\n"));
        }
        let start = std::time::Instant::now();
        let out = run(&input, &[("A", "a")], true);
        let Outcome::Done { text, uses } = out else {
            panic!()
        };
        assert_eq!(uses.len(), 60_000);
        assert!(text.starts_with("line 0: $ a xa é\n"));
        assert!(has_vars(&input));
        let long_text = "x".repeat(2_000_000);
        assert_eq!(lax(&long_text, &[]), long_text);
        let dollars = "$".repeat(1_000_001);
        assert_eq!(lax(&dollars, &[]).len(), 500_001);
        assert!(start.elapsed().as_secs() < 30);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}x{}", "${A:=".repeat(n), "}".repeat(n));
        assert_eq!(strict(&deep(MAX_DEPTH), &[]), "x");
        let (message, at) = parse_error(&deep(MAX_DEPTH + 1));
        assert!(message.contains("nested deeper"), "{message}");
        assert_eq!(at, "${");
        // Far deeper: no stack overflow.
        assert!(matches!(
            run(&deep(100_000), &[], true),
            Outcome::Error { .. }
        ));
        assert!(matches!(
            run(&"${".repeat(100_000), &[], true),
            Outcome::Error { .. }
        ));
    }

    /// Small deterministic generator of nasty inputs: nothing panics, ranges are valid, and
    /// results agree across the API.
    #[test]
    fn fuzz_no_panics() {
        let atoms = [
            "$", "{", "}", "$$", "${", "A", "B", "é", ":", "=", "-", "+", "?", "#", "%", "/", "\\",
            ",", "^", "0", "1", "-1", " ", "\n", "\0", "*", "[", "]", "x", "😀",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let vars = [("A", "héllo/wörld.txt"), ("B", "")];
        for _ in 0..30_000 {
            let len = (next() % 14) as usize;
            let mut input = String::new();
            for _ in 0..len {
                input.push_str(atoms[(next() % atoms.len() as u64) as usize]);
            }
            for strict in [false, true] {
                for maybe in [&[][..], &["C"][..]] {
                    match run_with(&input, &vars, maybe, strict) {
                        Outcome::Done { uses, text } => {
                            for u in &uses {
                                assert!(
                                    input
                                        .get(u.range.clone())
                                        .is_some_and(|s| s.starts_with("${") && s.ends_with('}')),
                                    "{input:?} {u:?}"
                                );
                            }
                            if !has_vars(&input) && !input.contains("$$") && !input.contains('\0') {
                                assert_eq!(text, input);
                            }
                        }
                        Outcome::Unknown { uses } => {
                            assert!(uses.iter().any(|u| u.name == "C"), "{input:?}");
                        }
                        Outcome::Error { range, .. } => {
                            assert!(input.get(range.clone()).is_some(), "{input:?} {range:?}");
                            assert!(has_vars(&input), "{input:?}");
                        }
                    }
                }
            }
            let _ = has_dollar_escapes(&input);
        }
    }
}
