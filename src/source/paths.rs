//! Repository-relative path arithmetic (`/`-separated, no `..` escaping the root).

/// Joins `rel` onto `base` (both repository-relative) and normalises `.` and `..`.
/// `None` when the result would leave the repository, or `rel` is absolute.
pub fn join(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = base
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The directory part of a repository-relative file path (`""` for the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, n)| n)
}

/// True when `path` is `dir` itself or below it.
pub fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Is `dir/<name>` a kustomization file name?
pub fn is_kustomization_file(repo_path: &str) -> bool {
    KUSTOMIZATION_FILES.contains(&file_name(repo_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(join("a/b", "../c").as_deref(), Some("a/c"));
        assert_eq!(
            join("", "./kubernetes/apps/").as_deref(),
            Some("kubernetes/apps")
        );
        assert_eq!(join("a", "../../x"), None);
        assert_eq!(join("a", "/etc"), None);
        assert!(is_within("a/b/c.yaml", "a/b"));
        assert!(!is_within("a/bc.yaml", "a/b"));
        assert!(is_within("x", ""));
    }
}
