use super::json6902::*;
use super::json_typing::*;
use super::merge::*;
use super::*;
use crate::yaml::{load, Kind, Node, Style};

const TARGET: u32 = 0;
const PATCH: u32 = 1;

fn doc(file: u32, text: &str) -> Node {
    let loaded = load(file, text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.docs.into_iter().next().expect("a document").root
}

/// Compact flow rendering: quoted scalars in double quotes, keys in order.
fn show(n: &Node) -> String {
    match &n.kind {
        Kind::Scalar(s) if s.style == Style::Plain => s.text.to_string(),
        Kind::Scalar(s) => format!("{:?}", &*s.text),
        Kind::Seq(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Kind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|e| format!("{}: {}", show(&e.key), show(&e.value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn at<'a>(n: &'a Node, path: &[&str]) -> &'a Node {
    let mut cur = n;
    for p in path {
        cur = match &cur.kind {
            Kind::Map(_) => cur
                .get(p)
                .unwrap_or_else(|| panic!("no {p} in {}", show(cur))),
            Kind::Seq(items) => &items[p.parse::<usize>().expect("index")],
            Kind::Scalar(_) => panic!("{p}: scalar"),
        };
    }
    cur
}

/// The text a node's span covers in its file.
fn written<'a>(n: &Node, target: &'a str, patch: &'a str) -> (u32, &'a str) {
    let src = if n.span.file == PATCH { patch } else { target };
    (n.span.file, &src[n.span.range()])
}

fn smp(target: &str, patch: &str, builtin: bool) -> Result<Option<Node>, PatchError> {
    let mut t = doc(TARGET, target);
    let p = doc(PATCH, patch);
    let before = t.clone();
    match strategic_merge(&mut t, &p, builtin) {
        Ok(true) => Ok(Some(t)),
        Ok(false) => {
            assert_eq!(t, before, "a deleted target is left as it was");
            Ok(None)
        }
        Err(e) => {
            assert_eq!(t, before, "the target is unchanged on error");
            Err(e)
        }
    }
}

fn merged(target: &str, patch: &str, builtin: bool) -> Node {
    smp(target, patch, builtin)
        .expect("merges")
        .expect("not deleted")
}

fn jp(target: &str, ops: &str) -> Result<Node, PatchError> {
    let mut t = doc(TARGET, target);
    let before = t.clone();
    let r = json6902(&mut t, &doc(PATCH, ops));
    match r {
        Ok(()) => Ok(t),
        Err(e) => {
            assert_eq!(t, before, "the target is unchanged on error");
            Err(e)
        }
    }
}

const CLUSTER: &str = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
spec:
  instances: 3
  bootstrap:
    initdb:
      database: app
  externalClusters:
  - name: old
    connectionParameters:
      host: old.example
  plugins:
  - name: barman-cloud.cloudnative-pg.io
    isWALArchiver: true
  backup:
    barmanObjectStore:
      destinationPath: s3://bucket/pg
";

#[test]
fn cnpg_overlay_adds_recovery_and_replaces_external_clusters() {
    let patch = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
spec:
  bootstrap:
    initdb: null
    recovery:
      source: origin
  externalClusters:
  - name: origin
    barmanObjectStore:
      destinationPath: s3://backups/pg
";
    let out = merged(CLUSTER, patch, false);
    assert_eq!(
        show(at(&out, &["spec", "bootstrap"])),
        "{recovery: {source: origin}}"
    );
    // Lists of custom resources are replaced, not merged by name.
    assert_eq!(
        show(at(&out, &["spec", "externalClusters"])),
        "[{name: origin, barmanObjectStore: {destinationPath: s3://backups/pg}}]"
    );
    // Values set by the patch point into the patch; the rest into the target.
    let src = at(&out, &["spec", "bootstrap", "recovery", "source"]);
    assert_eq!(written(src, CLUSTER, patch), (PATCH, "origin"));
    let dp = at(
        &out,
        &[
            "spec",
            "externalClusters",
            "0",
            "barmanObjectStore",
            "destinationPath",
        ],
    );
    assert_eq!(written(dp, CLUSTER, patch), (PATCH, "s3://backups/pg"));
    let key = &out
        .at(&["spec", "bootstrap"])
        .and_then(|b| b.entry("recovery"))
        .expect("key")
        .key;
    assert_eq!(written(key, CLUSTER, patch), (PATCH, "recovery"));
    assert_eq!(
        written(at(&out, &["spec", "instances"]), CLUSTER, patch),
        (TARGET, "3")
    );
    // The merged mapping keeps its place and span in the target.
    assert_eq!(at(&out, &["spec"]).span.file, TARGET);
}

#[test]
fn cnpg_lists_keep_patch_directives_verbatim() {
    // kyaml has no schema for a CR: the list is the patch's, `$patch` item and all.
    let patch = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: pg}
spec:
  plugins:
  - name: barman-cloud.cloudnative-pg.io
    $patch: delete
";
    let out = merged(CLUSTER, patch, false);
    assert_eq!(
        show(at(&out, &["spec", "plugins"])),
        "[{name: barman-cloud.cloudnative-pg.io, $patch: delete}]"
    );
}

#[test]
fn map_directives_and_null_deletion() {
    let patch = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: pg}
spec:
  instances: ~
  backup:
    $patch: replace
    volumeSnapshot: {className: csi}
  bootstrap:
    $patch: delete
  monitoring:
    enablePodMonitor: true
    customQueriesConfigMap: null
    tls:
      $patch: delete
";
    let out = merged(CLUSTER, patch, false);
    let spec = at(&out, &["spec"]);
    assert!(spec.get("instances").is_none());
    assert!(spec.get("bootstrap").is_none());
    assert_eq!(
        show(at(spec, &["backup"])),
        "{volumeSnapshot: {className: csi}}"
    );
    // Added mappings have their nulls and nested directives applied too.
    assert_eq!(show(at(spec, &["monitoring"])), "{enablePodMonitor: true}");
    assert_eq!(at(spec, &["backup"]).span.file, PATCH);
}

#[test]
fn new_keys_are_appended_sorted_after_target_keys() {
    let target = "kind: X\nmetadata:\n  z: 1\n  a: 2\n";
    let patch = "kind: X\nmetadata:\n  y: 3\n  b: 4\n  a: 5\n";
    let out = merged(target, patch, false);
    assert_eq!(show(at(&out, &["metadata"])), "{z: 1, a: 5, b: 4, y: 3}");
}

#[test]
fn empty_target_values_are_dropped_but_written_nulls_kept() {
    let target = "kind: X\nspec:\n  empty:\n  tilde: ~\n  word: null\n  keep: 1\n";
    let patch = "kind: X\nspec:\n  keep: 2\n";
    let out = merged(target, patch, false);
    assert_eq!(show(at(&out, &["spec"])), "{tilde: ~, word: null, keep: 2}");
}

#[test]
fn plain_scalar_over_quoted_target_becomes_a_string() {
    // kubernetes-sigs/kustomize#6140: the target's quoting is kept.
    let target = "kind: X\nspec:\n  replicas: \"3\"\n  other: 1\n";
    let patch = "kind: X\nspec:\n  replicas: 5\n  other: \"2\"\n";
    let out = merged(target, patch, false);
    assert_eq!(show(at(&out, &["spec"])), "{replicas: \"5\", other: \"2\"}");
    assert_eq!(at(&out, &["spec", "replicas"]).span.file, PATCH);
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: \"1\"
        ports:
        - containerPort: 80
        - containerPort: 443
      - name: sidecar
        image: proxy:1
        args: [--a, --b]
      tolerations:
      - key: k1
        operator: Exists
";

fn deployment_patch(spec: &str) -> String {
    format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n{spec}")
}

#[test]
fn deployment_container_image_by_name() {
    let patch =
        deployment_patch("      containers:\n      - name: sidecar\n        image: proxy:2\n");
    let out = merged(DEPLOYMENT, &patch, true);
    let containers = at(&out, &["spec", "template", "spec", "containers"]);
    // Patched items come first, as kustomize renders them (kubernetes-sigs/kustomize#5904).
    assert_eq!(
        show(containers),
        "[{name: sidecar, image: proxy:2, args: [--a, --b]}, \
             {name: app, image: app:1, env: [{name: A, value: \"1\"}], \
             ports: [{containerPort: 80}, {containerPort: 443}]}]"
    );
    let image = at(containers, &["0", "image"]);
    assert_eq!(written(image, DEPLOYMENT, &patch), (PATCH, "proxy:2"));
    assert_eq!(
        written(at(containers, &["0", "args", "0"]), DEPLOYMENT, &patch),
        (TARGET, "--a")
    );
}

#[test]
fn deployment_new_container_and_env_merge() {
    let patch = deployment_patch(
            "      containers:\n      - name: app\n        env:\n        - name: B\n          value: \"2\"\n      - name: init\n        image: busybox\n",
        );
    let out = merged(DEPLOYMENT, &patch, true);
    let containers = at(&out, &["spec", "template", "spec", "containers"]);
    let names: Vec<String> = containers
        .as_seq()
        .expect("seq")
        .iter()
        .map(|c| show(at(c, &["name"])))
        .collect();
    assert_eq!(names, ["app", "init", "sidecar"]);
    assert_eq!(
        show(at(containers, &["0", "env"])),
        "[{name: B, value: \"2\"}, {name: A, value: \"1\"}]"
    );
}

#[test]
fn deployment_delete_container_and_replace_lists() {
    let patch = deployment_patch(
            "      containers:\n      - name: app\n        $patch: delete\n      tolerations:\n      - key: k2\n",
        );
    let out = merged(DEPLOYMENT, &patch, true);
    let spec = at(&out, &["spec", "template", "spec"]);
    assert_eq!(
        show(at(spec, &["containers"])),
        "[{name: sidecar, image: proxy:1, args: [--a, --b]}]"
    );
    // tolerations have no merge key: replaced.
    assert_eq!(show(at(spec, &["tolerations"])), "[{key: k2}]");

    let patch =
        deployment_patch("      containers:\n      - $patch: replace\n      - name: only\n");
    let out = merged(DEPLOYMENT, &patch, true);
    assert_eq!(
        show(at(&out, &["spec", "template", "spec", "containers"])),
        "[{name: only}]"
    );

    let patch = deployment_patch("      containers:\n      - $patch: delete\n");
    let out = merged(DEPLOYMENT, &patch, true);
    assert!(at(&out, &["spec", "template", "spec"])
        .get("containers")
        .is_none());
}

#[test]
fn replace_directive_on_a_list_item_has_no_effect() {
    // As kustomize renders it: the target item wins back its place.
    let patch = deployment_patch(
        "      containers:\n      - name: sidecar\n        image: x\n        $patch: replace\n",
    );
    let out = merged(DEPLOYMENT, &patch, true);
    let containers = at(&out, &["spec", "template", "spec", "containers"]);
    assert_eq!(
        show(at(containers, &["0"])),
        "{name: sidecar, image: proxy:1, args: [--a, --b]}"
    );
}

#[test]
fn container_ports_merge_by_port() {
    let patch = deployment_patch(
            "      containers:\n      - name: app\n        ports:\n        - containerPort: 443\n          name: https\n        - containerPort: 8080\n",
        );
    let out = merged(DEPLOYMENT, &patch, true);
    assert_eq!(
        show(at(
            &out,
            &["spec", "template", "spec", "containers", "0", "ports"]
        )),
        "[{containerPort: 443, name: https}, {containerPort: 8080}, {containerPort: 80}]"
    );
}

#[test]
fn lists_are_replaced_without_a_schema() {
    let patch =
        deployment_patch("      containers:\n      - name: sidecar\n        image: proxy:2\n");
    // Treated as a custom resource…
    let out = merged(DEPLOYMENT, &patch, false);
    assert_eq!(
        show(at(&out, &["spec", "template", "spec", "containers"])),
        "[{name: sidecar, image: proxy:2}]"
    );
    // …or a built-in type kustomize's v1.21.2 schema does not have.
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  metrics:\n  - type: Resource\n  - type: Pods\n";
    let patch = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  metrics:\n  - type: External\n";
    assert_eq!(
        show(at(&merged(hpa, patch, true), &["spec", "metrics"])),
        "[{type: External}]"
    );
}

#[test]
fn finalizers_merge_as_a_set() {
    let target = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  finalizers: [a, b]\n";
    let patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  finalizers: [c, a]\n";
    let out = merged(target, patch, true);
    assert_eq!(show(at(&out, &["metadata", "finalizers"])), "[c, a, b]");
}

#[test]
fn service_ports_merge_by_port_and_protocol() {
    let target = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n  - port: 53\n    protocol: UDP\n";
    let patch = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 53\n    protocol: UDP\n    name: dns\n";
    let out = merged(target, patch, true);
    assert_eq!(
        show(at(&out, &["spec", "ports"])),
        "[{port: 80, targetPort: 8080}, {port: 53, protocol: UDP, name: dns}]"
    );
}

#[test]
fn ordinary_fields_for_unsupported_directives() {
    // kyaml knows only `$patch`; the others stay as fields, as kustomize outputs them.
    let patch = deployment_patch("      $setElementOrder/containers:\n      - name: app\n");
    let out = merged(DEPLOYMENT, &patch, true);
    assert!(at(&out, &["spec", "template", "spec"])
        .get("$setElementOrder/containers")
        .is_some());
}

#[test]
fn root_delete_and_emptied_object() {
    let patch =
        "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg}\n$patch: delete\n";
    assert_eq!(smp(CLUSTER, patch, false), Ok(None));
    assert_eq!(smp("a: 1\n", "a: null\n", false), Ok(None));
}

#[test]
fn errors_point_into_the_patch() {
    let patch = "kind: Cluster\nspec:\n  backup:\n    $patch: bogus\n";
    let e = smp(CLUSTER, patch, false).expect_err("unknown directive");
    assert_eq!(e.message, "unknown patch strategy 'bogus'");
    assert_eq!((e.span.file, &patch[e.span.range()]), (PATCH, "bogus"));

    let patch = "kind: Cluster\nspec:\n  instances:\n    min: 1\n";
    let e = smp(CLUSTER, patch, false).expect_err("kind mismatch");
    assert_eq!((e.span.file, &patch[e.span.range()]), (PATCH, "min: 1\n"));

    let e = smp(CLUSTER, "- a\n", false).expect_err("not a mapping");
    assert_eq!(e.span.file, PATCH);

    // A bad directive in a value the patch adds is kept as a field, as kyaml does.
    let patch = "kind: Cluster\nspec:\n  monitoring:\n    $patch: bogus\n";
    assert_eq!(
        show(at(&merged(CLUSTER, patch, false), &["spec", "monitoring"])),
        "{$patch: bogus}"
    );
}

#[test]
fn merge_key_lists_with_odd_items() {
    // A container without a name: kyaml empties the list (a mismatch on the empty key).
    let patch = deployment_patch("      containers:\n      - image: noname\n");
    let out = merged(DEPLOYMENT, &patch, true);
    assert_eq!(
        show(at(&out, &["spec", "template", "spec", "containers"])),
        "[]"
    );
    // A scalar among containers is an error.
    let target = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n  - oops\n";
    let patch = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n";
    assert!(smp(target, patch, true).is_err());
}

#[test]
fn embedded_objects_get_their_schema() {
    // A mapping without a schema that carries a built-in apiVersion/kind merges as that kind.
    let target = "apiVersion: example.com/v1\nkind: W\nmetadata: {name: w}\nspec:\n  template:\n    apiVersion: v1\n    kind: Pod\n    spec:\n      containers:\n      - name: a\n        image: a\n      - name: b\n";
    let patch = "apiVersion: example.com/v1\nkind: W\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers:\n      - name: b\n        image: b\n";
    let out = merged(target, patch, false);
    assert_eq!(
        show(at(&out, &["spec", "template", "spec", "containers"])),
        "[{name: b, image: b}, {name: a, image: a}]"
    );
}

// --- JSON 6902 ---

#[test]
fn json_replace_add_remove_on_cnpg_paths() {
    let ops = "\
- op: replace
  path: /spec/backup/barmanObjectStore/destinationPath
  value: s3://other/pg
- op: add
  path: /spec/plugins/-
  value:
    name: extra
- op: add
  path: /spec/plugins/0
  value: {name: first}
- op: remove
  path: /spec/bootstrap/initdb
";
    let out = jp(CLUSTER, ops).expect("applies");
    let dp = at(
        &out,
        &["spec", "backup", "barmanObjectStore", "destinationPath"],
    );
    assert_eq!(written(dp, CLUSTER, ops), (PATCH, "s3://other/pg"));
    assert_eq!(
            show(at(&out, &["spec", "plugins"])),
            "[{name: first}, {name: barman-cloud.cloudnative-pg.io, isWALArchiver: true}, {name: extra}]"
        );
    assert_eq!(
        written(at(&out, &["spec", "plugins", "2", "name"]), CLUSTER, ops),
        (PATCH, "extra")
    );
    assert_eq!(show(at(&out, &["spec", "bootstrap"])), "{}");
}

#[test]
fn json_pointer_escapes_and_new_member_keys() {
    let target = "kind: X\nmetadata:\n  annotations:\n    a/b: x\n    c~d: y\n";
    let ops = "\
- {op: replace, path: /metadata/annotations/a~1b, value: X}
- {op: remove, path: /metadata/annotations/c~0d}
- {op: add, path: /metadata/annotations/e~01, value: z}
";
    let out = jp(target, ops).expect("applies");
    let ann = at(&out, &["metadata", "annotations"]);
    assert_eq!(show(ann), "{a/b: X, e~1: z}");
    // A new member's key is written at the op's path.
    let key = &ann.entry("e~1").expect("entry").key;
    assert_eq!(
        written(key, target, ops),
        (PATCH, "/metadata/annotations/e~01")
    );
}

#[test]
fn json_errors_are_located_and_atomic() {
    let ops = "- op: replace\n  path: /spec/instances\n  value: 5\n- op: add\n  path: /spec/nope/x\n  value: 1\n";
    let e = jp(CLUSTER, ops).expect_err("missing parent");
    assert_eq!(&ops[e.span.range()], "/spec/nope/x");
    assert!(e.message.contains("doc is missing path"), "{}", e.message);

    let ops = "- op: test\n  path: /spec/instances\n  value: 4\n";
    let e = jp(CLUSTER, ops).expect_err("test fails");
    assert_eq!(
        e.message,
        "testing value /spec/instances failed: test failed"
    );
    assert!(ops[e.span.range()].starts_with("op: test\n  path: /spec/instances"));

    for (ops, what) in [
        ("- {op: remove, path: /spec/missing}\n", "remove missing"),
        (
            "- {op: remove, path: /spec/plugins/1}\n",
            "index past the end",
        ),
        (
            "- {op: add, path: /spec/plugins/2, value: 1}\n",
            "add past the end",
        ),
        (
            "- {op: replace, path: /spec/plugins/-, value: 1}\n",
            "replace at -",
        ),
        ("- {op: add, path: '', value: {}}\n", "add at the root"),
        ("- {op: frob, path: /spec}\n", "unknown op"),
        ("- {op: add}\n", "no path"),
        (
            "- {op: move, from: /spec/nope, path: /spec/x}\n",
            "move from missing",
        ),
        (
            "- {op: add, path: /spec/instances/x, value: 1}\n",
            "through a scalar",
        ),
        ("{op: add}\n", "not a list"),
        ("- [1]\n", "op not a mapping"),
    ] {
        assert!(jp(CLUSTER, ops).is_err(), "{what}");
    }
}

#[test]
fn json_patch_quirks_of_kustomize() {
    // `test` compares values, numbers by value.
    let ops = "- {op: test, path: /spec/instances, value: 3.0}\n- {op: test, path: /spec/backup, value: {barmanObjectStore: {destinationPath: s3://bucket/pg}}}\n- {op: test, path: /spec/absent, value: null}\n";
    assert!(jp(CLUSTER, ops).is_ok());
    assert!(jp(
        CLUSTER,
        "- {op: test, path: /spec/instances, value: \"3\"}\n"
    )
    .is_err());
    // replace of a missing member adds it; copy from a missing member copies null;
    // add without value adds null; -1 appends; the first path segment is ignored.
    let ops = "\
- {op: replace, path: /spec/new, value: 1}
- {op: copy, from: /spec/nope, path: /spec/copied}
- {op: add, path: /spec/novalue}
- {op: add, path: /spec/plugins/-1, value: {name: last}}
- {op: add, path: spec/top, value: 1}
";
    let out = jp(CLUSTER, ops).expect("applies");
    assert_eq!(show(at(&out, &["spec", "new"])), "1");
    assert!(at(&out, &["spec", "copied"]).is_null());
    assert!(at(&out, &["spec", "novalue"]).is_null());
    assert_eq!(show(at(&out, &["spec", "plugins", "1"])), "{name: last}");
    assert_eq!(show(at(&out, &["top"])), "1");
    // move and copy.
    let ops = "- {op: move, from: /spec/plugins/0, path: /spec/moved}\n- {op: copy, from: /spec/moved/name, path: /spec/name}\n";
    let out = jp(CLUSTER, ops).expect("applies");
    assert_eq!(show(at(&out, &["spec", "plugins"])), "[]");
    assert_eq!(
        show(at(&out, &["spec", "name"])),
        "barman-cloud.cloudnative-pg.io"
    );
    assert_eq!(at(&out, &["spec", "name"]).span.file, TARGET);
    // replace of the whole document.
    let out = jp(CLUSTER, "- {op: replace, path: '', value: {kind: Other}}\n").expect("applies");
    assert_eq!(show(&out), "{kind: Other}");
}

#[test]
fn json_patch_values_go_through_json() {
    // The patch is read as YAML 1.1 (sigs.k8s.io/yaml), the target as YAML 1.2 (kyaml), and
    // numbers come back as JSON writes them.
    let target = "kind: X\nspec:\n  word: on\n  hex: 0x10\n  float: 1.0\n  day: 2024-01-02\n";
    let ops =
        "- {op: add, path: /spec/flag, value: yes}\n- {op: add, path: /spec/n, value: 1_000}\n";
    let out = jp(target, ops).expect("applies");
    assert_eq!(
        show(at(&out, &["spec"])),
        "{word: on, hex: 16, float: 1, day: \"2024-01-02T00:00:00Z\", flag: true, n: 1000}"
    );
    assert_eq!(
        written(at(&out, &["spec", "flag"]), target, ops),
        (PATCH, "yes")
    );
}

#[test]
fn pointer_helpers() {
    assert_eq!(split_pointer(""), None);
    assert_eq!(split_pointer("/"), Some((vec![], String::new())));
    assert_eq!(
        split_pointer("/a~1b/c~0d/~01"),
        Some((vec!["a/b".to_string(), "c~d".to_string()], "~1".to_string()))
    );
    assert_eq!(array_index("-1", 3), Some(2));
    assert_eq!(array_index("-4", 3), None);
    assert_eq!(array_index("3", 3), None);
    assert_eq!(array_index("+1", 3), Some(1));
    assert_eq!(array_index("1 ", 3), None);
    assert_eq!(add_index("3", 3), Some(3));
    assert_eq!(add_index("-1", 3), Some(3));
    assert_eq!(add_index("-4", 3), Some(0));
    assert_eq!(add_index("-5", 3), None);
    assert_eq!(add_index("99999999999999999999", 3), None);
    assert_eq!(
        timestamp_rfc3339("2024-1-2"),
        Some("2024-01-02T00:00:00Z".into())
    );
    assert_eq!(
        timestamp_rfc3339("2001-12-14t21:59:43.10-05:00"),
        Some("2001-12-14T21:59:43.1-05:00".into())
    );
    assert_eq!(
        timestamp_rfc3339("2001-12-14 21:59:43.10"),
        Some("2001-12-14T21:59:43.1Z".into())
    );
    assert_eq!(timestamp_rfc3339("2023-02-29"), None);
    assert_eq!(timestamp_rfc3339("20240102"), None);
}

#[test]
fn never_panics_on_odd_inputs() {
    let docs = [
            "a: 1\n",
            "scalar\n",
            "- 1\n- {a: b}\n",
            "$patch: replace\n",
            "$patch: [x]\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [~, 1, {}, {name: a}, {name: ~}, [x], {$patch: delete}]\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: {a: 1}\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, $patch: replace}, {$patch: merge}, {$patch: ~}]\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  finalizers: [{a: 1}, ~, x, [y], {$patch: replace}]\nspec:\n  containers:\n  - name: a\n    ports: [{containerPort: 1}, {protocol: TCP}, ~, 5, {containerPort: {}}]\n",
            "apiVersion: v1\nkind: Service\nspec:\n  ports: [{port: 1, protocol: ~}, {port: 1}, {protocol: UDP}]\n",
            "? [a]\n: b\nc: {? {d: e} : f}\n",
            "- {op: add, path: /a, value: 1}\n- {op: copy, from: '', path: /b}\n- {op: move, from: /a, path: /a/b}\n- {op: test, path: ''}\n- ~\n",
        ];
    for t in docs {
        for p in docs {
            let target = doc(TARGET, t);
            let patch = doc(PATCH, p);
            for builtin in [false, true] {
                let mut t2 = target.clone();
                let _ = strategic_merge(&mut t2, &patch, builtin);
            }
            let mut t3 = target.clone();
            let _ = json6902(&mut t3, &patch);
        }
    }
    // Copying the document into itself over and over stops at the size guard.
    let mut t = doc(TARGET, "a: [1, 2, 3, 4, 5, 6, 7, 8]\n");
    let ops = "- {op: copy, from: /a, path: /a/-}\n".repeat(40);
    assert!(json6902(&mut t, &doc(PATCH, &ops)).is_err());
}
