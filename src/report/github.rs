//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per
//! finding, shown on the pull request's diff.

use std::io::{self, Write};

use super::{inert, Report};
use crate::rules::Severity;

/// Escaping for the message part: every control character is made visible first (a raw line
/// break would end the command, and the next line could be a command of its own), then `%`.
fn data(s: &str) -> String {
    inert(s).replace('%', "%25")
}

/// Escaping for `key=value` properties, which also may not hold `:` or `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for n in report.model_notes {
        writeln!(out, "::notice title=cnpg-lint::{}", data(n))?;
    }
    for d in report.visible() {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(&d.at.path),
            d.at.start.line,
            d.at.start.column,
            d.at.end.line,
            d.at.end.column,
            property(&format!("{} {}", d.code, d.name)),
            data(&d.message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done\\r\\nnext");
        assert_eq!(data("x\n::error::y\u{1b}"), "x\\n::error::y\\u{1b}");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
