//! Source files and byte spans. Spans are bytes everywhere in the core; lines and columns are
//! computed only at the edges (reporters), from a per-file line index.

pub mod paths;

use std::path::{Path, PathBuf};

/// Index of a file in [`SourceMap`].
pub type FileId = u32;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: clamp_u32(start),
            end: clamp_u32(end.max(start)),
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

fn clamp_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A 1-based line and column; the column counts Unicode code points, as SARIF's
/// `unicodeCodePoints` column kind expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One file read from disk (or made up by a test).
#[derive(Debug)]
pub struct SourceFile {
    /// Path as found on disk.
    pub path: PathBuf,
    /// Path relative to the repository root, with `/` separators.
    pub repo_path: String,
    pub text: String,
    /// Where each line starts, computed on first use: most files of a large repository never
    /// have a position shown.
    line_starts: std::sync::OnceLock<Box<[u32]>>,
}

impl SourceFile {
    pub fn new(path: PathBuf, repo_path: String, text: String) -> SourceFile {
        SourceFile {
            path,
            repo_path,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// Line breaks are LF, CRLF and a lone CR, as YAML reads them (YAML 1.2 `b-break`):
    /// a file written with old Mac line endings still gets its lines right.
    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let bytes = self.text.as_bytes();
            let mut starts = vec![0];
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    starts.push(clamp_u32(i + 1));
                }
            }
            starts.into_boxed_slice()
        })
    }

    /// Line and column of a byte offset. Offsets inside a multi-byte character or past the end
    /// are clamped rather than trusted, since spans may come from any stage.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = (offset as usize).min(self.text.len());
        let line_starts = self.line_starts();
        let line_idx = line_starts
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1);
        let line_start = line_starts.get(line_idx).copied().unwrap_or(0) as usize;
        let prefix = self.text.get(line_start..offset).unwrap_or_else(|| {
            // Offset inside a code point: count up to the previous boundary.
            let mut o = offset;
            while o > line_start && !self.text.is_char_boundary(o) {
                o -= 1;
            }
            self.text.get(line_start..o).unwrap_or("")
        });
        LineCol {
            line: clamp_u32(line_idx + 1),
            column: clamp_u32(prefix.chars().count() + 1),
        }
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.line_starts()
            .get((line as usize).checked_sub(1)?)
            .map(|&s| s as usize)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// The text of a 1-based line without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let Some(start) = self.line_start(line) else {
            return "";
        };
        let end = self
            .line_start(line + 1)
            .unwrap_or(self.text.len())
            .min(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

/// Every file of a run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    by_path: std::collections::HashMap<String, FileId>,
}

impl SourceMap {
    pub fn with_capacity(files: usize) -> SourceMap {
        SourceMap {
            files: Vec::with_capacity(files),
            by_path: std::collections::HashMap::with_capacity(files),
        }
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = clamp_u32(self.files.len());
        self.by_path.entry(file.repo_path.clone()).or_insert(id);
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (clamp_u32(i), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn find(&self, repo_path: &str) -> Option<FileId> {
        self.by_path.get(repo_path).copied()
    }
}

/// `/`-separated form of a relative path, for output and matching.
pub fn slash_path(path: &Path) -> String {
    let mut out = String::new();
    for (i, c) in path.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&c.as_os_str().to_string_lossy());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_code_points_and_handles_crlf() {
        let f = SourceFile::new("a".into(), "a".into(), "a: 1\r\nbé: x\n".into());
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 1 });
        // "bé: " is 5 bytes but 4 code points; "x" is at byte 11.
        assert_eq!(f.line_col(11), LineCol { line: 2, column: 5 });
        assert_eq!(f.line_text(1), "a: 1");
        // Past the end clamps to the end.
        assert_eq!(f.line_col(999).line, 3);
        // Inside a multi-byte char clamps to its start.
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 2 });
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let f = SourceFile::new("a".into(), "a".into(), "a: 1\rb: 2\r\nc: 3".into());
        assert_eq!(f.line_col(5), LineCol { line: 2, column: 1 });
        assert_eq!(f.line_col(11), LineCol { line: 3, column: 1 });
        assert_eq!(f.line_text(1), "a: 1");
        assert_eq!(f.line_text(2), "b: 2");
        assert_eq!(f.line_count(), 3);
    }
}
