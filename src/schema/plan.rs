//! What validating an object needs from its schema, found once per schema rather than once per
//! object: each node's CEL rules, parsed; each node's defaulted properties; and which nodes have
//! rules or defaults at or below them, so that the walks over an object skip the subtrees that
//! have neither (most of a Cluster's spec).
//!
//! Nodes are named by address. A plan belongs to one compiled schema, which lives in a static
//! for the rest of the run, so the addresses stay valid and unique.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::cel;

pub struct Plan {
    cel_live: HashSet<usize>,
    rules: HashMap<usize, Vec<cel::Rule>>,
    default_live: HashSet<usize>,
    defaults: HashMap<usize, Vec<Defaulted>>,
}

/// A property with a default.
pub struct Defaulted {
    pub key: String,
    pub value: Value,
    /// The property's schema admits null, so a null written there stays.
    pub nullable: bool,
}

/// Deeper than any CRD; a bound against a malformed embedded schema.
const MAX_DEPTH: usize = 256;

pub fn addr(v: &Value) -> usize {
    std::ptr::from_ref(v) as usize
}

impl Plan {
    pub fn new(schema: &Value) -> Plan {
        let mut plan = Plan {
            cel_live: HashSet::new(),
            rules: HashMap::new(),
            default_live: HashSet::new(),
            defaults: HashMap::new(),
        };
        plan.visit(schema, 0);
        plan
    }

    /// Whether some CEL rule sits at or below this schema node.
    pub fn has_rules_below(&self, schema: &Value) -> bool {
        self.cel_live.contains(&addr(schema))
    }

    pub fn rules(&self, schema: &Value) -> &[cel::Rule] {
        self.rules.get(&addr(schema)).map_or(&[], Vec::as_slice)
    }

    /// Whether some property at or below this schema node has a default.
    pub fn has_defaults_below(&self, schema: &Value) -> bool {
        self.default_live.contains(&addr(schema))
    }

    /// This node's properties that have a default.
    pub fn defaults(&self, schema: &Value) -> &[Defaulted] {
        self.defaults.get(&addr(schema)).map_or(&[], Vec::as_slice)
    }

    /// Returns (rules at or below, defaults at or below). Follows exactly the children the
    /// object walks follow: `properties`, an object `additionalProperties`, and `items`.
    fn visit(&mut self, schema: &Value, depth: usize) -> (bool, bool) {
        if depth > MAX_DEPTH {
            return (false, false);
        }
        let here = addr(schema);
        let rules = cel::compile_rules(schema);
        let mut has_rules = !rules.is_empty();
        if has_rules {
            self.rules.insert(here, rules);
        }
        let mut has_defaults = false;
        let mut children: Vec<&Value> = Vec::new();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let defaults: Vec<Defaulted> = props
                .iter()
                .filter_map(|(k, s)| {
                    Some(Defaulted {
                        key: k.clone(),
                        value: s.get("default")?.clone(),
                        nullable: super::admits_null(s),
                    })
                })
                .collect();
            if !defaults.is_empty() {
                has_defaults = true;
                self.defaults.insert(here, defaults);
            }
            children.extend(props.values());
        }
        if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            children.push(extra);
        }
        if let Some(items) = schema.get("items") {
            children.push(items);
        }
        for child in children {
            let (r, d) = self.visit(child, depth + 1);
            has_rules |= r;
            has_defaults |= d;
        }
        if has_rules {
            self.cel_live.insert(here);
        }
        if has_defaults {
            self.default_live.insert(here);
        }
        (has_rules, has_defaults)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn marks_where_rules_and_defaults_live() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "plain": {"type": "object", "properties": {"x": {"type": "string"}}},
                        "ruled": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "x-kubernetes-validations": [
                                    {"rule": "self.a > 0", "message": "a"},
                                    {"rule": "self.a == oldSelf.a"}
                                ]
                            }
                        },
                        "labels": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "properties": {"port": {"type": "integer", "default": 5432}}
                            }
                        },
                        "mode": {"type": ["string", "null"], "default": "fast"}
                    }
                }
            }
        });
        let plan = Plan::new(&schema);
        let spec = &schema["properties"]["spec"];
        let props = &spec["properties"];
        assert!(plan.has_rules_below(&schema) && plan.has_rules_below(spec));
        assert!(plan.has_rules_below(&props["ruled"]));
        assert!(!plan.has_rules_below(&props["plain"]) && !plan.has_rules_below(&props["mode"]));
        // The transition rule is left out.
        assert_eq!(plan.rules(&props["ruled"]["items"]).len(), 1);
        assert!(plan.has_defaults_below(&schema) && plan.has_defaults_below(&props["labels"]));
        assert!(
            !plan.has_defaults_below(&props["plain"]) && !plan.has_defaults_below(&props["ruled"])
        );
        let defaults = plan.defaults(spec);
        assert_eq!(defaults.len(), 1);
        assert_eq!(
            (defaults[0].key.as_str(), defaults[0].nullable),
            ("mode", true)
        );
    }
}
