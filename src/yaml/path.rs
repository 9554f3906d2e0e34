//! Paths into a YAML tree: `spec.plugins[0].parameters`, and which part of an entry they name.

/// One step in a YAML path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// Inline up to 24 bytes, which keys nearly always are: paths are built for every
    /// substituted value and every finding, and most never leave the process.
    Key(compact_str::CompactString),
    Index(usize),
}

/// Renders a YAML path as `spec.plugins[0].parameters`.
pub fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Which part of a mapping entry a location points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The key (`destinationPath:`), for statements about the setting as a whole.
    Key,
    /// The value, for statements about what is written there.
    Value,
}
