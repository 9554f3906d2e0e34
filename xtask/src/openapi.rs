//! `cargo xtask gen-openapi SCHEMA_JSON`: regenerates the OpenAPI table of strategic merge
//! (`SCHEMA` and `ROOTS` in `src/render/patch/openapi.rs`) from the Kubernetes OpenAPI v2
//! definitions kustomize embeds.
//!
//! The input is the JSON of kustomize's built-in Kubernetes v1.21.2 schema, for example
//! `kyaml/openapi/kubernetesapi/data/kubernetes-openapi-union-v1.21.2.bundle-v1.json.gz` of
//! kubernetes-sigs/kustomize, decompressed (`gunzip -k`), or Kubernetes' own
//! `api/openapi-spec/swagger.json` at tag v1.21.2: anything with a `definitions` object.
//!
//! What is kept is what kyaml's merge reads (`schemaHasMergeStrategy`, `ResourceSchema.Field`):
//! - a list with `x-kubernetes-patch-strategy` containing `merge` becomes `List(keys, items)`,
//!   its keys `x-kubernetes-list-map-keys` when given, else `x-kubernetes-patch-merge-key`
//!   (none: a list of values merged as a set);
//! - an object some field of which leads to such a list becomes `Obj(fields, others, map)`,
//!   with the names of its other fields;
//! - everything else is `Opaque` (id 0): it has a schema, and nothing under it merges by key.
//!
//! Ids are given in post-order (a schema after the ones it refers to), walking the kinds in
//! `(apiVersion, kind)` order and each object's fields alphabetically; equal schemas share one
//! id. `ROOTS` lists the kinds whose schema is not `Opaque`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

#[derive(Clone, PartialEq, Eq, Hash)]
enum S {
    Opaque,
    List(Vec<String>, u16),
    Obj(Vec<(String, u16)>, Vec<String>, Option<u16>),
}

struct Table<'a> {
    defs: &'a serde_json::Map<String, Value>,
    nodes: Vec<(S, Option<String>)>,
    ids: HashMap<S, u16>,
    memo: HashMap<String, u16>,
    visiting: HashSet<String>,
}

impl Table<'_> {
    fn intern(&mut self, s: S, name: Option<&str>) -> u16 {
        if let Some(&id) = self.ids.get(&s) {
            return id;
        }
        let id = self.nodes.len() as u16;
        self.ids.insert(s.clone(), id);
        self.nodes.push((s, name.map(str::to_string)));
        id
    }

    /// The id of the definition `name` (`io.k8s.api.core.v1.PodSpec`).
    fn definition(&mut self, name: &str) -> u16 {
        if let Some(&id) = self.memo.get(name) {
            return id;
        }
        // A recursive schema (JSONSchemaProps) holds no merging list on its way round.
        if !self.visiting.insert(name.to_string()) {
            return 0;
        }
        let defs = self.defs;
        let id = match defs.get(name) {
            Some(def) => {
                let short = name.rsplit('.').next().unwrap_or(name);
                self.object(def, Some(short))
            }
            None => 0,
        };
        self.visiting.remove(name);
        self.memo.insert(name.to_string(), id);
        id
    }

    fn object(&mut self, def: &Value, name: Option<&str>) -> u16 {
        let mut fields = Vec::new();
        let mut others = Vec::new();
        if let Some(props) = def.get("properties").and_then(Value::as_object) {
            let sorted: BTreeMap<&String, &Value> = props.iter().collect();
            for (field, schema) in sorted {
                match self.property(schema) {
                    0 => others.push(field.clone()),
                    id => fields.push((field.clone(), id)),
                }
            }
        }
        let map = def
            .get("additionalProperties")
            .map(|a| self.property(a))
            .filter(|&id| id != 0);
        if fields.is_empty() && map.is_none() {
            return 0;
        }
        self.intern(S::Obj(fields, others, map), name)
    }

    fn property(&mut self, schema: &Value) -> u16 {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return self.definition(r.trim_start_matches("#/definitions/"));
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => {
                let merges = schema
                    .get("x-kubernetes-patch-strategy")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.split(',').any(|p| p == "merge"));
                if !merges {
                    return 0;
                }
                let keys: Vec<String> = match schema.get("x-kubernetes-list-map-keys") {
                    Some(Value::Array(k)) => k
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    _ => schema
                        .get("x-kubernetes-patch-merge-key")
                        .and_then(Value::as_str)
                        .map(|k| vec![k.to_string()])
                        .unwrap_or_default(),
                };
                let items = schema.get("items").map_or(0, |i| self.property(i));
                self.intern(S::List(keys, items), None)
            }
            Some("object") => self.object(schema, None),
            _ => 0,
        }
    }
}

/// Reads the definitions at `input` and rewrites the generated part of `target`.
pub fn generate(input: &Path, target: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", input.display()))?;
    let defs = doc
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{}: no `definitions` object", input.display()))?;
    let mut kinds: Vec<(String, String, String)> = Vec::new();
    for (name, def) in defs {
        let Some(gvks) = def
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
        else {
            continue;
        };
        for g in gvks {
            let field = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (group, version, kind) = (field("group"), field("version"), field("kind"));
            let api_version = if group.is_empty() {
                version
            } else {
                format!("{group}/{version}")
            };
            kinds.push((api_version, kind, name.clone()));
        }
    }
    kinds.sort();
    let mut table = Table {
        defs,
        nodes: Vec::new(),
        ids: HashMap::new(),
        memo: HashMap::new(),
        visiting: HashSet::new(),
    };
    table.intern(S::Opaque, None);
    let mut roots = Vec::new();
    for (api_version, kind, name) in &kinds {
        let id = table.definition(name);
        if id != 0 {
            roots.push((api_version.clone(), kind.clone(), id));
        }
    }
    let mut out = String::from("pub(super) static SCHEMA: &[S] = &[\n");
    out.push_str("    S::Opaque, // 0: anything without merge lists\n");
    for (id, (s, name)) in table.nodes.iter().enumerate().skip(1) {
        let quoted = |v: &[String]| {
            v.iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match s {
            S::Opaque => {}
            S::List(keys, items) => out.push_str(&format!(
                "    S::List(&[{}], {items}), // {id}\n",
                quoted(keys)
            )),
            S::Obj(fields, others, map) => {
                out.push_str(&format!("    // {id}: {}\n", name.as_deref().unwrap_or("")));
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(f, c)| format!("({f:?}, {c})"))
                    .collect();
                let map = map.map_or("None".to_string(), |m| format!("Some({m})"));
                out.push_str(&format!(
                    "    S::Obj(&[{}], {:?}, {map}),\n",
                    fields.join(", "),
                    others.join(" ")
                ));
            }
        }
    }
    out.push_str("];\npub(super) static ROOTS: &[(&str, &str, u16)] = &[\n");
    for (a, k, id) in &roots {
        out.push_str(&format!("    ({a:?}, {k:?}, {id}),\n"));
    }
    out.push_str("];\n");
    let source =
        std::fs::read_to_string(target).map_err(|e| format!("{}: {e}", target.display()))?;
    const BEGIN: &str = "// BEGIN GENERATED by `cargo xtask gen-openapi`\n";
    const END: &str = "// END GENERATED\n";
    let (Some(a), Some(b)) = (source.find(BEGIN), source.find(END)) else {
        return Err(format!(
            "{}: no generated section between `{}` and `{}`",
            target.display(),
            BEGIN.trim_end(),
            END.trim_end()
        ));
    };
    let rewritten = format!("{}{BEGIN}{out}{}", &source[..a], &source[b..]);
    std::fs::write(target, rewritten).map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(table.nodes.len())
}
