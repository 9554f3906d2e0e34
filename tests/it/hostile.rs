//! Hostile inputs, end to end through the binary. Each must end in findings or a located error
//! with exit status 2: never a panic, never a hang, never a lost result for the other files.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The binary under test. `CNPG_LINT_TEST_BIN` points these tests at another build, to show
/// that they fail on a build without the defences they check.
fn bin() -> String {
    std::env::var("CNPG_LINT_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_cnpg-lint").to_string())
}

/// A run that takes longer than this is a hang.
const LIMIT: Duration = Duration::from_secs(60);

fn run(dir: &Path, args: &[&str]) -> Output {
    let child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cnpg-lint");
    let pid = child.id();
    // Output is read while waiting, so a large report cannot fill the pipe and stall the run.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("cnpg-lint {args:?} in {} hangs", dir.display());
        }
    }
}

/// Ran to the end: an exit status of 0, 1 or 2, and no panic or internal error.
fn survived(o: &Output) -> (i32, String, String) {
    let code = o.status.code().expect("exited, not killed by a signal");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!((0..=2).contains(&code), "exit {code}\n{out}\n{err}");
    assert!(!err.contains("panicked"), "panic:\n{err}");
    assert!(!err.contains("internal error"), "internal error:\n{err}");
    (code, out, err)
}

fn repo(name: &str, files: &[(&str, &[u8])]) -> std::path::PathBuf {
    let dir = common::scratch(name);
    let files: Vec<(String, &[u8])> = files.iter().map(|(p, c)| (p.to_string(), *c)).collect();
    common::write_files(&dir, &files);
    dir
}

/// A clean object beside the hostile file, which must still be linted.
const WITNESS: &[u8] = b"apiVersion: postgresql.cnpg.io/v1
kind: ScheduledBackup
metadata:
  name: nightly
spec:
  schedule: \"0 3 * * *\"
  cluster:
    name: pg
";

fn concise(dir: &Path) -> (i32, String, String) {
    survived(&run(dir, &["check", "--format", "concise", "."]))
}

fn witness_reported(out: &str) {
    assert!(
        out.contains("witness.yaml:6:13: CNPG106"),
        "the other file's finding was lost:\n{out}"
    );
}

#[test]
fn alias_bomb() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = (b'a' + i - 1) as char;
        let this = (b'a' + i) as char;
        bomb.push_str(&format!(
            "{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let dir = repo(
        "hostile-alias-bomb",
        &[
            (
                "bomb.yaml",
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  {}",
                    bomb.replace('\n', "\n  ")
                )
                .as_bytes(),
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    let (code, out, err) = concise(&dir);
    // A crossed budget leaves the run incomplete: a located error, exit status 2.
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("bomb.yaml:11:") && out.contains("CNPG007"),
        "{out}"
    );
    assert!(err.contains("bomb.yaml"), "{err}");
    witness_reported(&out);
}

#[test]
fn ten_thousand_levels_of_nesting() {
    let deep_flow = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep_block = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}{}\n",
        "{k: ".repeat(10_000),
        "}".repeat(10_000)
    );
    let dir = repo(
        "hostile-nesting",
        &[
            (
                "flow.yaml",
                format!("apiVersion: v1\nkind: ConfigMap\n{deep_flow}").as_bytes(),
            ),
            ("mapping.yaml", deep_block.as_bytes()),
            ("witness.yaml", WITNESS),
        ],
    );
    let (_, out, _) = concise(&dir);
    assert!(
        out.contains("flow.yaml:") && out.contains("mapping.yaml:"),
        "{out}"
    );
    witness_reported(&out);
}

#[test]
fn a_file_over_the_size_cap() {
    let dir = repo("hostile-huge", &[("witness.yaml", WITNESS)]);
    let huge = std::fs::File::create(dir.join("huge.yaml")).expect("create");
    // Sparse: 100 MB on disk costs nothing, and the cap must stop the read before it starts.
    huge.set_len(100 * 1024 * 1024).expect("extend");
    let (code, out, err) = concise(&dir);
    assert_eq!(code, 2);
    assert!(
        out.contains("huge.yaml:1:1: CNPG005") && out.contains("limit"),
        "{out}"
    );
    assert!(err.contains("huge.yaml"), "{err}");
    let (_, _, err) = survived(&run(&dir, &["check", "."]));
    assert!(
        err.contains("the run is incomplete: 1 file not read"),
        "{err}"
    );
    witness_reported(&out);
    // The cap is configurable.
    let (code, out, _) = survived(&run(
        &dir,
        &[
            "check",
            "--format",
            "concise",
            "--max-file-size",
            "1000",
            ".",
        ],
    ));
    assert_eq!(code, 2);
    assert!(
        out.contains("huge.yaml:1:1: CNPG005") && out.contains("1000-byte"),
        "{out}"
    );
}

#[test]
fn binary_files_and_a_nul_in_yaml() {
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let dir = repo(
        "hostile-binary",
        &[
            ("blob.yaml", &binary),
            ("image.png", &binary),
            (
                "nul.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\0y\ndata: {}\n",
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    let (_, out, _) = concise(&dir);
    assert!(out.contains("blob.yaml:1:"), "{out}");
    assert!(out.contains("nul.yaml:4:"), "{out}");
    assert!(!out.contains("image.png"), "{out}");
    witness_reported(&out);
}

#[test]
fn invalid_utf8_in_content_and_in_file_names() {
    let dir = repo(
        "hostile-utf8",
        &[
            (
                "latin1.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name.yaml");
        std::fs::write(dir.join(name), WITNESS).expect("write odd name");
    }
    let (_, out, _) = concise(&dir);
    assert!(out.contains("latin1.yaml:4:"), "{out}");
    witness_reported(&out);
    #[cfg(unix)]
    assert!(
        out.contains("bad-\u{fffd}-name.yaml:6:13: CNPG106"),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops() {
    let dir = repo("hostile-symlinks", &[("witness.yaml", WITNESS)]);
    std::os::unix::fs::symlink(".", dir.join("self")).expect("dir loop");
    std::os::unix::fs::symlink("b.yaml", dir.join("a.yaml")).expect("file loop");
    std::os::unix::fs::symlink("a.yaml", dir.join("b.yaml")).expect("file loop");
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 2);
    assert!(out.contains("a.yaml:1:1: CNPG005"), "{out}");
    witness_reported(&out);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = repo(
        "hostile-unreadable",
        &[("secret.yaml", WITNESS), ("witness.yaml", WITNESS)],
    );
    let path = dir.join("secret.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if std::fs::read(&path).is_ok() {
        // Root reads anything: the permission cannot be denied here.
        eprintln!("skipped: running as a user who can read mode-000 files (root)");
        return;
    }
    let (code, out, err) = concise(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("secret.yaml"), "{err}");
    witness_reported(&out);
}

#[test]
fn an_empty_repository_and_a_directory_named_like_yaml() {
    let empty = repo("hostile-empty", &[]);
    let (code, _, _) = concise(&empty);
    assert_eq!(code, 0);
    let dir = repo("hostile-dir-yaml", &[("foo.yaml/witness.yaml", WITNESS)]);
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("foo.yaml/witness.yaml:6:13: CNPG106"), "{out}");
}

#[test]
fn duplicate_keys_and_a_thousand_documents() {
    let mut many = String::new();
    for i in 0..1000 {
        many.push_str(&format!(
            "---\napiVersion: postgresql.cnpg.io/v1\nkind: ScheduledBackup\nmetadata:\n  name: b{i}\nspec:\n  schedule: \"0 3 * * *\"\n  cluster:\n    name: pg\n"
        ));
    }
    let dir = repo(
        "hostile-many",
        &[
            ("many.yaml", many.as_bytes()),
            (
                "dup.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",
            ),
        ],
    );
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("dup.yaml:5:3: CNPG001"), "{out}");
    let cron: Vec<&str> = out.lines().filter(|l| l.contains("CNPG106")).collect();
    assert_eq!(cron.len(), 1000, "{out}");
    // Each document is 9 lines; the last schedule is on line 999 * 9 + 7.
    assert!(out.contains("many.yaml:8998:13: CNPG106"), "{out}");
}

#[test]
fn a_kustomization_cycle_and_a_path_outside_the_repository() {
    let dir = repo(
        "hostile-cycle",
        &[
            ("a/kustomization.yaml", b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../b\n  - ../witness.yaml\n"),
            ("b/kustomization.yaml", b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../a\n"),
            ("flux/ks.yaml", b"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cycle\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./a\n  prune: false\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: outside\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ../../../etc\n  prune: false\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"),
            ("witness.yaml", WITNESS),
        ],
    );
    let (_, out, _) = concise(&dir);
    witness_reported(&out);
    let (code, _, _) = survived(&run(&dir, &["render", "cycle"]));
    assert!(code <= 2);
    let (code, _, _) = survived(&run(&dir, &["render", "outside"]));
    assert!(code <= 2);
}

/// `git` for the tests that need a real work tree; they are skipped (and say so) without it.
fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const PLAIN_SECRET: &[u8] = b"apiVersion: v1
kind: Secret
metadata:
  name: leaked
stringData:
  password: hunter2
";

#[test]
fn a_committed_file_is_linted_whatever_gitignore_says() {
    let dir = repo(
        "hostile-gitignore",
        &[
            (".gitignore", b"secrets/\n*.local.yaml\n"),
            (".ignore", b"app/\n"),
            ("secrets/committed.yaml", PLAIN_SECRET),
            ("secrets/untracked.yaml", PLAIN_SECRET),
            ("app/db.local.yaml", PLAIN_SECRET),
            ("app/witness.yaml", WITNESS),
        ],
    );
    if !git(&dir, &["init", "-q", "."]) {
        eprintln!("skipped: no git on this machine");
        return;
    }
    assert!(git(&dir, &["add", "app/witness.yaml", ".gitignore"]));
    assert!(git(
        &dir,
        &["add", "-f", "secrets/committed.yaml", "app/db.local.yaml"]
    ));
    assert!(git(&dir, &["commit", "-qm", "x"]));
    for args in [
        vec!["check", "--format", "concise"],
        // How the pre-commit hook calls it: the changed files by name.
        vec![
            "check",
            "--format",
            "concise",
            "secrets/committed.yaml",
            "app/db.local.yaml",
            "app/witness.yaml",
        ],
    ] {
        let (code, out, err) = survived(&run(&dir, &args));
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("secrets/committed.yaml:6:3: CNPG501"), "{out}");
        assert!(out.contains("app/db.local.yaml:6:3: CNPG501"), "{out}");
        // `.ignore` is ripgrep's, not Flux's: it hides nothing.
        witness_reported(&out);
        // An ignored file git does not track is in no checkout, so in no Flux artifact.
        assert!(!out.contains("untracked.yaml"), "{out}");
    }
}

#[test]
fn without_git_gitignore_hides_nothing_and_flux_default_exclusions_apply() {
    let dir = repo(
        "hostile-no-git",
        &[
            (".gitignore", b"secrets/\n"),
            ("secrets/s.yaml", PLAIN_SECRET),
            (".archive/old.yaml", PLAIN_SECRET),
            // source-controller leaves these out of every artifact.
            (".github/workflows/s.yaml", PLAIN_SECRET),
            ("apps/.sops.yaml", PLAIN_SECRET),
            (".sourceignore", b"ignored-by-flux/\n"),
            ("ignored-by-flux/s.yaml", PLAIN_SECRET),
            ("witness.yaml", WITNESS),
        ],
    );
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("secrets/s.yaml:6:3: CNPG501"), "{out}");
    assert!(out.contains(".archive/old.yaml:6:3: CNPG501"), "{out}");
    for hidden in [".github/", ".sops.yaml", "ignored-by-flux/"] {
        assert!(!out.contains(hidden), "{hidden}: {out}");
    }
    witness_reported(&out);
}

// --- Untrusted pull requests: nothing outside the repository is read or printed ---------------

/// A secret in the linter's environment and a file outside the repository: neither may appear
/// in anything the linter prints.
const ENV_CANARY: &str = "CANARY-ENV-5d1f9a";
const FILE_CANARY: &str = "CANARY-FILE-82c4e7";

/// Runs the binary with the canary in its environment; (exit code, stdout + stderr).
fn run_with_canary(dir: &Path, args: &[&str]) -> (i32, String) {
    let child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CNPG_LINT_TEST_SECRET", ENV_CANARY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cnpg-lint");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(LIMIT) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("cnpg-lint {args:?} hangs");
        }
    };
    let (code, stdout, stderr) = survived(&out);
    (code, format!("{stdout}{stderr}"))
}

fn assert_no_canary(what: &str, text: &str) {
    for canary in [ENV_CANARY, FILE_CANARY, "root:x:0:0"] {
        assert!(!text.contains(canary), "{what} printed {canary}:\n{text}");
    }
}

const CANARY_KS: &[u8] = b"apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: vars
      - kind: ConfigMap
        name: more
";

const CANARY_KUSTOMIZATION: &[u8] = b"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
resources:
  - cluster.yaml
  - ../witness.yaml
  - ../../outside/canary.yaml
configMapGenerator:
  - name: vars
    options:
      disableNameSuffixHash: true
    files:
      - IMG=/proc/self/environ
      - PW=/etc/passwd
  - name: more
    options:
      disableNameSuffixHash: true
    files:
      - OUT=../../outside/canary.txt
  - name: host
    envs:
      - /etc/hostname
  - name: linked
    files:
      - linked.txt
";

const CANARY_CLUSTER: &[u8] = b"apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
spec:
  instances: 3
  imageName: ${IMG}
  storage:
    size: 10Gi
  description: ${OUT}
";

/// The repository of the canary test: every escape the issue lists, inside `base/repo`, with
/// the canary file in `base/outside`.
#[cfg(unix)]
fn canary_repo(name: &str) -> std::path::PathBuf {
    let base = common::scratch(name);
    std::fs::create_dir_all(base.join("outside")).expect("mkdir");
    std::fs::write(base.join("outside/canary.txt"), FILE_CANARY).expect("write");
    std::fs::write(
        base.join("outside/canary.yaml"),
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {FILE_CANARY}\nstringData:\n  password: {FILE_CANARY}\n"),
    )
    .expect("write");
    std::fs::write(base.join("outside/victim.txt"), "untouched").expect("write");
    let dir = base.join("repo");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let files: Vec<(String, &[u8])> = vec![
        ("flux/ks.yaml".into(), CANARY_KS),
        ("apps/kustomization.yaml".into(), CANARY_KUSTOMIZATION),
        ("apps/cluster.yaml".into(), CANARY_CLUSTER),
        ("witness.yaml".into(), WITNESS),
    ];
    common::write_files(&dir, &files);
    let link = |target: &str, at: &str| {
        std::os::unix::fs::symlink(target, dir.join(at)).expect("symlink");
    };
    link("/proc/self/environ", "apps/env.yaml");
    link("../../outside/canary.yaml", "apps/secret.yaml");
    link("../../outside/canary.txt", "apps/linked.txt");
    link("/proc/self/environ", "environ.tf");
    // A pull request can commit the report's path as a link to a file of the runner's.
    link("../outside/victim.txt", "cnpg-lint.sarif");
    dir
}

#[cfg(unix)]
#[test]
fn nothing_outside_the_repository_is_read_or_printed() {
    let dir = canary_repo("hostile-canary");
    for format in ["human", "concise", "json", "sarif", "github"] {
        let (code, out) = run_with_canary(&dir, &["check", "--format", format, "."]);
        assert_eq!(code, 1, "{format}:\n{out}");
        assert_no_canary(format, &out);
    }
    let (_, out) = run_with_canary(&dir, &["check", "--format", "concise", "."]);
    // The escapes are findings: the generator files fail the Flux build, and the links are
    // skipped, each at its place.
    for expected in [
        "apps/kustomization.yaml:7:5: CNPG408",
        "apps/kustomization.yaml:13:9: CNPG408",
        "apps/kustomization.yaml:19:9: CNPG408",
        "apps/kustomization.yaml:22:9: CNPG408",
        "apps/kustomization.yaml:25:9: CNPG408",
        "apps/env.yaml:1:1: CNPG005 [info]",
        "apps/secret.yaml:1:1: CNPG005 [info]",
        "environ.tf:1:1: CNPG005 [info]",
    ] {
        assert!(out.contains(expected), "{expected}:\n{out}");
    }
    witness_reported(&out);
    for target in ["apps", "flux-system/apps", "./apps"] {
        let (_, out) = run_with_canary(&dir, &["render", target]);
        assert_no_canary(target, &out);
        let (_, out) = run_with_canary(&dir, &["render", "--show-origins", target]);
        assert_no_canary(target, &out);
    }
    // --output and --write-baseline replace a symlink at their path; they never write through it.
    let (_, out) = run_with_canary(
        &dir,
        &[
            "check",
            "--format",
            "sarif",
            "--output",
            "cnpg-lint.sarif",
            ".",
        ],
    );
    assert_no_canary("--output", &out);
    let victim = dir.join("../outside/victim.txt");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "untouched"
    );
    let written = std::fs::read_to_string(dir.join("cnpg-lint.sarif")).expect("report");
    assert!(written.contains("\"version\": \"2.1.0\""));
    assert_no_canary("the SARIF file", &written);
    std::os::unix::fs::symlink("../outside/victim.txt", dir.join("baseline.json")).expect("link");
    run_with_canary(&dir, &["check", "--write-baseline", "baseline.json", "."]);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "untouched"
    );
    let (code, out) = run_with_canary(
        &dir,
        &[
            "check",
            "--baseline",
            "b.json",
            "--write-baseline",
            "./b.json",
            ".",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("same file"), "{out}");
}

#[cfg(unix)]
#[test]
fn special_files_are_never_read() {
    let dir = repo(
        "hostile-special",
        &[
            (
                "flux/ks.yaml",
                b"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: false\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
            ),
            (
                "apps/kustomization.yaml",
                b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n  - name: zero\n    files:\n      - /dev/zero\n  - name: random\n    files:\n      - /dev/urandom\n  - name: fifo\n    files:\n      - pipe.txt\n  - name: pagemap\n    files:\n      - pagemap.txt\n",
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    let fifo = |at: &str| {
        Command::new("mkfifo")
            .arg(dir.join(at))
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(fifo("apps/pipe.txt") && fifo("apps/pipe.yaml"), "mkfifo");
    std::os::unix::fs::symlink("/proc/self/pagemap", dir.join("apps/pagemap.txt")).expect("link");
    std::os::unix::fs::symlink("/dev/zero", dir.join("apps/zero.yaml")).expect("link");
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1, "{out}");
    for line in [6, 9, 12, 15] {
        let at = format!("apps/kustomization.yaml:{line}:9: CNPG408");
        assert!(out.contains(&at), "{at}:\n{out}");
    }
    assert!(out.contains("apps/zero.yaml:1:1: CNPG005 [info]"), "{out}");
    witness_reported(&out);
}

/// Names that try to start a workflow command, return the carriage, or colour the terminal.
const INJECTION: &[u8] = b"apiVersion: v1
kind: Secret
metadata:
  name: \"x\\n::error file=pwned.yaml::pwned\\r\\e[31m\\u202e\"
stringData:
  password: hunter2
";

#[test]
fn output_from_repository_text_is_inert_in_every_format() {
    let dir = repo(
        "hostile-injection",
        &[
            ("s.yaml", INJECTION),
            ("bad\x1b[2Jname.yaml", INJECTION),
            ("witness.yaml", WITNESS),
        ],
    );
    for format in ["human", "concise", "github", "json", "sarif"] {
        let (code, out, err) = survived(&run(&dir, &["check", "--format", format, "."]));
        assert_eq!(code, 1, "{format}: {err}");
        for text in [&out, &err] {
            assert!(
                !text
                    .lines()
                    .any(|l| l.trim_start().starts_with("::error file=pwned")),
                "{format}: a line starts a workflow command:\n{text}"
            );
            assert!(!text.contains('\r'), "{format}: raw CR:\n{text:?}");
            assert!(!text.contains('\u{1b}'), "{format}: raw ESC:\n{text:?}");
            assert!(
                !text.contains('\u{202e}'),
                "{format}: raw override:\n{text:?}"
            );
        }
        assert!(
            out.contains("pwned"),
            "{format}: the name is still shown:\n{out}"
        );
    }
    let (_, out, err) = survived(&run(&dir, &["render", "."]));
    assert!(
        !out.contains('\u{1b}') && !err.contains('\u{1b}'),
        "{out:?}"
    );
}

#[test]
fn lone_carriage_returns_end_lines() {
    let text = b"apiVersion: postgresql.cnpg.io/v1\rkind: ScheduledBackup\rmetadata:\r  name: daily\rspec:\r  schedule: \"0 2 * * *\"\r  cluster:\r    name: pg\r";
    let dir = repo("hostile-cr", &[("cr.yaml", text)]);
    let (_, out, _) = concise(&dir);
    assert!(out.contains("cr.yaml:6:13: CNPG106"), "{out}");
}

// --- Small inputs must not exhaust the runner --------------------------------------------------

/// Peak resident memory a run may reach on one of these inputs (the issue's target: 1 GB).
const MAX_RSS_KB: i64 = 1024 * 1024;

/// Runs the binary and measures its peak resident memory (Linux: from `wait4`, which reaps the
/// child itself, so `Child::wait` is not called).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)]
fn run_measured(dir: &Path, args: &[&str]) -> (i32, String, i64, Duration) {
    use std::io::Read;
    let start = std::time::Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cnpg-lint");
    let pid = child.id() as libc::pid_t;
    let mut pipes = (child.stdout.take(), child.stderr.take());
    let readers: Vec<_> = [
        pipes.0.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        pipes.1.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut p| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = p.read_to_end(&mut s);
            s
        })
    })
    .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is this test's own child, reaped exactly once, here.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let _ = tx.send((r, status, usage.ru_maxrss));
    });
    let (r, status, rss) = match rx.recv_timeout(LIMIT) {
        Ok(v) => v,
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!(
                "cnpg-lint {args:?} in {} runs past {LIMIT:?}",
                dir.display()
            );
        }
    };
    let elapsed = start.elapsed();
    assert_eq!(r, pid, "wait4");
    let out: Vec<u8> = readers
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect();
    let out = String::from_utf8_lossy(&out).into_owned();
    assert!(libc::WIFEXITED(status), "killed by a signal:\n{out}");
    let code = libc::WEXITSTATUS(status);
    assert!((0..=2).contains(&code), "exit {code}\n{out}");
    assert!(
        !out.contains("panicked") && !out.contains("internal error"),
        "{out}"
    );
    (code, out, rss, elapsed)
}

/// The run ends, within the memory bound, with the budget it crossed named at a place.
#[cfg(target_os = "linux")]
fn bounded(name: &str, dir: &Path, expect: &[&str]) -> String {
    let (code, out, rss, elapsed) = run_measured(dir, &["check", "--format", "concise", "."]);
    eprintln!("{name}: exit {code}, {rss} KB peak, {elapsed:?}");
    assert!(rss < MAX_RSS_KB, "{name}: {rss} KB peak");
    for e in expect {
        assert!(
            out.contains(e),
            "{name}: expected {e}:\n{}",
            &out[..out.len().min(4000)]
        );
    }
    out
}

fn flux_ks(name: &str, path: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: false\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
    )
}

#[cfg(target_os = "linux")]
#[test]
fn a_kustomization_that_recreates_itself_stops_at_the_wave_budget() {
    // Each child `k-${P}` sets P to "${P}x" for its own build: a new name every wave.
    let child = flux_ks(
        "k-${P}",
        "./loop",
        "  postBuild:\n    substitute:\n      P: \"${P}x\"\n",
    );
    let root = flux_ks(
        "boot",
        "./loop",
        "  postBuild:\n    substitute:\n      P: a\n",
    );
    let dir = repo(
        "hostile-recreate",
        &[
            ("flux/boot.yaml", root.as_bytes()),
            ("loop/ks.yaml", child.as_bytes()),
        ],
    );
    bounded("recreate", &dir, &["CNPG007", "budget: render waves"]);
}

#[cfg(target_os = "linux")]
#[test]
fn a_two_thousand_directory_chain_stops_at_the_depth_budget() {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..2000 {
        files.push((
            format!("d{i}/kustomization.yaml"),
            format!("resources:\n  - ../d{}\n", i + 1).into_bytes(),
        ));
    }
    files.push((
        "d2000/kustomization.yaml".into(),
        b"resources:\n  - cm.yaml\n".to_vec(),
    ));
    files.push((
        "d2000/cm.yaml".into(),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: end\n".to_vec(),
    ));
    for r in 0..4 {
        files.push((
            format!("clusters/c{r}/ks.yaml"),
            flux_ks(&format!("chain-{r}"), "./d0", "").into_bytes(),
        ));
    }
    let dir = common::scratch("hostile-chain");
    common::write_files(&dir, &files);
    bounded("chain", &dir, &["CNPG007", "budget: kustomize chain depth"]);
}

#[cfg(target_os = "linux")]
#[test]
fn large_strategic_merge_patches_are_not_quadratic() {
    let mut cm = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    let mut patch =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    for i in 0..40_000 {
        cm.push_str(&format!("  k{i}: v\n"));
        patch.push_str(&format!("  k{i}: w\n"));
    }
    let mut many = String::from("resources:\n  - small.yaml\npatches:\n");
    for i in 0..2000 {
        many.push_str(&format!(
            "  - patch: |\n      apiVersion: v1\n      kind: ConfigMap\n      metadata:\n        name: small\n      data:\n        p{i}: x\n"
        ));
    }
    let dir = repo(
        "hostile-patches",
        &[
            (
                "big/kustomization.yaml",
                b"resources:\n  - cm.yaml\npatches:\n  - path: patch.yaml\n",
            ),
            ("big/cm.yaml", cm.as_bytes()),
            ("big/patch.yaml", patch.as_bytes()),
            ("many/kustomization.yaml", many.as_bytes()),
            (
                "many/small.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\ndata:\n  a: b\n",
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    let (code, out, rss, elapsed) = run_measured(&dir, &["check", "--format", "concise", "."]);
    eprintln!("patches: exit {code}, {rss} KB, {elapsed:?}");
    witness_reported(&out);
    assert!(rss < MAX_RSS_KB);
}

#[cfg(target_os = "linux")]
#[test]
fn aliases_across_many_files_stop_at_the_run_budget() {
    // Each file expands to just under the per-file budget; together they are 500 times it.
    let mut one = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (this, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")] {
        one.push_str(&format!(
            "  {this}: &{this} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    one.push_str("  f: [*e]\n");
    let files: Vec<(String, &[u8])> = (0..500)
        .map(|i| (format!("f{i}.yaml"), one.as_bytes()))
        .collect();
    let dir = common::scratch("hostile-alias-files");
    common::write_files(&dir, &files);
    bounded("alias files", &dir, &["CNPG007", "all files together"]);
}

#[cfg(target_os = "linux")]
#[test]
fn a_large_variable_used_many_times_stops_at_the_substitution_budget() {
    let big = "x".repeat(100 * 1024);
    let root = flux_ks(
        "apps",
        "./apps",
        &format!("  postBuild:\n    substitute:\n      BIG: {big}\n"),
    );
    let mut cm = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: many\ndata:\n");
    for i in 0..50_000 {
        cm.push_str(&format!("  k{i}: ${{BIG}}\n"));
    }
    let dir = repo(
        "hostile-substitution",
        &[
            ("flux/ks.yaml", root.as_bytes()),
            ("apps/cm.yaml", cm.as_bytes()),
        ],
    );
    bounded(
        "substitution",
        &dir,
        &["CNPG007", "budget: substituted bytes"],
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_deep_aliased_tree_costs_nodes_not_nodes_times_depth() {
    // A chain of aliases 300 levels deep, each level a fresh mapping: findings on it and its
    // render must not walk or indent it once per level.
    let mut doc = String::from("apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: deep\nspec:\n  instances: 1\n  storage:\n    size: 1Gi\n  imageName: postgres\n  x0: &x0 {v: 1}\n");
    for i in 1..300 {
        doc.push_str(&format!("  x{i}: &x{i} {{n: *x{}, m: 1}}\n", i - 1));
    }
    let dir = repo("hostile-deep", &[("deep.yaml", doc.as_bytes())]);
    bounded("deep", &dir, &["CNPG205"]);
    let (code, _, rss, elapsed) = run_measured(&dir, &["render", "."]);
    eprintln!("deep render: exit {code}, {rss} KB, {elapsed:?}");
    assert!(rss < MAX_RSS_KB);
}

#[cfg(target_os = "linux")]
#[test]
fn cel_rules_do_not_run_on_a_list_past_max_items() {
    let mut catalog = String::from("apiVersion: postgresql.cnpg.io/v1\nkind: ImageCatalog\nmetadata:\n  name: many\nspec:\n  images:\n");
    for i in 0..4000 {
        catalog.push_str(&format!(
            "    - major: {}\n      image: ghcr.io/cloudnative-pg/postgresql:{}.1\n",
            10 + i,
            10 + i
        ));
    }
    let dir = repo("hostile-cel", &[("catalog.yaml", catalog.as_bytes())]);
    let out = bounded("cel", &dir, &["CNPG002", "has 4000 items"]);
    assert!(
        out.len() < 20_000,
        "the message lists the whole list:\n{}",
        &out[..2000]
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_huge_jobs_count_is_capped() {
    let dir = repo("hostile-jobs", &[("witness.yaml", WITNESS)]);
    let (code, out, _, elapsed) = run_measured(
        &dir,
        &["check", "--format", "concise", "--jobs", "100000", "."],
    );
    eprintln!("jobs: {elapsed:?}");
    assert_eq!(code, 1);
    witness_reported(&out);
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}
