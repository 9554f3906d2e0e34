//! `path:line:col: CODE [severity] message`, one finding per line.

use std::io::{self, Write};

use super::Report;

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for d in report.visible() {
        writeln!(
            out,
            "{}:{}:{}: {} [{}] {}",
            d.at.path, d.at.start.line, d.at.start.column, d.code, d.severity, d.message
        )?;
    }
    Ok(())
}
