//! Reading files that strangers wrote, and writing reports beside them. The linter runs on pull requests, so every path it reads
//! comes from the repository and is treated as hostile:
//! - it must resolve inside the repository root, after following symlinks (a generator's
//!   `files: [/proc/self/environ]` or a committed link to `/etc/passwd` must not be read);
//! - only regular files are read (a FIFO would block the run, `/dev/zero` never ends);
//! - reading stops one byte past the size cap, whatever the file's metadata claims (files in
//!   `/proc` report a size of 0).
//!
//! Flux confines its builds the same way: kustomize-controller builds on a file system that
//! refuses paths outside the source root (`SecureBuild` in fluxcd/pkg
//! `kustomize/kustomize_generator.go`).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// The path, or a symlink on the way, leads outside the repository root.
    Outside,
    /// Something other than a regular file: a directory, FIFO, socket or device.
    NotRegular,
    /// Larger than the cap (in bytes).
    TooLarge(u64),
    Io(std::io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The target is never named: it is a path on the machine running the linter.
            ReadError::Outside => f.write_str("it resolves to a path outside the repository"),
            ReadError::NotRegular => f.write_str("it is not a regular file"),
            ReadError::TooLarge(cap) => write!(f, "it is larger than {cap} bytes"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// The repository root, resolved once, that every read is confined to.
#[derive(Debug, Clone, Default)]
pub struct Confined {
    root: PathBuf,
}

impl Confined {
    pub fn new(root: &Path) -> Confined {
        Confined {
            root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// The real path of a repository-relative path, when it exists and stays inside the root
    /// with every symlink followed. `repo_path` must already be normalised (no `..` leaving
    /// the root), as `paths::join` makes it.
    pub fn resolve(&self, repo_path: &str) -> Result<PathBuf, ReadError> {
        if Path::new(repo_path).is_absolute() || repo_path.split('/').any(|p| p == "..") {
            return Err(ReadError::Outside);
        }
        let real = self
            .root
            .join(repo_path)
            .canonicalize()
            .map_err(ReadError::Io)?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(ReadError::Outside)
        }
    }

    /// Whether a repository-relative path exists inside the repository (a symlink leading out
    /// does not count: Flux could not read it either).
    pub fn exists(&self, repo_path: &str) -> bool {
        self.resolve(repo_path).is_ok()
    }

    /// Reads a repository-relative regular file of at most `cap` bytes.
    pub fn read(&self, repo_path: &str, cap: u64) -> Result<Vec<u8>, ReadError> {
        let real = self.resolve(repo_path)?;
        read_regular(&real, cap)
    }
}

/// Reads a regular file of at most `cap` bytes. The file is opened without blocking and
/// without following a final symlink, and checked to be regular on the open handle, so a path
/// swapped for a FIFO or a link between checks is still refused.
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = open(path)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    // A real size over the cap is refused before reading; a size the metadata hides (files
    // in `/proc` say 0) is caught by reading no more than the cap and one byte.
    if meta.len() > cap {
        return Err(ReadError::TooLarge(cap));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len().min(cap)).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge(cap));
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` by writing a new file beside it and renaming it over `path`. A
/// symlink at `path` (a pull request can commit `cnpg-lint.sarif -> ../../some/file`) is
/// replaced, never followed, and a reader never sees half a report.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        // `create_new` fails on anything already there, a symlink included.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(unix)]
fn open(path: &Path) -> Result<std::fs::File, ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            // O_NOFOLLOW on a symlink.
            Some(libc::ELOOP) => ReadError::NotRegular,
            _ => ReadError::Io(e),
        })
}

#[cfg(not(unix))]
fn open(path: &Path) -> Result<std::fs::File, ReadError> {
    let meta = std::fs::symlink_metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    std::fs::File::open(path).map_err(ReadError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cnpg-lint-fsio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("repo/app")).expect("mkdir");
        std::fs::write(dir.join("outside.txt"), "secret").expect("write");
        std::fs::write(dir.join("repo/app/in.txt"), "hello").expect("write");
        dir
    }

    #[test]
    fn reads_inside_and_refuses_outside() {
        let dir = scratch("confine");
        let c = Confined::new(&dir.join("repo"));
        assert_eq!(c.read("app/in.txt", 100).expect("read"), b"hello");
        for bad in ["../outside.txt", "/etc/hostname", "app/../../outside.txt"] {
            assert!(matches!(c.read(bad, 100), Err(ReadError::Outside)), "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("outside.txt"), dir.join("repo/app/link.txt"))
                .expect("symlink");
            assert!(matches!(
                c.read("app/link.txt", 100),
                Err(ReadError::Outside)
            ));
            assert!(!c.exists("app/link.txt"));
            std::os::unix::fs::symlink("in.txt", dir.join("repo/app/inner.txt")).expect("link");
            assert_eq!(c.read("app/inner.txt", 100).expect("read"), b"hello");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_cap_holds_whatever_the_metadata_says() {
        let dir = scratch("cap");
        let c = Confined::new(&dir.join("repo"));
        assert!(matches!(
            c.read("app/in.txt", 4),
            Err(ReadError::TooLarge(4))
        ));
        assert!(c.read("app/in.txt", 5).is_ok());
        #[cfg(target_os = "linux")]
        {
            // `/proc` files report a size of 0 and are regular files.
            let r = read_regular(Path::new("/proc/self/status"), 16);
            assert!(matches!(r, Err(ReadError::TooLarge(16))), "{r:?}");
            assert!(matches!(
                read_regular(Path::new("/dev/zero"), 16),
                Err(ReadError::NotRegular)
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn writing_replaces_a_symlink_instead_of_following_it() {
        let dir = scratch("write");
        let victim = dir.join("outside.txt");
        let link = dir.join("repo/report.sarif");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        write_replacing(&link, b"{}").expect("write");
        assert_eq!(std::fs::read(&victim).expect("read"), b"secret");
        assert!(!std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&link).expect("read"), b"{}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.join("repo"))
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = scratch("fifo");
        let fifo = dir.join("repo/app/pipe.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if made {
            assert!(matches!(
                read_regular(&fifo, 100),
                Err(ReadError::NotRegular)
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
