//! Infrastructure facts read from Terraform sources.
//!
//! The linter cross-checks CloudNativePG manifests against the cloud resources they depend on:
//! backup buckets whose lifecycle rules delete objects, and Workload Identity bindings that let a
//! Kubernetes service account impersonate a Google service account. Terraform is only read, never
//! evaluated: a value is [`TfText::Known`] when it is spelled out literally in the same source and
//! [`TfText::Unknown`] otherwise, so that callers can stay silent about what they cannot see.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::{Element, Template};
use hcl_edit::Span;

/// A string value read from HCL: fully literal, built from module inputs and locals that the
/// files around it may define, or depending on something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TfText {
    /// The whole value is literal text (escapes decoded).
    Known(String),
    /// Literal text and `var.NAME` / `local.NAME` references, which only the module's other
    /// files can resolve (see [`super::tf_module`]).
    Template(Vec<TfPart>),
    /// The value depends on something this module does not evaluate.
    Unknown,
}

/// A piece of a [`TfText::Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TfPart {
    Text(String),
    Var(String),
    Local(String),
    /// The `account_id` of `google_service_account.<label>`, declared in another file.
    AccountOf(String),
}

/// Which objects of a bucket a lifecycle rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TfScope {
    /// Every object.
    Bucket,
    /// Objects whose key starts with any of these.
    Prefixes(Vec<TfText>),
    /// A filter this module does not evaluate (tags, sizes, suffixes, storage classes, dates,
    /// noncurrent versions): the rule may or may not touch the archive.
    Unknown,
}

/// A lifecycle rule that deletes objects once they are `age` days old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfDeleteRule {
    /// The span covers the number literal.
    pub age: Spanned<u32>,
    pub scope: TfScope,
}

/// A `variable "NAME"` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfVariable {
    pub name: String,
    /// `None` when it has no default (a value must be given).
    pub default: Option<TfText>,
}

/// A `module "NAME" { source = ... }` call with the inputs it passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfModuleCall {
    pub source: TfText,
    pub inputs: Vec<(String, TfText)>,
    /// Whether the module is remote (its resources are not read), or is passed a
    /// `google_service_account`: it may bind service accounts.
    pub may_bind_service_accounts: bool,
}

/// A value together with the byte range in the `.tf` source it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// Everything extracted from one source, in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TfFacts {
    pub buckets: Vec<TfBucket>,
    pub service_accounts: Vec<TfServiceAccount>,
    pub wi_members: Vec<TfWiMember>,
    /// Google service accounts that something other than a readable Workload Identity member
    /// may let Kubernetes service accounts impersonate: an IAM policy resource, a member list
    /// that is not spelled out, a project-wide grant (`Unknown`: any account).
    pub other_grants: Vec<TfText>,
    pub variables: Vec<TfVariable>,
    pub locals: Vec<(String, TfText)>,
    pub modules: Vec<TfModuleCall>,
    /// Top-level attributes, and the keys of a top-level `inputs` object: the variable values of
    /// a `.tfvars` file or a `terragrunt.hcl`.
    pub assignments: Vec<(String, TfText)>,
    /// The file may set any variable: Terragrunt `inputs` that are not a literal object, an
    /// `include`, or a variable file that cannot be read.
    pub sets_any_variable: bool,
}

/// A bucket with a lifecycle rule that deletes objects after N days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfBucket {
    /// `"gcs"` or `"s3"`.
    pub provider: &'static str,
    /// Bucket name; the span is that of the value expression (or, for an S3 bucket referenced by
    /// another resource, of the literal it resolved to). When absent, `Unknown` spanning the
    /// resource label.
    pub name: Spanned<TfText>,
    /// Every enabled rule that deletes current objects after a literal number of days.
    pub delete_rules: Vec<TfDeleteRule>,
}

/// A `google_service_account` resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfServiceAccount {
    /// The resource label, e.g. `cnpg` in `resource "google_service_account" "cnpg"`.
    pub resource_name: String,
    /// The `account_id` value; when absent, `Unknown` spanning the resource label.
    pub account_id: Spanned<TfText>,
    /// The `project` attribute; `None` when absent (the provider's project).
    pub project: Option<TfText>,
}

/// One Workload Identity member granting a Kubernetes SA the right to impersonate a Google SA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfWiMember {
    /// Account id of the Google SA (the part of its email before `@`).
    pub gsa_account_id: TfText,
    /// Kubernetes namespace named in the member.
    pub namespace: TfText,
    /// Kubernetes service account named in the member.
    pub ksa: TfText,
    /// Span of the member string literal.
    pub span: Range<usize>,
}

/// The source is not valid HCL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfParseError {
    /// The parser's description, without location.
    pub message: String,
    /// Byte offset of the error in the source, always on a char boundary.
    pub offset: usize,
}

impl fmt::Display for TfParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for TfParseError {}

/// Parses Terraform source text and extracts the facts found in its `resource` blocks.
///
/// # Errors
///
/// Returns a [`TfParseError`] when `source` is not syntactically valid HCL.
pub fn extract(source: &str) -> Result<TfFacts, TfParseError> {
    let body = super::hcl_parse::parse_body(source).map_err(|err| TfParseError {
        message: err.message,
        offset: err.offset,
    })?;
    let resources: Vec<Resource<'_>> = resources(&body).collect();
    let index = Index::build(&resources);

    let mut facts = TfFacts::default();
    for res in &resources {
        match res.kind {
            "google_storage_bucket" => facts.buckets.extend(gcs_bucket(res)),
            "aws_s3_bucket" => facts.buckets.extend(s3_legacy_bucket(res)),
            "aws_s3_bucket_lifecycle_configuration" => {
                facts.buckets.extend(s3_lifecycle_bucket(res, &index));
            }
            "google_service_account" => facts.service_accounts.push(service_account(res)),
            "google_service_account_iam_member" | "google_service_account_iam_binding" => {
                let (members, unreadable) = wi_members(res, &index);
                facts.wi_members.extend(members);
                if unreadable {
                    facts.other_grants.push(service_account_of(res, &index));
                }
            }
            "google_service_account_iam_policy" => {
                facts.other_grants.push(service_account_of(res, &index));
            }
            kind if is_wide_grant(kind, res.body) => facts.other_grants.push(TfText::Unknown),
            _ => {}
        }
    }
    module_level(&body, &mut facts);
    Ok(facts)
}

/// The blocks and attributes that other files of the module, or the callers of a module,
/// resolve values through.
fn module_level(body: &Body, facts: &mut TfFacts) {
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if key == "inputs" {
            match &attr.value {
                Expression::Object(object) => {
                    for (k, v) in object.iter() {
                        match object_key(k) {
                            Some(name) => {
                                facts.assignments.push((name, spanned_text(v.expr()).value))
                            }
                            None => facts.sets_any_variable = true,
                        }
                    }
                }
                _ => facts.sets_any_variable = true,
            }
        }
        facts
            .assignments
            .push((key.to_owned(), spanned_text(&attr.value).value));
    }
    for block in body.blocks() {
        match (block.ident.as_str(), block.labels.as_slice()) {
            ("variable", [name]) => facts.variables.push(TfVariable {
                name: name.as_str().to_owned(),
                default: block
                    .body
                    .get_attribute("default")
                    .map(|a| spanned_text(&a.value).value),
            }),
            ("locals", []) => {
                for attr in block.body.attributes() {
                    facts.locals.push((
                        attr.key.as_str().to_owned(),
                        spanned_text(&attr.value).value,
                    ));
                }
            }
            ("module", [_]) => facts.modules.push(module_call(&block.body)),
            // Terragrunt: an included file may hold inputs of its own.
            ("include", _) => facts.sets_any_variable = true,
            _ => {}
        }
    }
}

fn object_key(key: &hcl_edit::expr::ObjectKey) -> Option<String> {
    match key {
        hcl_edit::expr::ObjectKey::Ident(ident) => Some(ident.as_str().to_owned()),
        hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => Some(s.as_str().to_owned()),
        hcl_edit::expr::ObjectKey::Expression(_) => None,
    }
}

fn module_call(body: &Body) -> TfModuleCall {
    let source = body
        .get_attribute("source")
        .map_or(TfText::Unknown, |a| spanned_text(&a.value).value);
    // A local module's files are read like any others; what a remote one creates is unseen.
    let remote = match &source {
        TfText::Known(s) => !is_local_source(s),
        _ => true,
    };
    let mut references_gsa = false;
    let mut inputs = Vec::new();
    for attr in body.attributes() {
        references_gsa |= mentions(&attr.value, "google_service_account");
        inputs.push((
            attr.key.as_str().to_owned(),
            spanned_text(&attr.value).value,
        ));
    }
    TfModuleCall {
        source,
        inputs,
        may_bind_service_accounts: remote || references_gsa,
    }
}

/// A module `source` that is a path in this repository (Terraform reads `./` and `../` sources as
/// local paths, everything else as a registry or remote address).
pub fn is_local_source(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

/// Whether the expression's source text names `word` anywhere (a reference, a string, a
/// nested object); cheap and conservative.
fn mentions(expr: &Expression, word: &str) -> bool {
    expr.to_string().contains(word)
}

/// Project-, folder- and organization-level grants of the Workload Identity role (or of a role
/// this module cannot read, or of a whole policy) let members impersonate every service
/// account below them.
fn is_wide_grant(kind: &str, body: &Body) -> bool {
    let wide = [
        "google_project_iam_",
        "google_folder_iam_",
        "google_organization_iam_",
    ];
    let Some(rest) = wide.iter().find_map(|p| kind.strip_prefix(p)) else {
        return false;
    };
    match rest {
        "policy" => true,
        "member" | "binding" => grants_workload_identity(body),
        _ => false,
    }
}

/// The account a `google_service_account_iam_*` resource is about.
fn service_account_of(res: &Resource<'_>, index: &Index) -> TfText {
    res.body
        .get_attribute("service_account_id")
        .map_or(TfText::Unknown, |attr| gsa_account_id(&attr.value, index))
}

/// A `resource "<kind>" "<name>" { ... }` block.
struct Resource<'a> {
    kind: &'a str,
    name: &'a str,
    name_span: Range<usize>,
    body: &'a Body,
}

fn resources(body: &Body) -> impl Iterator<Item = Resource<'_>> {
    body.blocks()
        .filter(|block| block.has_ident("resource"))
        .filter_map(|block| match block.labels.as_slice() {
            [kind, name] => Some(Resource {
                kind: kind.as_str(),
                name: name.as_str(),
                name_span: span_of(name),
                body: &block.body,
            }),
            _ => None,
        })
}

// Values that come out of the parser always carry a span; the fallback only keeps us total.
fn span_of(node: &impl Span) -> Range<usize> {
    node.span().unwrap_or_default()
}

/// Resources that other resources refer to by address, keyed by resource label.
struct Index {
    gsa_account_ids: HashMap<String, TfText>,
    s3_bucket_names: HashMap<String, Spanned<TfText>>,
}

impl Index {
    fn build(resources: &[Resource<'_>]) -> Index {
        let mut index = Index {
            gsa_account_ids: HashMap::new(),
            s3_bucket_names: HashMap::new(),
        };
        // Terraform rejects duplicate addresses; keeping the first one is as good as any.
        for res in resources {
            match res.kind {
                "google_service_account" => {
                    let account_id = attr_text(res, "account_id").value;
                    index
                        .gsa_account_ids
                        .entry(res.name.to_owned())
                        .or_insert(account_id);
                }
                "aws_s3_bucket" => {
                    let bucket = attr_text(res, "bucket");
                    index
                        .s3_bucket_names
                        .entry(res.name.to_owned())
                        .or_insert(bucket);
                }
                _ => {}
            }
        }
        index
    }

    fn gsa_account_id(&self, label: &str) -> TfText {
        // Declared in another file of the module, perhaps.
        self.gsa_account_ids
            .get(label)
            .cloned()
            .unwrap_or_else(|| TfText::Template(vec![TfPart::AccountOf(label.to_owned())]))
    }
}

// ---------------------------------------------------------------------------------------------
// Buckets

fn gcs_bucket(res: &Resource<'_>) -> Option<TfBucket> {
    let rules: Vec<TfDeleteRule> = res
        .body
        .get_blocks("lifecycle_rule")
        .filter(|rule| is_gcs_delete_rule(rule))
        .flat_map(|rule| rule.body.get_blocks("condition"))
        .filter_map(|condition| gcs_delete_rule(&condition.body))
        .collect();
    bucket("gcs", attr_text(res, "name"), rules)
}

fn is_gcs_delete_rule(rule: &Block) -> bool {
    rule.body
        .get_blocks("action")
        .any(|action| is_literal(&action.body, "type", "Delete"))
}

/// A GCS condition deletes an object when all its conditions hold. Only `age` with an optional
/// `matches_prefix` (and conditions that do not narrow which live objects match) is evaluated;
/// anything else narrows the rule in a way this module cannot follow.
fn gcs_delete_rule(condition: &Body) -> Option<TfDeleteRule> {
    let age = int_attr(condition, "age")?;
    let mut scope = TfScope::Bucket;
    for attr in condition.attributes() {
        match attr.key.as_str() {
            "age" | "send_age_if_zero" => {}
            "with_state"
                if is_literal(condition, "with_state", "LIVE")
                    || is_literal(condition, "with_state", "ANY") => {}
            "matches_prefix" => scope = prefix_list(&attr.value),
            // Generated code writes empty lists for the filters it does not use.
            _ if attr
                .value
                .as_array()
                .is_some_and(|a| a.iter().next().is_none()) => {}
            _ => scope = TfScope::Unknown,
        }
        if scope == TfScope::Unknown {
            break;
        }
    }
    Some(TfDeleteRule { age, scope })
}

/// `["a/", "b/"]`: an empty list filters nothing.
fn prefix_list(expr: &Expression) -> TfScope {
    match expr.as_array() {
        Some(items) if items.iter().next().is_none() => TfScope::Bucket,
        Some(items) => TfScope::Prefixes(items.iter().map(|e| spanned_text(e).value).collect()),
        None => TfScope::Unknown,
    }
}

/// The deprecated AWS provider v3 form with `lifecycle_rule` blocks inside `aws_s3_bucket`.
fn s3_legacy_bucket(res: &Resource<'_>) -> Option<TfBucket> {
    let rules = res
        .body
        .get_blocks("lifecycle_rule")
        .filter(|rule| {
            let enabled = rule.body.get_attribute("enabled");
            enabled.and_then(|attr| attr.value.as_bool()) == Some(true)
        })
        .filter_map(|rule| {
            let scope = if rule.body.get_attribute("tags").is_some() {
                TfScope::Unknown
            } else {
                rule.body
                    .get_attribute("prefix")
                    .map_or(TfScope::Bucket, |a| single_prefix(&a.value))
            };
            expiration_rule(rule, scope)
        })
        .collect();
    bucket("s3", attr_text(res, "bucket"), rules)
}

fn s3_lifecycle_bucket(res: &Resource<'_>, index: &Index) -> Option<TfBucket> {
    // A rule whose status is not spelled out may well be disabled; claiming it deletes objects
    // would risk a false report.
    let rules = res
        .body
        .get_blocks("rule")
        .filter(|rule| is_literal(&rule.body, "status", "Enabled"))
        .filter_map(|rule| expiration_rule(rule, s3_rule_scope(&rule.body)))
        .collect();
    bucket("s3", s3_bucket_name(res, index), rules)
}

/// The scope of an `aws_s3_bucket_lifecycle_configuration` rule: its `filter` block (empty, a
/// `prefix`, or an `and` holding only a `prefix`), or the deprecated rule-level `prefix`.
/// Tag and object-size filters are not evaluated.
fn s3_rule_scope(rule: &Body) -> TfScope {
    let mut filters = rule.get_blocks("filter");
    let Some(filter) = filters.next() else {
        return rule
            .get_attribute("prefix")
            .map_or(TfScope::Bucket, |a| single_prefix(&a.value));
    };
    if filters.next().is_some() {
        return TfScope::Unknown;
    }
    let mut scope = TfScope::Bucket;
    for structure in filter.body.iter() {
        scope = match (structure.as_attribute(), structure.as_block()) {
            (Some(attr), _) if attr.key.as_str() == "prefix" => single_prefix(&attr.value),
            (_, Some(and)) if and.ident.as_str() == "and" => {
                let only_prefix = and
                    .body
                    .iter()
                    .all(|s| s.as_attribute().is_some_and(|a| a.key.as_str() == "prefix"));
                match and.body.get_attribute("prefix") {
                    Some(a) if only_prefix => single_prefix(&a.value),
                    _ => TfScope::Unknown,
                }
            }
            _ => TfScope::Unknown,
        };
        if scope == TfScope::Unknown {
            break;
        }
    }
    scope
}

fn single_prefix(expr: &Expression) -> TfScope {
    match spanned_text(expr).value {
        TfText::Known(p) if p.is_empty() => TfScope::Bucket,
        text => TfScope::Prefixes(vec![text]),
    }
}

fn expiration_rule(rule: &Block, scope: TfScope) -> Option<TfDeleteRule> {
    let age = rule
        .body
        .get_blocks("expiration")
        .find_map(|expiration| int_attr(&expiration.body, "days"))?;
    Some(TfDeleteRule { age, scope })
}

fn bucket(
    provider: &'static str,
    name: Spanned<TfText>,
    delete_rules: Vec<TfDeleteRule>,
) -> Option<TfBucket> {
    (!delete_rules.is_empty()).then_some(TfBucket {
        provider,
        name,
        delete_rules,
    })
}

/// Resolves `bucket = aws_s3_bucket.<label>.id` to the literal name declared by that bucket.
fn s3_bucket_name(res: &Resource<'_>, index: &Index) -> Spanned<TfText> {
    let Some(attr) = res.body.get_attribute("bucket") else {
        return unknown_at(res.name_span.clone());
    };
    let Some(label) = resource_reference(&attr.value, "aws_s3_bucket", &["id", "bucket"]) else {
        return spanned_text(&attr.value);
    };
    match index.s3_bucket_names.get(label) {
        Some(name) if name.value != TfText::Unknown => name.clone(),
        _ => unknown_at(span_of(&attr.value)),
    }
}

// ---------------------------------------------------------------------------------------------
// Service accounts and Workload Identity

fn service_account(res: &Resource<'_>) -> TfServiceAccount {
    TfServiceAccount {
        resource_name: res.name.to_owned(),
        account_id: attr_text(res, "account_id"),
        project: res
            .body
            .get_attribute("project")
            .map(|a| spanned_text(&a.value).value),
    }
}

const WORKLOAD_IDENTITY_USER: &str = "roles/iam.workloadIdentityUser";

/// Attributes of `google_service_account` that embed its account id (`name` and `id` are
/// `projects/<p>/serviceAccounts/<email>`).
const GSA_ATTRIBUTES: &[&str] = &["name", "id", "email", "account_id"];

/// The Workload Identity members of a `google_service_account_iam_member` / `_iam_binding`,
/// and whether some member could not be read (it may be one).
fn wi_members(res: &Resource<'_>, index: &Index) -> (Vec<TfWiMember>, bool) {
    if !grants_workload_identity(res.body) {
        return (Vec::new(), false);
    }
    let gsa_account_id = service_account_of(res, index);
    let mut unreadable = res
        .body
        .get_attribute("members")
        .is_some_and(|attr| attr.value.as_array().is_none());
    let mut members = Vec::new();
    for expr in member_expressions(res.body) {
        let Some(flat) = Flat::from_expr(expr) else {
            unreadable = true;
            continue;
        };
        match parse_member(&flat) {
            Some((namespace, ksa)) => members.push(TfWiMember {
                gsa_account_id: gsa_account_id.clone(),
                namespace,
                ksa,
                span: span_of(expr),
            }),
            // An interpolated member, or a principal set (a whole namespace or pool), may
            // well let the Cluster's service account in.
            None if flat.text.contains(flat.hole)
                || flat.text.starts_with("principalSet://")
                || flat.text.starts_with("principal://") =>
            {
                unreadable = true
            }
            None => {}
        }
    }
    (members, unreadable)
}

fn grants_workload_identity(body: &Body) -> bool {
    let Some(attr) = body.get_attribute("role") else {
        return false;
    };
    // A role we cannot read might be the Workload Identity one; the members decide.
    match Flat::from_expr(&attr.value).map(|flat| flat.whole()) {
        Some(TfText::Known(role)) => role == WORKLOAD_IDENTITY_USER,
        _ => true,
    }
}

// `member` belongs to `_iam_member` and `members` to `_iam_binding`; neither appears in the
// other, so both can be read unconditionally.
fn member_expressions(body: &Body) -> impl Iterator<Item = &Expression> {
    let single = body.get_attribute("member").map(|attr| &attr.value);
    let listed = body
        .get_attribute("members")
        .and_then(|attr| attr.value.as_array())
        .into_iter()
        .flat_map(|array| array.iter());
    single.into_iter().chain(listed)
}

/// Resolves a `service_account_id` expression to the account id of the Google SA.
fn gsa_account_id(expr: &Expression, index: &Index) -> TfText {
    if let Some(label) = resource_reference(expr, "google_service_account", GSA_ATTRIBUTES) {
        return index.gsa_account_id(label);
    }
    match Flat::from_expr(expr) {
        Some(flat) => account_id_in_text(&flat, index),
        None => TfText::Unknown,
    }
}

/// Reads the account id out of `projects/<p>/serviceAccounts/<id>@<p>.iam.gserviceaccount.com`,
/// `<id>@<domain>`, or a bare `<id>`.
fn account_id_in_text(flat: &Flat<'_>, index: &Index) -> TfText {
    let (local_part, has_at) = match flat.text.split_once('@') {
        Some((local_part, _)) => (local_part, true),
        None => (flat.text.as_str(), false),
    };
    let (path, id) = match local_part.rsplit_once('/') {
        Some((path, id)) => (Some(path), id),
        None => (None, local_part),
    };

    // `.../serviceAccounts/${google_service_account.x.email}` names the account by reference.
    if let Some(expr) = flat.sole_hole(path.unwrap_or_default(), id) {
        return match resource_reference(expr, "google_service_account", GSA_ATTRIBUTES) {
            Some(label) => index.gsa_account_id(label),
            None => TfText::Unknown,
        };
    }
    // Without an email, the last path segment is the numeric unique id, not the account id.
    if id.is_empty() || (!has_at && path.is_some()) {
        return TfText::Unknown;
    }
    flat.part(id)
}

const PRINCIPAL_PREFIX: &str = "principal://iam.googleapis.com/projects/";

/// Extracts `(namespace, ksa)` from a Workload Identity member; `None` for any other member.
fn parse_member(flat: &Flat<'_>) -> Option<(TfText, TfText)> {
    if let Some(rest) = flat.text.strip_prefix("serviceAccount:") {
        return gke_member(flat, rest);
    }
    if let Some(rest) = flat.text.strip_prefix(PRINCIPAL_PREFIX) {
        return principal_member(flat, rest);
    }
    None
}

/// `serviceAccount:<project>.svc.id.goog[<ns>/<ksa>]`.
fn gke_member(flat: &Flat<'_>, rest: &str) -> Option<(TfText, TfText)> {
    let (pool, subject) = rest.strip_suffix(']')?.rsplit_once('[')?;
    if !is_gke_pool(flat, pool) {
        return None;
    }
    subject_parts(flat, subject, "/")
}

/// `principal://iam.googleapis.com/projects/<n>/locations/global/workloadIdentityPools/<project>.svc.id.goog/subject/ns/<ns>/sa/<ksa>`.
fn principal_member(flat: &Flat<'_>, rest: &str) -> Option<(TfText, TfText)> {
    let (_project, pool_path) = rest.split_once("/workloadIdentityPools/")?;
    let (pool, subject) = pool_path.split_once("/subject/ns/")?;
    if !is_gke_pool(flat, pool) {
        return None;
    }
    subject_parts(flat, subject, "/sa/")
}

// The pool is often interpolated whole, e.g. from the cluster's `workload_pool` attribute.
fn is_gke_pool(flat: &Flat<'_>, pool: &str) -> bool {
    pool.ends_with(".svc.id.goog") || pool.ends_with(flat.hole)
}

fn subject_parts(flat: &Flat<'_>, subject: &str, separator: &str) -> Option<(TfText, TfText)> {
    match subject.split_once(separator) {
        Some((namespace, ksa)) => Some((k8s_name(flat, namespace)?, k8s_name(flat, ksa)?)),
        // `[${each.value}]` may hold both parts, separator included.
        None if subject.contains(flat.hole) => Some((TfText::Unknown, TfText::Unknown)),
        None => None,
    }
}

// Kubernetes names never contain '/', so a literal one means this is not a member we understand.
fn k8s_name(flat: &Flat<'_>, text: &str) -> Option<TfText> {
    if text.is_empty() || text.contains('/') {
        return None;
    }
    Some(flat.part(text))
}

// ---------------------------------------------------------------------------------------------
// Expression helpers

/// Reads `attr` of a resource as text, spanned over its value; a missing attribute is unknown and
/// points at the resource label so diagnostics still have somewhere to go.
fn attr_text(res: &Resource<'_>, attr: &str) -> Spanned<TfText> {
    match res.body.get_attribute(attr) {
        Some(attr) => spanned_text(&attr.value),
        None => unknown_at(res.name_span.clone()),
    }
}

fn spanned_text(expr: &Expression) -> Spanned<TfText> {
    let value = match Flat::from_expr(expr) {
        Some(flat) => flat.whole(),
        None => match symbol(unwrap_interpolation(expr)) {
            Some(part) => TfText::Template(vec![part]),
            None => TfText::Unknown,
        },
    };
    Spanned {
        value,
        span: span_of(expr),
    }
}

/// `var.NAME` or `local.NAME`, with nothing after it.
fn symbol(expr: &Expression) -> Option<TfPart> {
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    let Expression::Variable(root) = &traversal.expr else {
        return None;
    };
    let [op] = traversal.operators.as_slice() else {
        return None;
    };
    let TraversalOperator::GetAttr(name) = op.value() else {
        return None;
    };
    let name = name.as_str().to_owned();
    match root.as_str() {
        "var" => Some(TfPart::Var(name)),
        "local" => Some(TfPart::Local(name)),
        _ => None,
    }
}

fn unknown_at(span: Range<usize>) -> Spanned<TfText> {
    Spanned {
        value: TfText::Unknown,
        span,
    }
}

fn is_literal(body: &Body, attr: &str, expected: &str) -> bool {
    body.get_attribute(attr)
        .and_then(|attr| Flat::from_expr(&attr.value))
        .is_some_and(|flat| flat.text == expected)
}

/// An integer literal that fits in `u32`; anything computed is not a fact we can report.
fn int_attr(body: &Body, attr: &str) -> Option<Spanned<u32>> {
    let expr = &body.get_attribute(attr)?.value;
    let Expression::Number(number) = expr else {
        return None;
    };
    Some(Spanned {
        value: u32::try_from(number.as_u64()?).ok()?,
        span: span_of(expr),
    })
}

/// Matches `<kind>.<label>.<attr>` (optionally indexed, `<kind>.<label>[0].<attr>`) with `attr`
/// one of `attrs`, and returns the label. An instance index does not change literal attributes,
/// so all instances resolve alike.
fn resource_reference<'a>(expr: &'a Expression, kind: &str, attrs: &[&str]) -> Option<&'a str> {
    use TraversalOperator::{GetAttr, Index, LegacyIndex};

    let Expression::Traversal(traversal) = unwrap_interpolation(expr) else {
        return None;
    };
    let Expression::Variable(root) = &traversal.expr else {
        return None;
    };
    if root.as_str() != kind {
        return None;
    }
    let operators: Vec<&TraversalOperator> =
        traversal.operators.iter().map(|op| op.value()).collect();
    match operators.as_slice() {
        [GetAttr(label), GetAttr(attr)]
        | [GetAttr(label), Index(_) | LegacyIndex(_), GetAttr(attr)]
            if attrs.contains(&attr.as_str()) =>
        {
            Some(label.as_str())
        }
        _ => None,
    }
}

/// `"${expr}"` means the same as `expr` (HCL interpolation unwrapping).
fn unwrap_interpolation(expr: &Expression) -> &Expression {
    match expr {
        Expression::StringTemplate(template) => match template.as_single_element() {
            Some(Element::Interpolation(interpolation)) => &interpolation.expr,
            _ => expr,
        },
        Expression::Parenthesis(parens) => unwrap_interpolation(parens.inner()),
        _ => expr,
    }
}

/// A quoted string flattened to text in which every interpolation or directive is replaced by
/// `hole`, a char that occurs in no literal part. Plain `str` searches then see only literal
/// text, and a part is known exactly when it contains no `hole`.
struct Flat<'a> {
    text: String,
    hole: char,
    /// The expression of each hole in order; `None` for template directives.
    holes: Vec<Option<&'a Expression>>,
}

impl<'a> Flat<'a> {
    /// `None` for anything but a quoted string; heredocs are left out as their text carries
    /// a trailing newline that no name or member would have.
    fn from_expr(expr: &'a Expression) -> Option<Flat<'a>> {
        match expr {
            Expression::String(literal) => Some(Flat {
                text: literal.as_str().to_owned(),
                hole: unused_char(&[literal.as_str()])?,
                holes: Vec::new(),
            }),
            Expression::StringTemplate(template) => Flat::from_template(template),
            Expression::Parenthesis(parens) => Flat::from_expr(parens.inner()),
            _ => None,
        }
    }

    fn from_template(template: &'a Template) -> Option<Flat<'a>> {
        let literals: Vec<&str> = template
            .iter()
            .filter_map(|element| element.as_literal().map(|literal| literal.as_str()))
            .collect();
        let hole = unused_char(&literals)?;
        let mut flat = Flat {
            text: String::new(),
            hole,
            holes: Vec::new(),
        };
        for element in template.iter() {
            match element {
                Element::Literal(literal) => flat.text.push_str(literal.value()),
                Element::Interpolation(interpolation) => {
                    flat.text.push(hole);
                    flat.holes.push(Some(&interpolation.expr));
                }
                Element::Directive(_) => {
                    flat.text.push(hole);
                    flat.holes.push(None);
                }
            }
        }
        Some(flat)
    }

    /// The whole text: known, a template of module inputs and locals, or unknown.
    fn whole(&self) -> TfText {
        if !self.text.contains(self.hole) {
            return TfText::Known(self.text.clone());
        }
        let mut parts = Vec::new();
        let mut holes = self.holes.iter();
        for (i, piece) in self.text.split(self.hole).enumerate() {
            if i > 0 {
                let Some(part) = holes.next().copied().flatten().and_then(symbol) else {
                    return TfText::Unknown;
                };
                parts.push(part);
            }
            if !piece.is_empty() {
                parts.push(TfPart::Text(piece.to_owned()));
            }
        }
        TfText::Template(parts)
    }

    fn part(&self, text: &str) -> TfText {
        if text.contains(self.hole) {
            TfText::Unknown
        } else {
            TfText::Known(text.to_owned())
        }
    }

    /// The expression interpolated as `part` when `part` is exactly one hole; `preceding` must
    /// hold every hole of `text` that comes before `part`.
    fn sole_hole(&self, preceding: &str, part: &str) -> Option<&'a Expression> {
        if part.chars().ne([self.hole]) {
            return None;
        }
        let ordinal = preceding.matches(self.hole).count();
        self.holes.get(ordinal).copied().flatten()
    }
}

/// Picks a private-use char absent from every literal, to stand for holes.
fn unused_char(literals: &[&str]) -> Option<char> {
    ('\u{E000}'..='\u{F8FF}')
        .find(|candidate| literals.iter().all(|literal| !literal.contains(*candidate)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(source: &str) -> TfFacts {
        extract(source).unwrap()
    }

    fn known(text: &str) -> TfText {
        TfText::Known(text.to_owned())
    }

    fn slice<'s>(source: &'s str, span: &Range<usize>) -> &'s str {
        &source[span.clone()]
    }

    fn days(bucket: &TfBucket) -> Vec<u32> {
        bucket.delete_rules.iter().map(|d| d.age.value).collect()
    }

    // --- buckets --------------------------------------------------------------------------

    #[test]
    fn gcs_bucket_with_delete_rule() {
        let src = r#"
resource "google_storage_bucket" "backups" {
  name     = "pg-backups"
  location = "EU"

  lifecycle_rule {
    action {
      type = "Delete"
    }
    condition {
      age = 30
    }
  }
}
"#;
        let facts = facts(src);
        assert_eq!(facts.buckets.len(), 1);
        let bucket = &facts.buckets[0];
        assert_eq!(bucket.provider, "gcs");
        assert_eq!(bucket.name.value, known("pg-backups"));
        assert_eq!(slice(src, &bucket.name.span), "\"pg-backups\"");
        assert_eq!(days(bucket), [30]);
        assert_eq!(slice(src, &bucket.delete_rules[0].age.span), "30");
    }

    #[test]
    fn gcs_bucket_collects_every_delete_rule_and_skips_the_rest() {
        let src = r#"
resource "google_storage_bucket" "backups" {
  name = "pg-backups"
  lifecycle_rule {
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
    condition { age = 7 }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 90 }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = var.retention_days }
  }
  dynamic "lifecycle_rule" {
    for_each = var.rules
    content {
      action { type = "Delete" }
      condition { age = 1 }
    }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 365 }
  }
}
"#;
        let facts = facts(src);
        assert_eq!(facts.buckets.len(), 1);
        assert_eq!(days(&facts.buckets[0]), [90, 365]);
        let spans: Vec<&str> = facts.buckets[0]
            .delete_rules
            .iter()
            .map(|d| slice(src, &d.age.span))
            .collect();
        assert_eq!(spans, ["90", "365"]);
    }

    #[test]
    fn gcs_bucket_without_delete_rule_is_not_reported() {
        let src = r#"
resource "google_storage_bucket" "archive" {
  name = "archive"
  lifecycle_rule {
    action { type = "SetStorageClass" }
    condition { age = 30 }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition { num_newer_versions = 3 }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 1.5 }
  }
}
resource "google_storage_bucket" "plain" {
  name = "plain"
}
"#;
        assert!(facts(src).buckets.is_empty());
    }

    #[test]
    fn gcs_bucket_with_interpolated_or_missing_name_is_unknown() {
        let src = r#"
resource "google_storage_bucket" "backups" {
  name = "${var.project}-pg-backups"
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 14 }
  }
}
resource "google_storage_bucket" "nameless" {
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 3 }
  }
}
"#;
        let facts = facts(src);
        assert_eq!(facts.buckets.len(), 2);
        // Resolved, or not, with the module's other files (`tf_module`).
        assert_eq!(
            facts.buckets[0].name.value,
            TfText::Template(vec![
                TfPart::Var("project".into()),
                TfPart::Text("-pg-backups".into())
            ])
        );
        assert_eq!(
            slice(src, &facts.buckets[0].name.span),
            "\"${var.project}-pg-backups\""
        );
        assert_eq!(facts.buckets[1].name.value, TfText::Unknown);
        assert_eq!(slice(src, &facts.buckets[1].name.span), "\"nameless\"");
    }

    #[test]
    fn s3_lifecycle_configuration_resolves_referenced_bucket() {
        let src = r#"
resource "aws_s3_bucket" "backups" {
  bucket = "cnpg-backups"
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "expire"
    status = "Enabled"
    expiration {
      days = 30
    }
  }
  rule {
    id     = "old"
    status = "Disabled"
    expiration {
      days = 1
    }
  }
  rule {
    id     = "versions"
    status = "Enabled"
    noncurrent_version_expiration {
      noncurrent_days = 5
    }
  }
  rule {
    id     = "later"
    status = "Enabled"
    filter { prefix = "wals/" }
    expiration { days = 60 }
  }
}
"#;
        let facts = facts(src);
        assert_eq!(facts.buckets.len(), 1);
        let bucket = &facts.buckets[0];
        assert_eq!(bucket.provider, "s3");
        assert_eq!(bucket.name.value, known("cnpg-backups"));
        assert_eq!(slice(src, &bucket.name.span), "\"cnpg-backups\"");
        assert_eq!(days(bucket), [30, 60]);
        assert_eq!(slice(src, &bucket.delete_rules[0].age.span), "30");
    }

    #[test]
    fn s3_lifecycle_configuration_bucket_forms() {
        let src = r#"
resource "aws_s3_bucket" "named" {
  bucket = "named-bucket"
}
resource "aws_s3_bucket" "prefixed" {
  bucket_prefix = "cnpg-"
}
resource "aws_s3_bucket_lifecycle_configuration" "literal" {
  bucket = "literal-bucket"
  rule {
    status = "Enabled"
    expiration { days = 1 }
  }
}
resource "aws_s3_bucket_lifecycle_configuration" "by_name" {
  bucket = aws_s3_bucket.named.bucket
  rule {
    status = "Enabled"
    expiration { days = 2 }
  }
}
resource "aws_s3_bucket_lifecycle_configuration" "unresolvable" {
  bucket = aws_s3_bucket.prefixed.id
  rule {
    status = "Enabled"
    expiration { days = 3 }
  }
}
resource "aws_s3_bucket_lifecycle_configuration" "missing" {
  bucket = aws_s3_bucket.elsewhere.id
  rule {
    status = "Enabled"
    expiration { days = 4 }
  }
}
resource "aws_s3_bucket_lifecycle_configuration" "variable" {
  bucket = var.bucket
  rule {
    status = "Enabled"
    expiration { days = 5 }
  }
}
resource "aws_s3_bucket_lifecycle_configuration" "wrapped" {
  bucket = "${aws_s3_bucket.named.id}"
  rule {
    status = "Enabled"
    expiration { days = 6 }
  }
}
"#;
        let facts = facts(src);
        let names: Vec<(&TfText, &str, Vec<u32>)> = facts
            .buckets
            .iter()
            .map(|b| (&b.name.value, slice(src, &b.name.span), days(b)))
            .collect();
        assert_eq!(
            names,
            [
                (&known("literal-bucket"), "\"literal-bucket\"", vec![1]),
                (&known("named-bucket"), "\"named-bucket\"", vec![2]),
                (&TfText::Unknown, "aws_s3_bucket.prefixed.id", vec![3]),
                (&TfText::Unknown, "aws_s3_bucket.elsewhere.id", vec![4]),
                (
                    &TfText::Template(vec![TfPart::Var("bucket".into())]),
                    "var.bucket",
                    vec![5]
                ),
                (&known("named-bucket"), "\"named-bucket\"", vec![6]),
            ]
        );
    }

    #[test]
    fn s3_lifecycle_configuration_without_enabled_expiration_is_not_reported() {
        let src = r#"
resource "aws_s3_bucket_lifecycle_configuration" "x" {
  bucket = "b"
  rule {
    status = "Disabled"
    expiration { days = 1 }
  }
  rule {
    status = var.status
    expiration { days = 2 }
  }
  rule {
    status = "Enabled"
    transition {
      days          = 30
      storage_class = "GLACIER"
    }
  }
}
"#;
        assert!(facts(src).buckets.is_empty());
    }

    #[test]
    fn s3_legacy_inline_lifecycle_rule() {
        let src = r#"
resource "aws_s3_bucket" "legacy" {
  bucket = "legacy-backups"
  lifecycle_rule {
    enabled = true
    expiration {
      days = 45
    }
  }
  lifecycle_rule {
    enabled = false
    expiration {
      days = 2
    }
  }
}
resource "aws_s3_bucket" "modern" {
  bucket = "modern"
}
"#;
        let facts = facts(src);
        assert_eq!(facts.buckets.len(), 1);
        let bucket = &facts.buckets[0];
        assert_eq!(bucket.provider, "s3");
        assert_eq!(bucket.name.value, known("legacy-backups"));
        assert_eq!(slice(src, &bucket.name.span), "\"legacy-backups\"");
        assert_eq!(days(bucket), [45]);
        assert_eq!(slice(src, &bucket.delete_rules[0].age.span), "45");
    }

    // --- service accounts -----------------------------------------------------------------

    #[test]
    fn google_service_accounts() {
        let src = r#"
resource "google_service_account" "cnpg" {
  account_id   = "cnpg-backup"
  display_name = "CNPG backups"
}
resource "google_service_account" "per_env" {
  account_id = "cnpg-${var.env}"
}
"#;
        let facts = facts(src);
        assert_eq!(facts.service_accounts.len(), 2);
        let cnpg = &facts.service_accounts[0];
        assert_eq!(cnpg.resource_name, "cnpg");
        assert_eq!(cnpg.account_id.value, known("cnpg-backup"));
        assert_eq!(slice(src, &cnpg.account_id.span), "\"cnpg-backup\"");
        let per_env = &facts.service_accounts[1];
        assert_eq!(per_env.resource_name, "per_env");
        assert_eq!(
            per_env.account_id.value,
            TfText::Template(vec![
                TfPart::Text("cnpg-".into()),
                TfPart::Var("env".into())
            ])
        );
        assert_eq!(slice(src, &per_env.account_id.span), "\"cnpg-${var.env}\"");
    }

    // --- Workload Identity ----------------------------------------------------------------

    #[test]
    fn iam_member_with_gke_member_and_reference() {
        let src = r#"
resource "google_service_account" "cnpg" {
  account_id = "cnpg-backup"
}
resource "google_service_account_iam_member" "wi" {
  service_account_id = google_service_account.cnpg.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[db/pg]"
}
"#;
        let facts = facts(src);
        assert_eq!(facts.wi_members.len(), 1);
        let member = &facts.wi_members[0];
        assert_eq!(member.gsa_account_id, known("cnpg-backup"));
        assert_eq!(member.namespace, known("db"));
        assert_eq!(member.ksa, known("pg"));
        assert_eq!(
            slice(src, &member.span),
            "\"serviceAccount:${var.project_id}.svc.id.goog[db/pg]\""
        );
    }

    #[test]
    fn iam_member_literal_member_span() {
        let src = r#"resource "google_service_account_iam_member" "wi" {
  service_account_id = "cnpg@p.iam.gserviceaccount.com"
  role = "roles/iam.workloadIdentityUser"
  member = "serviceAccount:p.svc.id.goog[db/pg]"
}"#;
        let facts = facts(src);
        assert_eq!(facts.wi_members.len(), 1);
        assert_eq!(
            slice(src, &facts.wi_members[0].span),
            "\"serviceAccount:p.svc.id.goog[db/pg]\""
        );
        assert_eq!(facts.wi_members[0].gsa_account_id, known("cnpg"));
    }

    #[test]
    fn iam_binding_members_keep_only_workload_identity_members() {
        let src = r#"
resource "google_service_account" "cnpg" {
  account_id = "cnpg-backup"
}
resource "google_service_account_iam_binding" "wi" {
  service_account_id = google_service_account.cnpg.id
  role               = "roles/iam.workloadIdentityUser"
  members = [
    "user:alice@example.com",
    "serviceAccount:my-project.svc.id.goog[db/pg]",
    "group:dba@example.com",
    "serviceAccount:other@my-project.iam.gserviceaccount.com",
    "principal://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/my-project.svc.id.goog/subject/ns/analytics/sa/reporter",
    "principalSet://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/my-project.svc.id.goog/namespace/db",
    "serviceAccount:${google_container_cluster.main.workload_identity_config[0].workload_pool}[ops/backup]",
    local.extra_member,
  ]
}
"#;
        let facts = facts(src);
        let members: Vec<(&TfText, &TfText, &TfText, &str)> = facts
            .wi_members
            .iter()
            .map(|m| (&m.gsa_account_id, &m.namespace, &m.ksa, slice(src, &m.span)))
            .collect();
        let gsa = known("cnpg-backup");
        assert_eq!(
            members,
            [
                (
                    &gsa,
                    &known("db"),
                    &known("pg"),
                    "\"serviceAccount:my-project.svc.id.goog[db/pg]\""
                ),
                (
                    &gsa,
                    &known("analytics"),
                    &known("reporter"),
                    "\"principal://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/my-project.svc.id.goog/subject/ns/analytics/sa/reporter\""
                ),
                (
                    &gsa,
                    &known("ops"),
                    &known("backup"),
                    "\"serviceAccount:${google_container_cluster.main.workload_identity_config[0].workload_pool}[ops/backup]\""
                ),
            ]
        );
    }

    #[test]
    fn principal_member_with_interpolations() {
        let src = r#"
resource "google_service_account_iam_member" "wi" {
  service_account_id = "projects/p/serviceAccounts/cnpg@p.iam.gserviceaccount.com"
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/projects/${var.number}/locations/global/workloadIdentityPools/${var.project}.svc.id.goog/subject/ns/${var.ns}/sa/pg"
}
"#;
        let facts = facts(src);
        assert_eq!(facts.wi_members.len(), 1);
        let member = &facts.wi_members[0];
        assert_eq!(member.gsa_account_id, known("cnpg"));
        assert_eq!(member.namespace, TfText::Unknown);
        assert_eq!(member.ksa, known("pg"));
    }

    #[test]
    fn interpolation_inside_brackets_makes_that_part_unknown() {
        let src = r#"
resource "google_service_account_iam_binding" "wi" {
  service_account_id = "cnpg"
  role               = "roles/iam.workloadIdentityUser"
  members = [
    "serviceAccount:p.svc.id.goog[${var.namespace}/pg]",
    "serviceAccount:p.svc.id.goog[db/${var.ksa}]",
    "serviceAccount:p.svc.id.goog[${var.subject}]",
    "serviceAccount:p.svc.id.goog[db-${var.env}/pg-${var.env}]",
  ]
}
"#;
        let facts = facts(src);
        let parts: Vec<(&TfText, &TfText)> = facts
            .wi_members
            .iter()
            .map(|m| (&m.namespace, &m.ksa))
            .collect();
        let unknown = TfText::Unknown;
        assert_eq!(
            parts,
            [
                (&unknown, &known("pg")),
                (&known("db"), &unknown),
                (&unknown, &unknown),
                (&unknown, &unknown),
            ]
        );
        assert!(facts
            .wi_members
            .iter()
            .all(|m| m.gsa_account_id == known("cnpg")));
    }

    #[test]
    fn malformed_gke_members_are_ignored() {
        let src = r#"
resource "google_service_account_iam_binding" "wi" {
  service_account_id = "cnpg"
  role               = "roles/iam.workloadIdentityUser"
  members = [
    "serviceAccount:p.svc.id.goog[db]",
    "serviceAccount:p.svc.id.goog[/pg]",
    "serviceAccount:p.svc.id.goog[db/pg/x]",
    "serviceAccount:p.example.com[db/pg]",
    "serviceAccount:p.svc.id.goog[db/pg",
    "serviceAccount:${var.member}",
    "${var.member}",
    "",
  ]
}
"#;
        assert!(facts(src).wi_members.is_empty());
    }

    #[test]
    fn for_each_driven_member_is_unknown() {
        let src = r#"
resource "google_service_account" "cnpg" {
  for_each   = toset(["a", "b"])
  account_id = "cnpg-${each.key}"
}
resource "google_service_account_iam_member" "wi" {
  for_each           = var.bindings
  service_account_id = google_service_account.cnpg[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project}.svc.id.goog[${each.value.namespace}/${each.value.ksa}]"
}
resource "google_service_account_iam_member" "direct" {
  for_each           = var.bindings
  service_account_id = each.value.gsa
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project}.svc.id.goog[db/${each.key}]"
}
resource "google_service_account_iam_member" "opaque" {
  for_each           = var.bindings
  service_account_id = each.value.gsa
  role               = "roles/iam.workloadIdentityUser"
  member             = each.value.member
}
"#;
        let facts = facts(src);
        assert_eq!(facts.wi_members.len(), 2);
        let first = &facts.wi_members[0];
        assert_eq!(first.gsa_account_id, TfText::Unknown);
        assert_eq!(first.namespace, TfText::Unknown);
        assert_eq!(first.ksa, TfText::Unknown);
        let second = &facts.wi_members[1];
        assert_eq!(second.gsa_account_id, TfText::Unknown);
        assert_eq!(second.namespace, known("db"));
        assert_eq!(second.ksa, TfText::Unknown);
    }

    #[test]
    fn role_must_be_workload_identity_user_unless_unreadable() {
        let src = r#"
resource "google_service_account_iam_member" "token_creator" {
  service_account_id = "a"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:p.svc.id.goog[db/one]"
}
resource "google_service_account_iam_member" "variable_role" {
  service_account_id = "b"
  role               = var.role
  member             = "serviceAccount:p.svc.id.goog[db/two]"
}
resource "google_service_account_iam_member" "templated_role" {
  service_account_id = "c"
  role               = "roles/${var.role}"
  member             = "serviceAccount:p.svc.id.goog[db/three]"
}
resource "google_service_account_iam_member" "no_role" {
  service_account_id = "d"
  member             = "serviceAccount:p.svc.id.goog[db/four]"
}
"#;
        let facts = facts(src);
        let ksas: Vec<&TfText> = facts.wi_members.iter().map(|m| &m.ksa).collect();
        assert_eq!(ksas, [&known("two"), &known("three")]);
    }

    fn gsa_of(service_account_id: &str) -> TfText {
        let src = format!(
            r#"
resource "google_service_account" "cnpg" {{
  account_id = "cnpg-backup"
}}
resource "google_service_account" "dyn" {{
  account_id = var.account_id
}}
resource "google_service_account_iam_member" "wi" {{
  service_account_id = {service_account_id}
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:p.svc.id.goog[db/pg]"
}}
"#
        );
        let facts = facts(&src);
        assert_eq!(facts.wi_members.len(), 1, "{service_account_id}");
        facts.wi_members[0].gsa_account_id.clone()
    }

    #[test]
    fn service_account_id_resolution() {
        let cases = [
            ("google_service_account.cnpg.name", known("cnpg-backup")),
            ("google_service_account.cnpg.id", known("cnpg-backup")),
            ("google_service_account.cnpg.email", known("cnpg-backup")),
            (
                "google_service_account.cnpg.account_id",
                known("cnpg-backup"),
            ),
            ("google_service_account.cnpg[0].name", known("cnpg-backup")),
            (
                r#""${google_service_account.cnpg.name}""#,
                known("cnpg-backup"),
            ),
            ("google_service_account.cnpg.display_name", TfText::Unknown),
            (
                "google_service_account.dyn.name",
                TfText::Template(vec![TfPart::Var("account_id".into())]),
            ),
            // Maybe declared in another file of the module (`tf_module` resolves it).
            (
                "google_service_account.absent.name",
                TfText::Template(vec![TfPart::AccountOf("absent".into())]),
            ),
            ("data.google_service_account.cnpg.name", TfText::Unknown),
            (
                r#""projects/p/serviceAccounts/cnpg@p.iam.gserviceaccount.com""#,
                known("cnpg"),
            ),
            (r#""cnpg@p.iam.gserviceaccount.com""#, known("cnpg")),
            (r#""cnpg""#, known("cnpg")),
            (
                r#""projects/${var.p}/serviceAccounts/cnpg@${var.p}.iam.gserviceaccount.com""#,
                known("cnpg"),
            ),
            (
                r#""projects/${var.p}/serviceAccounts/${var.sa}@${var.p}.iam.gserviceaccount.com""#,
                TfText::Unknown,
            ),
            (
                r#""projects/${var.p}/serviceAccounts/${google_service_account.cnpg.email}""#,
                known("cnpg-backup"),
            ),
            (
                r#""projects/${var.p}/serviceAccounts/${var.email}""#,
                TfText::Unknown,
            ),
            (
                r#""projects/p/serviceAccounts/1234567890""#,
                TfText::Unknown,
            ),
            (r#""${var.sa}""#, TfText::Unknown),
            ("var.sa", TfText::Unknown),
            ("each.value", TfText::Unknown),
            (r#""""#, TfText::Unknown),
        ];
        for (expr, expected) in cases {
            assert_eq!(gsa_of(expr), expected, "{expr}");
        }
    }

    #[test]
    fn missing_service_account_id_is_unknown() {
        let src = r#"
resource "google_service_account_iam_member" "wi" {
  role   = "roles/iam.workloadIdentityUser"
  member = "serviceAccount:p.svc.id.goog[db/pg]"
}
"#;
        assert_eq!(facts(src).wi_members[0].gsa_account_id, TfText::Unknown);
    }

    #[test]
    fn escapes_are_decoded_and_escaped_markers_are_literal() {
        let src = r#"
resource "google_service_account" "a" {
  account_id = "cnpg\u002dbackup"
}
resource "google_service_account" "b" {
  account_id = "cnpg-$${x}"
}
"#;
        let facts = facts(src);
        assert_eq!(
            facts.service_accounts[0].account_id.value,
            known("cnpg-backup")
        );
        assert_eq!(
            facts.service_accounts[1].account_id.value,
            known("cnpg-${x}")
        );
    }

    #[test]
    fn literal_containing_the_first_hole_candidate_is_not_confused_with_a_hole() {
        let src = "resource \"google_service_account_iam_member\" \"wi\" {\n  \
                   service_account_id = \"cnpg\"\n  \
                   role = \"roles/iam.workloadIdentityUser\"\n  \
                   member = \"serviceAccount:${var.p}.svc.id.goog[db\u{E000}/pg]\"\n}\n";
        let facts = facts(src);
        assert_eq!(facts.wi_members.len(), 1);
        assert_eq!(facts.wi_members[0].namespace, known("db\u{E000}"));
    }

    // --- scope and robustness -------------------------------------------------------------

    #[test]
    fn only_resource_blocks_are_read() {
        let src = r#"
data "google_service_account" "cnpg" {
  account_id = "from-data"
}
module "google_service_account" {
  source     = "./sa"
  account_id = "from-module"
}
locals {
  google_service_account = { account_id = "from-locals" }
}
resource "google_service_account" {
  account_id = "one-label"
}
google_service_account "x" {
  account_id = "not-a-resource"
}
"#;
        let facts = facts(src);
        assert!(facts.buckets.is_empty());
        assert!(facts.service_accounts.is_empty());
        assert!(facts.wi_members.is_empty());
        assert!(facts.other_grants.is_empty());
    }

    #[test]
    fn module_level_values_are_recorded_for_resolution() {
        let src = r#"
variable "env" {
  default = "prod"
}
variable "required" {}
locals {
  bucket = "${var.env}-pg"
}
module "wi" {
  source = "terraform-google-modules/kubernetes-engine/google//modules/workload-identity"
  name   = "cnpg"
}
module "net" {
  source = "./net"
  cidr   = "10.0.0.0/8"
}
module "bindings" {
  source    = "git::https://github.com/acme/tf-gke-bindings.git?ref=v1.2.0"
  gsa_email = "pg@acme-prod.iam.gserviceaccount.com"
}
"#;
        let facts = facts(src);
        assert_eq!(
            facts.variables,
            [
                TfVariable {
                    name: "env".into(),
                    default: Some(known("prod"))
                },
                TfVariable {
                    name: "required".into(),
                    default: None
                },
            ]
        );
        assert_eq!(
            facts.locals,
            [(
                "bucket".to_string(),
                TfText::Template(vec![TfPart::Var("env".into()), TfPart::Text("-pg".into())])
            )]
        );
        let binds: Vec<bool> = facts
            .modules
            .iter()
            .map(|m| m.may_bind_service_accounts)
            .collect();
        assert_eq!(binds, [true, false, true]);
        assert_eq!(facts.modules[1].source, known("./net"));
    }

    #[test]
    fn tfvars_and_terragrunt_inputs_are_assignments() {
        let names = |src: &str| -> Vec<String> {
            facts(src).assignments.into_iter().map(|(n, _)| n).collect()
        };
        assert_eq!(names("env = \"dev\"\nregion = \"eu\"\n"), ["env", "region"]);
        assert_eq!(
            names("inputs = {\n  env = \"dev\"\n  \"bucket\" = \"b\"\n}\n"),
            ["env", "bucket", "inputs"]
        );
    }

    #[test]
    fn lifecycle_rule_scopes() {
        let src = r#"
resource "google_storage_bucket" "g" {
  name = "g"
  lifecycle_rule {
    action { type = "Delete" }
    condition {
      age            = 1
      matches_prefix = ["tmp/", "cnpg/"]
    }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition {
      age            = 2
      matches_suffix = [".tmp"]
    }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition {
      age        = 3
      with_state = "ARCHIVED"
    }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition {
      age        = 4
      with_state = "LIVE"
    }
  }
}
resource "aws_s3_bucket_lifecycle_configuration" "s" {
  bucket = "s"
  rule {
    status = "Enabled"
    filter {}
    expiration { days = 5 }
  }
  rule {
    status = "Enabled"
    filter { prefix = "tmp/" }
    expiration { days = 6 }
  }
  rule {
    status = "Enabled"
    filter {
      and {
        prefix = "logs/"
        tags   = { a = "b" }
      }
    }
    expiration { days = 7 }
  }
  rule {
    status = "Enabled"
    filter {
      tag {
        key   = "a"
        value = "b"
      }
    }
    expiration { days = 8 }
  }
  rule {
    status = "Enabled"
    prefix = ""
    expiration { days = 9 }
  }
  rule {
    status = "Enabled"
    filter { prefix = local.p }
    expiration { days = 10 }
  }
}
resource "aws_s3_bucket" "legacy" {
  bucket = "legacy"
  lifecycle_rule {
    enabled = true
    prefix  = "wal/"
    expiration { days = 11 }
  }
  lifecycle_rule {
    enabled = true
    tags    = { a = "b" }
    expiration { days = 12 }
  }
}
"#;
        let scopes: Vec<(u32, TfScope)> = facts(src)
            .buckets
            .iter()
            .flat_map(|b| {
                b.delete_rules
                    .iter()
                    .map(|r| (r.age.value, r.scope.clone()))
            })
            .collect();
        let p = |v: &[&str]| TfScope::Prefixes(v.iter().map(|s| known(s)).collect());
        assert_eq!(
            scopes,
            [
                (1, p(&["tmp/", "cnpg/"])),
                (2, TfScope::Unknown),
                (3, TfScope::Unknown),
                (4, TfScope::Bucket),
                (5, TfScope::Bucket),
                (6, p(&["tmp/"])),
                (7, TfScope::Unknown),
                (8, TfScope::Unknown),
                (9, TfScope::Bucket),
                (
                    10,
                    TfScope::Prefixes(vec![TfText::Template(vec![TfPart::Local("p".into())])])
                ),
                (11, p(&["wal/"])),
                (12, TfScope::Unknown),
            ]
        );
    }

    #[test]
    fn grants_other_than_readable_members() {
        let src = r#"
resource "google_service_account" "a" {
  account_id = "a"
}
resource "google_service_account_iam_policy" "a" {
  service_account_id = google_service_account.a.name
  policy_data        = data.google_iam_policy.a.policy_data
}
resource "google_service_account_iam_member" "b" {
  service_account_id = "projects/p/serviceAccounts/b@p.iam.gserviceaccount.com"
  role               = "roles/iam.workloadIdentityUser"
  member             = each.value
}
resource "google_service_account_iam_member" "c" {
  service_account_id = "projects/p/serviceAccounts/c@p.iam.gserviceaccount.com"
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:p.svc.id.goog[db/c]"
}
resource "google_service_account_iam_member" "d" {
  service_account_id = "projects/p/serviceAccounts/d@p.iam.gserviceaccount.com"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = each.value
}
resource "google_service_account_iam_member" "e" {
  service_account_id = "projects/p/serviceAccounts/e@p.iam.gserviceaccount.com"
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.member}"
}
resource "google_service_account_iam_member" "f" {
  service_account_id = "projects/p/serviceAccounts/f@p.iam.gserviceaccount.com"
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/namespace/db"
}
resource "google_service_account_iam_member" "g" {
  service_account_id = "projects/p/serviceAccounts/g@p.iam.gserviceaccount.com"
  role               = "roles/iam.workloadIdentityUser"
  member             = "user:someone@example.com"
}
resource "google_project_iam_member" "wide" {
  project = "p"
  role    = "roles/iam.workloadIdentityUser"
  member  = "serviceAccount:p.svc.id.goog[db/x]"
}
resource "google_project_iam_member" "other" {
  project = "p"
  role    = "roles/storage.admin"
  member  = "serviceAccount:p.svc.id.goog[db/x]"
}
"#;
        assert_eq!(
            facts(src).other_grants,
            [
                known("a"),
                known("b"),
                known("e"),
                known("f"),
                TfText::Unknown
            ]
        );
    }

    #[test]
    fn empty_input_has_no_facts() {
        assert_eq!(facts(""), TfFacts::default());
        assert_eq!(facts("\n  # just a comment\n"), TfFacts::default());
    }

    #[test]
    fn parse_error_reports_offset() {
        let src = "resource \"google_service_account\" \"x\" {\n  account_id = \n}\n";
        let err = extract(src).unwrap_err();
        assert!(!err.message.is_empty());
        // The value is missing: the error points at the line break where it should have been.
        assert_eq!(err.offset, src.find(" \n}").unwrap() + 1);
        assert!(err.to_string().contains(&err.message));
    }

    #[test]
    fn parse_error_offset_is_a_char_boundary() {
        for src in ["a = \"ééé", "é", "resource \"é\" {", "x = [ \"ü\" ", "}}}"] {
            let err = extract(src).unwrap_err();
            assert!(err.offset <= src.len(), "{src}");
            assert!(src.is_char_boundary(err.offset), "{src}");
        }
    }

    const FIXTURE: &str = r#"
resource "google_service_account" "cnpg" { account_id = "cnpg-backup" }
resource "google_service_account_iam_binding" "wi" {
  service_account_id = "projects/${var.p}/serviceAccounts/${google_service_account.cnpg.email}"
  role    = "roles/iam.workloadIdentityUser"
  members = ["serviceAccount:${var.p}.svc.id.goog[db/pg]", "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/é/sa/ü"]
}
resource "aws_s3_bucket" "b" { bucket = "bé" }
resource "aws_s3_bucket_lifecycle_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    status = "Enabled"
    expiration { days = 7 }
  }
}
resource "google_storage_bucket" "g" {
  name = "g-${var.x}"
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 4294967296 }
  }
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 4294967295 }
  }
}
"#;

    #[test]
    fn fixture_extracts_everything() {
        let facts = facts(FIXTURE);
        assert_eq!(facts.service_accounts.len(), 1);
        assert_eq!(facts.wi_members.len(), 2);
        assert!(facts
            .wi_members
            .iter()
            .all(|m| m.gsa_account_id == known("cnpg-backup")));
        assert_eq!(facts.wi_members[1].namespace, known("é"));
        assert_eq!(facts.buckets.len(), 2);
        assert_eq!(facts.buckets[0].name.value, known("bé"));
        assert_eq!(slice(FIXTURE, &facts.buckets[0].name.span), "\"bé\"");
        // 2^32 days does not fit in u32 and is dropped rather than truncated.
        assert_eq!(days(&facts.buckets[1]), [u32::MAX]);
    }

    #[test]
    fn truncated_input_never_panics() {
        for end in (0..=FIXTURE.len()).filter(|&end| FIXTURE.is_char_boundary(end)) {
            if let Ok(facts) = extract(&FIXTURE[..end]) {
                check_spans(&FIXTURE[..end], &facts);
            }
        }
    }

    #[test]
    fn random_garbage_never_panics() {
        const ALPHABET: &[&str] = &[
            "resource",
            "\"",
            "{",
            "}",
            "[",
            "]",
            "(",
            ")",
            "=",
            " ",
            "\n",
            "${",
            "%{",
            "}",
            "/",
            "@",
            ".",
            "a",
            "é",
            "0",
            "9",
            "<<EOT\n",
            "\nEOT\n",
            "#",
            "//",
            "/*",
            "*/",
            ",",
            ":",
            "?",
            "\\",
            "each",
            "google_service_account",
            "lifecycle_rule",
            "member",
            "~",
        ];
        // Fixed-seed xorshift keeps the test deterministic without a rand dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = next() % 64;
            let garbage: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            match extract(&garbage) {
                Ok(facts) => check_spans(&garbage, &facts),
                Err(err) => assert!(garbage.is_char_boundary(err.offset), "{garbage:?}"),
            }
        }
    }

    /// Every span handed out must slice the source it came from.
    fn check_spans(source: &str, facts: &TfFacts) {
        let spans = facts
            .buckets
            .iter()
            .flat_map(|b| {
                std::iter::once(b.name.span.clone())
                    .chain(b.delete_rules.iter().map(|d| d.age.span.clone()))
            })
            .chain(
                facts
                    .service_accounts
                    .iter()
                    .map(|s| s.account_id.span.clone()),
            )
            .chain(facts.wi_members.iter().map(|m| m.span.clone()));
        for span in spans {
            assert!(source.get(span.clone()).is_some(), "{span:?} in {source:?}");
        }
    }
}
