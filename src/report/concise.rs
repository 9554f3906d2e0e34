//! `path:line:col: CODE [severity] message`, one finding per line.

use std::io::{self, Write};

use super::{inert, Report};

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for d in report.visible() {
        writeln!(
            out,
            "{}:{}:{}: {} [{}] {}",
            inert(&d.at.path),
            d.at.start.line,
            d.at.start.column,
            d.code,
            d.severity,
            inert(&d.message)
        )?;
    }
    Ok(())
}
