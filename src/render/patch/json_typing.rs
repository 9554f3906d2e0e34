//! How kustomize's JSON patch sees YAML scalars: the target typed the YAML 1.2 way (kyaml), the
//! patch the YAML 1.1 way (sigs.k8s.io/yaml), and numbers, booleans and timestamps written back
//! with the text JSON gives them.

use super::MAX_DEPTH;
use crate::yaml::{Kind, Node, Scalar, Style};

/// Which YAML reader turns text into JSON: kyaml (go-yaml v3) reads the target; sigs.k8s.io/yaml
/// (go-yaml v2, YAML 1.1 booleans) reads the patch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Typing {
    Kyaml,
    SigsYaml,
}

/// A scalar's JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str,
    /// A timestamp, which kyaml turns into an RFC 3339 string (given here).
    Time(String),
}

pub(super) fn json_scalar(s: &Scalar, tag: Option<&str>, typing: Typing) -> J {
    match tag.map(|t| {
        t.strip_prefix("tag:yaml.org,2002:")
            .or_else(|| t.strip_prefix("!!"))
            .unwrap_or("!")
    }) {
        Some("str") | Some("binary") => return J::Str,
        Some("null") => return J::Null,
        Some("bool") | Some("int") | Some("float") | Some("timestamp") | None => {}
        Some(_) => return J::Str,
    }
    if s.style != Style::Plain {
        return J::Str;
    }
    let t = &*s.text;
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return J::Null,
        "true" | "True" | "TRUE" => return J::Bool(true),
        "false" | "False" | "FALSE" => return J::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return J::Num(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return J::Num(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return J::Num(f64::NAN),
        _ => {}
    }
    if typing == Typing::SigsYaml {
        match t {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return J::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return J::Bool(false),
            _ => {}
        }
    }
    match t.bytes().next() {
        Some(b'.') => t.parse::<f64>().map_or(J::Str, J::Num),
        Some(b) if b.is_ascii_digit() || b == b'+' || b == b'-' => {
            if typing == Typing::Kyaml {
                if let Some(ts) = timestamp_rfc3339(t) {
                    return J::Time(ts);
                }
            }
            let plain = t.replace('_', "");
            if let Some(v) = go_parse_int(&plain) {
                return J::Num(v);
            }
            if is_yaml_float(&plain) {
                if let Ok(v) = plain.parse::<f64>() {
                    return J::Num(v);
                }
            }
            J::Str
        }
        _ => J::Str,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` (falling back to `ParseUint`), as a float.
pub(super) fn go_parse_int(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if v > 1u64 << 63 {
            return None;
        }
        Some(-(v as f64))
    } else {
        Some(v as f64)
    }
}

/// go-yaml's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
pub(super) fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    } else {
        if !digits(&mut i) {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml v3's timestamp forms (`2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`, the same with
/// `t` or a space and no zone) as Go's JSON encoding of the time writes them.
pub(super) fn timestamp_rfc3339(s: &str) -> Option<String> {
    let num = |t: &str, min: usize, max: usize| -> Option<u32> {
        (t.len() >= min && t.len() <= max && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())?
    };
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (s.get(..i)?, Some((s.get(i..i + 1)?, s.get(i + 1..)?))),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let (y, m, d) = (
        num(dp.next()?, 4, 4)?,
        num(dp.next()?, 1, 2)?,
        num(dp.next()?, 1, 2)?,
    );
    if dp.next().is_some() || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let date = format!("{y:04}-{m:02}-{d:02}");
    let Some((sep, time)) = rest else {
        return Some(format!("{date}T00:00:00Z"));
    };
    // The zone: required after `T`/`t`, absent after a space.
    let (clock, zone) = if sep == " " {
        (time, String::from("Z"))
    } else if let Some(c) = time.strip_suffix('Z') {
        (c, String::from("Z"))
    } else {
        let i = time.rfind(['+', '-'])?;
        let (c, z) = (time.get(..i)?, time.get(i..)?);
        let (zh, zm) = z.get(1..)?.split_once(':')?;
        let (zh, zm) = (num(zh, 2, 2)?, num(zm, 2, 2)?);
        if zh > 23 || zm > 59 {
            return None;
        }
        let zone = if zh == 0 && zm == 0 {
            "Z".to_string()
        } else {
            z.to_string()
        };
        (c, zone)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((h, f)) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            (h, f.trim_end_matches('0'))
        }
        Some(_) => return None,
        None => (clock, ""),
    };
    let mut tp = hms.split(':');
    let (h, mi, se) = (
        num(tp.next()?, 1, 2)?,
        num(tp.next()?, 1, 2)?,
        num(tp.next()?, 1, 2)?,
    );
    if tp.next().is_some() || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!("{date}T{h:02}:{mi:02}:{se:02}{frac}{zone}"))
}

pub(super) fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The text Go's JSON encoding gives a number (as float64), read back as YAML.
pub(super) fn number_text(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let a = v.abs();
    Some(if a == 0.0 || (1e-6..1e21).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    })
}

/// Rewrites a tree the way a trip through JSON does: scalars take their JSON value's canonical
/// text (`yes` → `true` under YAML 1.1, `0x10` → `16`, `1.0` → `1`, a timestamp → its RFC 3339
/// string). Spans are kept.
pub(super) fn normalize_json(n: &mut Node, typing: Typing, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let tag = n.tag.clone();
    match &mut n.kind {
        Kind::Scalar(s) => {
            if let Some((text, style)) = canonical_scalar(s, tag.as_deref(), typing) {
                s.text = text.into();
                s.style = style;
                n.tag = None;
            }
        }
        Kind::Seq(items) => items
            .iter_mut()
            .for_each(|i| normalize_json(i, typing, depth + 1)),
        Kind::Map(entries) => {
            for e in entries.iter_mut() {
                let key_tag = e.key.tag.clone();
                if let Kind::Scalar(k) = &mut e.key.kind {
                    // Keys are strings in JSON.
                    if let Some((text, _)) = canonical_scalar(k, key_tag.as_deref(), typing) {
                        k.text = text.into();
                    }
                    if json_scalar(k, None, Typing::Kyaml) != J::Str {
                        k.style = Style::Quoted;
                        e.key.tag = None;
                    }
                }
                normalize_json(&mut e.value, typing, depth + 1);
            }
        }
    }
}

pub(super) fn canonical_scalar(
    s: &Scalar,
    tag: Option<&str>,
    typing: Typing,
) -> Option<(String, Style)> {
    match json_scalar(s, tag, typing) {
        J::Bool(b) => {
            let text = if b { "true" } else { "false" };
            (&*s.text != text || tag.is_some()).then(|| (text.to_string(), Style::Plain))
        }
        J::Num(v) => number_text(v)
            .filter(|t| t.as_str() != &*s.text || tag.is_some())
            .map(|t| (t, Style::Plain)),
        J::Time(t) => Some((t, Style::Quoted)),
        J::Str if s.style == Style::Plain && tag.is_some() => {
            Some((s.text.to_string(), Style::Quoted))
        }
        J::Str | J::Null => None,
    }
}
