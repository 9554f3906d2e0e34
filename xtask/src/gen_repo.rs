//! `cargo xtask gen-repo --apps N [--out DIR]`: a synthetic Flux repository shaped like the real
//! ones in `../shared/corpus`, for benchmarks. Per app: a Flux Kustomization and a kustomize
//! directory with a Cluster, a ScheduledBackup and an ObjectStore (every fourth app through a
//! base and an overlay with a patch), next to unrelated manifests (a Deployment and Service, a
//! ConfigMap, a HelmRelease) that make up about 70 % of the documents. Output is deterministic.
//!
//! With `--dense`, the same apps share one namespace, and their Flux Kustomizations sit in one
//! file: the shape of a platform team's database namespace, where anything that pairs objects
//! within a namespace or a file would show if it compared every pair.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Apps per namespace directory, as homelab repositories group them.
const PER_NAMESPACE: usize = 50;

pub struct Stats {
    pub files: usize,
    pub documents: usize,
    pub bytes: usize,
}

pub fn generate(out: &Path, apps: usize, dense: bool) -> Result<Stats, String> {
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let mut w = Writer {
        root: out.to_path_buf(),
        flux: dense.then(String::new),
        stats: Stats {
            files: 0,
            documents: 0,
            bytes: 0,
        },
    };
    w.file(".cnpg-lint.yaml", "root: true\n")?;
    w.file(
        "kubernetes/flux/cluster/ks.yaml",
        &flux_ks(
            "cluster-apps",
            "flux-system",
            "./kubernetes/apps",
            None,
            &[],
        ),
    )?;
    w.file(
        "kubernetes/flux/cluster/source.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: https://github.com/example/home-ops\n  ref:\n    branch: main\n",
    )?;
    w.file(
        "kubernetes/apps/cnpg-system/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./cloudnative-pg/ks.yaml\n",
    )?;
    w.file(
        "kubernetes/apps/cnpg-system/cloudnative-pg/ks.yaml",
        &flux_ks(
            "cloudnative-pg",
            "cnpg-system",
            "./kubernetes/apps/cnpg-system/cloudnative-pg/app",
            None,
            &[],
        ),
    )?;
    w.file(
        "kubernetes/apps/cnpg-system/cloudnative-pg/app/helmrelease.yaml",
        &helm_release("cloudnative-pg", "cnpg-system", 0),
    )?;
    let per_namespace = if dense { apps.max(1) } else { PER_NAMESPACE };
    let namespaces = apps.div_ceil(per_namespace);
    for n in 0..namespaces {
        let ns = format!("team-{n:03}");
        let mut list = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
        );
        for a in (n * per_namespace)..((n + 1) * per_namespace).min(apps) {
            let app = format!("app-{a:05}");
            if !dense {
                let _ = writeln!(list, "  - ./{app}/ks.yaml");
            }
            w.app(&ns, &app, a)?;
        }
        if let Some(flux) = w.flux.as_mut().map(std::mem::take) {
            list.push_str("  - ./ks.yaml\n");
            w.file(&format!("kubernetes/apps/{ns}/ks.yaml"), &flux)?;
        }
        w.file(&format!("kubernetes/apps/{ns}/kustomization.yaml"), &list)?;
    }
    Ok(w.stats)
}

struct Writer {
    root: PathBuf,
    /// With `--dense`: the namespace's Flux Kustomizations so far, written as one file.
    flux: Option<String>,
    stats: Stats,
}

impl Writer {
    fn file(&mut self, rel: &str, text: &str) -> Result<(), String> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        self.stats.files += 1;
        self.stats.bytes += text.len();
        self.stats.documents +=
            text.matches("\napiVersion:").count() + usize::from(text.starts_with("apiVersion:"));
        Ok(())
    }

    fn app(&mut self, ns: &str, app: &str, i: usize) -> Result<(), String> {
        let dir = format!("kubernetes/apps/{ns}/{app}");
        let overlay = i % 4 == 3;
        let path = if overlay {
            format!("./{dir}/overlays/prod")
        } else {
            format!("./{dir}/app")
        };
        let vars = [
            ("APP", app),
            ("DB_SIZE", if i.is_multiple_of(3) { "20Gi" } else { "5Gi" }),
        ];
        let ks = flux_ks(app, ns, &path, Some("cloudnative-pg"), &vars);
        match &mut self.flux {
            Some(all) => all.push_str(&ks),
            None => self.file(&format!("{dir}/ks.yaml"), &ks)?,
        }
        let base = format!("{dir}/app");
        self.file(
            &format!("{base}/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./database.yaml\n  - ./objectstore.yaml\n  - ./deployment.yaml\n  - ./configmap.yaml\n  - ./helmrelease.yaml\n",
        )?;
        self.file(&format!("{base}/database.yaml"), &database(i))?;
        self.file(&format!("{base}/objectstore.yaml"), &object_store(i))?;
        self.file(&format!("{base}/deployment.yaml"), &deployment(i))?;
        self.file(&format!("{base}/configmap.yaml"), &config_map(i))?;
        self.file(
            &format!("{base}/helmrelease.yaml"),
            &helm_release(app, ns, i),
        )?;
        if overlay {
            self.file(
                &format!("{dir}/overlays/prod/kustomization.yaml"),
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../app\npatches:\n  - path: cluster-patch.yaml\n    target:\n      kind: Cluster\n",
            )?;
            self.file(
                &format!("{dir}/overlays/prod/cluster-patch.yaml"),
                "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: postgres-${APP}\nspec:\n  instances: 3\n  resources:\n    requests:\n      memory: 2Gi\n",
            )?;
        }
        Ok(())
    }
}

fn flux_ks(
    name: &str,
    ns: &str,
    path: &str,
    depends: Option<&str>,
    vars: &[(&str, &str)],
) -> String {
    let mut s = format!(
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 1h\n  targetNamespace: {ns}\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    );
    if let Some(d) = depends {
        let _ = write!(s, "  dependsOn:\n    - name: {d}\n");
    }
    if !vars.is_empty() {
        s.push_str("  postBuild:\n    substitute:\n");
        for (k, v) in vars {
            let _ = writeln!(s, "      {k}: \"{v}\"");
        }
    }
    s
}

fn database(i: usize) -> String {
    format!(
        "---\napiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: postgres-${{APP}}\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\nspec:\n  instances: {instances}\n  imageName: ghcr.io/cloudnative-pg/postgresql:17.{minor}\n  primaryUpdateStrategy: unsupervised\n  storage:\n    size: ${{DB_SIZE}}\n  walStorage:\n    size: 2Gi\n  postgresql:\n    parameters:\n      max_connections: \"200\"\n      shared_buffers: 256MB\n  resources:\n    requests:\n      memory: 1Gi\n      cpu: 100m\n  plugins:\n    - name: barman-cloud.cloudnative-pg.io\n      isWALArchiver: true\n      parameters:\n        barmanObjectName: postgres-${{APP}}-store\n  bootstrap:\n    initdb:\n      database: app\n      owner: app\n---\napiVersion: postgresql.cnpg.io/v1\nkind: ScheduledBackup\nmetadata:\n  name: postgres-${{APP}}-daily\nspec:\n  schedule: \"0 0 {hour} * * *\"\n  immediate: true\n  backupOwnerReference: self\n  cluster:\n    name: postgres-${{APP}}\n  method: plugin\n  pluginConfiguration:\n    name: barman-cloud.cloudnative-pg.io\n",
        instances = 2 + i % 2,
        minor = 4 + i % 3,
        hour = i % 24,
    )
}

fn object_store(i: usize) -> String {
    format!(
        "---\napiVersion: barmancloud.cnpg.io/v1\nkind: ObjectStore\nmetadata:\n  name: postgres-${{APP}}-store\nspec:\n  retentionPolicy: {days}d\n  configuration:\n    destinationPath: s3://cnpg-backups/\n    endpointURL: https://s3.example.com\n    s3Credentials:\n      accessKeyId:\n        name: cnpg-s3\n        key: access-key-id\n      secretAccessKey:\n        name: cnpg-s3\n        key: secret-access-key\n    wal:\n      compression: gzip\n    data:\n      compression: gzip\n",
        days = 7 + i % 30
    )
}

fn deployment(i: usize) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{APP}}\n  labels:\n    app.kubernetes.io/name: ${{APP}}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: ${{APP}}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: ${{APP}}\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/example/app:1.{i}.0\n          ports:\n            - containerPort: 8080\n          env:\n            - name: DATABASE_HOST\n              value: postgres-${{APP}}-rw\n            - name: LOG_LEVEL\n              value: info\n          resources:\n            requests:\n              cpu: 10m\n              memory: 64Mi\n            limits:\n              memory: 256Mi\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ${{APP}}\nspec:\n  selector:\n    app.kubernetes.io/name: ${{APP}}\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n",
        replicas = 1 + i % 3
    )
}

fn config_map(i: usize) -> String {
    let mut s = String::from(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${APP}-config\ndata:\n  settings.yaml: |\n",
    );
    for line in 0..(10 + i % 20) {
        let _ = writeln!(s, "    option_{line}: value-{line}-{i}");
    }
    s
}

fn helm_release(app: &str, ns: &str, i: usize) -> String {
    format!(
        "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {app}-extras\n  namespace: {ns}\nspec:\n  interval: 30m\n  chart:\n    spec:\n      chart: app-template\n      version: 4.{minor}.0\n      sourceRef:\n        kind: HelmRepository\n        name: bjw-s\n        namespace: flux-system\n  values:\n    controllers:\n      main:\n        containers:\n          main:\n            image:\n              repository: ghcr.io/example/extras\n              tag: 2.{i}.1\n    service:\n      main:\n        controller: main\n        ports:\n          http:\n            port: 8080\n",
        minor = i % 5
    )
}
