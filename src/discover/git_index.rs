//! The paths Git tracks, read from `.git/index` without running `git`.
//!
//! A file that Git tracks is in every checkout, and so in the artifact Flux builds from, even
//! when a `.gitignore` pattern matches it (`.gitignore` only keeps untracked files out). The
//! walk uses `.gitignore` to skip untracked files (decrypted secrets, build output) and this
//! list to bring tracked ones back.
//!
//! Running `git ls-files` would be simpler, but a repository's own `.git/config` can make `git`
//! run programs (`core.fsmonitor`, for one), and the linter runs on repositories strangers
//! write. The index format is small and documented: `gitformat-index(5)`,
//! <https://git-scm.com/docs/index-format>.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

/// An index above this size is not read (the Linux kernel's index, 100,000 files, is 10 MB).
const MAX_INDEX_BYTES: u64 = 512 * 1024 * 1024;

/// What Git tracks: file paths, and directories a sparse index records as one entry.
#[derive(Debug, Default)]
pub struct Tracked {
    pub files: HashSet<String>,
    /// Directories (without the trailing `/`) whose files a sparse index does not list.
    pub sparse_dirs: Vec<String>,
}

impl Tracked {
    pub fn contains(&self, repo_path: &str) -> bool {
        self.files.contains(repo_path)
            || self.sparse_dirs.iter().any(|d| {
                repo_path
                    .strip_prefix(d.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            })
    }
}

/// The tracked paths of the Git repository whose work tree is `root`, when `root/.git` is a
/// directory holding an index this reader understands. `None` otherwise: no repository, a
/// `.git` file (a worktree or submodule, whose index lies outside the root, which the linter
/// never reads), or an index it cannot read.
pub fn read(root: &Path) -> Option<Tracked> {
    let git = root.join(".git");
    if !std::fs::symlink_metadata(&git).ok()?.is_dir() {
        return None;
    }
    let hash_len = if sha256_repository(&git.join("config")) {
        32
    } else {
        20
    };
    let file = std::fs::File::open(git.join("index")).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_INDEX_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > MAX_INDEX_BYTES {
        return None;
    }
    parse(&bytes, hash_len)
}

/// `extensions.objectFormat = sha256` in the repository's configuration.
fn sha256_repository(config: &Path) -> bool {
    let Ok(file) = std::fs::File::open(config) else {
        return false;
    };
    let mut text = String::new();
    if file.take(1024 * 1024).read_to_string(&mut text).is_err() {
        return false;
    }
    text.lines().any(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.starts_with("objectformat") && l.ends_with("sha256")
    })
}

const MODE_TYPE: u32 = 0o170000;
const MODE_REGULAR: u32 = 0o100000;
const MODE_SYMLINK: u32 = 0o120000;
const MODE_DIR: u32 = 0o040000;

/// Parses an index of version 2, 3 or 4. Any inconsistency ends the parse with `None`: a
/// partial list would bring back too little, never too much, but a wrong one cannot be told
/// from a right one, so none is used.
pub fn parse(bytes: &[u8], hash_len: usize) -> Option<Tracked> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != b"DIRC" {
        return None;
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = r.u32()? as usize;
    // Every entry takes at least 40 + hash + 2 bytes, so a count past that is a lie.
    if count > bytes.len() / (42 + hash_len) {
        return None;
    }
    let mut out = Tracked::default();
    let mut path: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = r.at;
        r.take(24)?; // ctime, mtime, dev, ino
        let mode = r.u32()?;
        r.take(12)?; // uid, gid, size
        r.take(hash_len)?;
        let flags = r.u16()?;
        if version >= 3 && flags & 0x4000 != 0 {
            r.u16()?; // extended flags
        }
        if version == 4 {
            let strip = r.varint()?;
            let keep = path.len().checked_sub(strip)?;
            path.truncate(keep);
            path.extend_from_slice(r.until_nul()?);
        } else {
            path.clear();
            path.extend_from_slice(r.until_nul()?);
            // 1 to 8 NULs in all (the terminator included) pad the entry to 8 bytes.
            let len = r.at - start;
            let pad = (8 - len % 8) % 8;
            r.take(pad)?;
        }
        let Ok(p) = std::str::from_utf8(&path) else {
            continue; // Not a path this linter could name anyway.
        };
        match mode & MODE_TYPE {
            MODE_REGULAR | MODE_SYMLINK => {
                out.files.insert(p.to_string());
            }
            MODE_DIR => out.sparse_dirs.push(p.trim_end_matches('/').to_string()),
            _ => {} // gitlinks (submodules)
        }
    }
    Some(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    /// The path bytes up to a NUL, consuming the NUL.
    fn until_nul(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.at..)?;
        let n = rest.iter().position(|&b| b == 0)?;
        let s = &rest[..n];
        self.at += n + 1;
        Some(s)
    }

    /// The offset encoding of version 4 (as for `OFS_DELTA`): 7 bits per byte, high bit set
    /// on all but the last, with one added per continuation.
    fn varint(&mut self) -> Option<usize> {
        let mut b = *self.take(1)?.first()?;
        let mut value = usize::from(b & 0x7f);
        let mut n = 0;
        while b & 0x80 != 0 {
            n += 1;
            if n > 8 {
                return None;
            }
            b = *self.take(1)?.first()?;
            value = value
                .checked_add(1)?
                .checked_mul(128)?
                .checked_add(usize::from(b & 0x7f))?;
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index as `git` writes it, built by hand: version 2 or 3 entries.
    fn entry_v2(path: &str, mode: u32, hash_len: usize) -> Vec<u8> {
        let mut e = vec![0u8; 24];
        e.extend_from_slice(&mode.to_be_bytes());
        e.extend_from_slice(&[0u8; 12]);
        e.extend(std::iter::repeat_n(0xab, hash_len));
        e.extend_from_slice(&(path.len().min(0xfff) as u16).to_be_bytes());
        e.extend_from_slice(path.as_bytes());
        e.push(0);
        while e.len() % 8 != 0 {
            e.push(0);
        }
        e
    }

    fn index(version: u32, entries: &[Vec<u8>]) -> Vec<u8> {
        let mut b = b"DIRC".to_vec();
        b.extend_from_slice(&version.to_be_bytes());
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for e in entries {
            b.extend_from_slice(e);
        }
        b.extend(std::iter::repeat_n(0u8, 20)); // the trailing checksum
        b
    }

    #[test]
    fn version_2_entries_with_padding() {
        let b = index(
            2,
            &[
                entry_v2("a.yaml", 0o100644, 20),
                entry_v2("dir/secret.yaml", 0o100644, 20),
                entry_v2("link.yaml", 0o120000, 20),
                entry_v2("sub", 0o160000, 20),
            ],
        );
        let t = parse(&b, 20).expect("parses");
        let mut files: Vec<&str> = t.files.iter().map(String::as_str).collect();
        files.sort();
        assert_eq!(files, ["a.yaml", "dir/secret.yaml", "link.yaml"]);
    }

    #[test]
    fn sha256_object_names() {
        let b = index(2, &[entry_v2("x/y.yml", 0o100755, 32)]);
        assert!(parse(&b, 32).expect("parses").contains("x/y.yml"));
        // Read with the wrong hash length, the padding no longer lines up: no list at all.
        assert!(parse(&b, 20).is_none_or(|t| !t.contains("x/y.yml")));
    }

    #[test]
    fn version_4_prefix_compression() {
        let entry = |strip: u8, suffix: &str| {
            let mut e = vec![0u8; 24];
            e.extend_from_slice(&0o100644u32.to_be_bytes());
            e.extend_from_slice(&[0u8; 12]);
            e.extend(std::iter::repeat_n(0u8, 20));
            e.extend_from_slice(&0u16.to_be_bytes());
            e.push(strip);
            e.extend_from_slice(suffix.as_bytes());
            e.push(0);
            e
        };
        let b = index(
            4,
            &[
                entry(0, "apps/db/cluster.yaml"),
                entry(12, "secret.yaml"),
                entry(14, "x.yaml"),
            ],
        );
        let t = parse(&b, 20).expect("parses");
        assert!(t.contains("apps/db/cluster.yaml"));
        assert!(t.contains("apps/db/secret.yaml"));
        assert!(t.contains("apps/x.yaml"));
    }

    #[test]
    fn sparse_directories_cover_their_files() {
        let b = index(
            3,
            &[
                entry_v2("a.yaml", 0o100644, 20),
                entry_v2("big/", 0o040000, 20),
            ],
        );
        let t = parse(&b, 20).expect("parses");
        assert!(t.contains("big/deep/file.yaml"));
        assert!(!t.contains("bigger.yaml"));
    }

    #[test]
    fn damaged_indexes_give_no_list() {
        let good = index(2, &[entry_v2("a.yaml", 0o100644, 20)]);
        for cut in 0..good.len() - 20 {
            assert!(parse(&good[..cut], 20).is_none(), "cut at {cut}");
        }
        let mut lying = good.clone();
        lying[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse(&lying, 20).is_none());
        let mut v9 = good;
        v9[4..8].copy_from_slice(&9u32.to_be_bytes());
        assert!(parse(&v9, 20).is_none());
    }
}
