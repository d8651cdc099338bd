//! Field management and server-side apply, as kube-apiserver v1.36 does them
//! with structured-merge-diff: `metadata.managedFields` (FieldsV1), the
//! merge of an applied configuration into the live object, the removal of
//! fields a manager stops applying, and 409 conflicts with other managers.
//!
//! The shape of each kind comes from the strategic-merge schema
//! ([`crate::strategic`]): lists with a merge key are associative lists
//! (`k:{...}` elements; container ports are keyed by containerPort and
//! protocol, service ports by port and protocol, topology spread
//! constraints by topologyKey and whenUnsatisfiable, as upstream's
//! `x-kubernetes-list-map-keys`), primitive merge lists are sets (`v:...`),
//! every other list is atomic. Label selectors, node selectors and service
//! selectors are atomic maps, as upstream marks them.
//!
//! Where the sandbox differs, it says so in the docs: it does not know which
//! struct fields are pointers, so entries written by updates carry the `.`
//! marker only for list elements (upstream also marks maps and pointer
//! structs a request added); conflicts compare values per leaf, as upstream.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::resets::FieldPath;
use crate::status::ApiError;
use crate::strategic::{self, Field, Schema, Strategy};

/// A path in FieldsV1 form: `f:name`, `k:{"key":value}`, `v:value`.
pub type Path = Vec<String>;

/// A set of paths (the members of a FieldsV1 set).
pub type FieldSet = BTreeSet<Path>;

/// The user-agent prefix upstream names an unnamed manager after.
pub fn manager_from_user_agent(ua: &str) -> String {
    let prefix = ua.split('/').next().unwrap_or_default();
    prefix.chars().take(128).collect()
}

// ---------------------------------------------------------------------------
// The shape of a kind

#[derive(Clone, Copy)]
enum ListKind {
    Atomic,
    Set,
    Map(&'static [&'static str]),
}

fn list_kind(f: Option<&'static Field>) -> ListKind {
    match f {
        Some(f) if f.strategy == Strategy::Merge && f.merge_key.is_empty() => ListKind::Set,
        Some(f) if f.strategy == Strategy::Merge => ListKind::Map(match (f.name, f.merge_key) {
            ("ports", "containerPort") => &["containerPort", "protocol"],
            ("ports", "port") => &["port", "protocol"],
            ("topologySpreadConstraints", _) => &["topologyKey", "whenUnsatisfiable"],
            _ => std::slice::from_ref(&f.merge_key),
        }),
        _ => ListKind::Atomic,
    }
}

/// Defaults of key fields that applied configurations may leave out.
fn key_default(key: &str) -> Option<Value> {
    match key {
        "protocol" => Some(json!("TCP")),
        "whenUnsatisfiable" => Some(json!("DoNotSchedule")),
        _ => None,
    }
}

/// Maps that upstream marks `x-kubernetes-map-type: atomic`.
fn atomic_map(name: &str) -> bool {
    matches!(name, "selector" | "nodeSelector" | "labelSelector" | "namespaceSelector" | "podSelector" | "objectSelector")
}

fn child(schema: Option<&'static Schema>, name: &str) -> (Option<&'static Field>, Option<&'static Schema>) {
    let f = schema.and_then(|s| s.field(name));
    (f, f.and_then(|f| f.schema))
}

/// The `k:` element of an associative list item, or None when the item
/// has none of the keys.
fn item_key(item: &Value, keys: &[&str]) -> Option<String> {
    let obj = item.as_object()?;
    let mut fields = BTreeMap::new();
    for k in keys {
        match obj.get(*k).filter(|v| !v.is_null()).cloned().or_else(|| key_default(k)) {
            Some(v) => {
                fields.insert(k.to_string(), v);
            }
            None if keys.len() == 1 => return None,
            None => {}
        }
    }
    if fields.is_empty() {
        return None;
    }
    let m: Map<String, Value> = fields.into_iter().collect();
    Some(format!("k:{}", Value::Object(m)))
}

// ---------------------------------------------------------------------------
// Field sets of values

/// What a path holds: a leaf's value, or an associative-list item.
#[derive(Debug, Clone, PartialEq)]
enum Member {
    Leaf(Value),
    Item,
}

/// Every member of `v` (an object of the kind described by `schema`), with
/// what it holds.
fn members(v: &Value, schema: &'static Schema) -> BTreeMap<Path, Member> {
    let mut out = BTreeMap::new();
    if let Some(m) = v.as_object() {
        walk_map(m, Some(schema), &mut Vec::new(), &mut out);
    }
    out
}

fn walk_map(m: &Map<String, Value>, schema: Option<&'static Schema>, path: &mut Path, out: &mut BTreeMap<Path, Member>) {
    for (k, v) in m {
        let (f, s) = child(schema, k);
        path.push(format!("f:{k}"));
        walk_value(k, v, f, s, path, out);
        path.pop();
    }
}

fn walk_value(
    name: &str,
    v: &Value,
    f: Option<&'static Field>,
    s: Option<&'static Schema>,
    path: &mut Path,
    out: &mut BTreeMap<Path, Member>,
) {
    match v {
        Value::Object(m) if !m.is_empty() && !atomic_map(name) => walk_map(m, s, path, out),
        Value::Array(items) if !items.is_empty() => match list_kind(f) {
            ListKind::Set if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                for i in items {
                    path.push(format!("v:{i}"));
                    out.insert(path.clone(), Member::Leaf(i.clone()));
                    path.pop();
                }
            }
            ListKind::Map(keys) if items.iter().all(|i| item_key(i, keys).is_some()) => {
                for i in items {
                    path.push(item_key(i, keys).unwrap_or_default());
                    out.insert(path.clone(), Member::Item);
                    if let Some(m) = i.as_object() {
                        walk_map(m, s, path, out);
                    }
                    path.pop();
                }
            }
            _ => {
                out.insert(path.clone(), Member::Leaf(v.clone()));
            }
        },
        _ => {
            out.insert(path.clone(), Member::Leaf(v.clone()));
        }
    }
}

/// Whether a path is one no manager owns: type and identity fields, what
/// the system sets, and what the request's endpoint resets from the stored
/// object (upstream's `GetResetFields`, see [`crate::resets`]: the status
/// for the main resource of kinds with a status subresource, the spec and
/// for some kinds some metadata for the status subresource), with
/// everything below them.
fn ignored(p: &Path, reset: &[FieldPath]) -> bool {
    let first = p.first().map(String::as_str).unwrap_or_default();
    if matches!(first, "f:apiVersion" | "f:kind") {
        return true;
    }
    if first == "f:metadata"
        && let Some(second) = p.get(1)
        && matches!(
            second.as_str(),
            "f:name"
                | "f:namespace"
                | "f:uid"
                | "f:resourceVersion"
                | "f:generation"
                | "f:creationTimestamp"
                | "f:deletionTimestamp"
                | "f:deletionGracePeriodSeconds"
                | "f:selfLink"
                | "f:managedFields"
        )
    {
        return true;
    }
    reset.iter().any(|r| r.len() <= p.len() && r.iter().zip(p).all(|(name, pe)| pe.strip_prefix("f:") == Some(*name)))
}

fn managed_members(v: &Value, schema: &'static Schema, reset: &[FieldPath]) -> BTreeMap<Path, Member> {
    members(v, schema).into_iter().filter(|(p, _)| !ignored(p, reset)).collect()
}

// ---------------------------------------------------------------------------
// FieldsV1

/// A FieldsV1 object from a set.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for p in set {
        let mut node = &mut root;
        for (i, pe) in p.iter().enumerate() {
            let entry = node.entry(pe.clone()).or_insert_with(|| json!({}));
            let m = entry.as_object_mut().expect("FieldsV1 nodes are objects");
            if i + 1 == p.len() && set.range(p.clone()..).nth(1).is_some_and(|next| next.starts_with(p)) {
                m.insert(".".into(), json!({}));
            }
            node = m;
        }
    }
    // A node that is a member and has children says so with ".".
    Value::Object(root)
}

/// The set a FieldsV1 object holds.
pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    fn walk(v: &Value, path: &mut Path, out: &mut FieldSet) -> Result<(), String> {
        let Some(m) = v.as_object() else {
            return Err(format!("expected a FieldsV1 object at {}, found {v}", path.join(".")));
        };
        if m.is_empty() && !path.is_empty() {
            out.insert(path.clone());
        }
        for (k, c) in m {
            if k == "." {
                out.insert(path.clone());
                continue;
            }
            if !(k.starts_with("f:") || k.starts_with("k:") || k.starts_with("v:") || k.starts_with("i:")) {
                return Err(format!("unexpected FieldsV1 key {k:?}"));
            }
            path.push(k.clone());
            walk(c, path, out)?;
            path.pop();
        }
        Ok(())
    }
    walk(v, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// A path as upstream prints it in conflicts: `.spec.containers[name="app"].image`.
pub fn path_string(p: &Path) -> String {
    let mut s = String::new();
    for pe in p {
        if let Some(f) = pe.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let fields: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = pe.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Managers

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: String,
    /// "Apply" or "Update".
    pub operation: String,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: String,
    pub set: FieldSet,
}

impl Entry {
    /// Upstream's manager identity: name, operation, subresource, and the
    /// apiVersion for updates.
    fn same_manager(&self, other: &Entry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == "Apply" || self.api_version == other.api_version)
    }

    /// How a conflict names this manager.
    fn describe(&self) -> String {
        let mut s = rudder_common::field::go_quote(&self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {}", rudder_common::field::go_quote(&self.subresource)));
        }
        if self.operation == "Update" {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }

    fn to_value(&self) -> Value {
        let mut v = json!({"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version});
        if let Some(t) = &self.time {
            v["time"] = json!(t);
        }
        v["fieldsType"] = json!("FieldsV1");
        v["fieldsV1"] = to_fields_v1(&self.set);
        if !self.subresource.is_empty() {
            v["subresource"] = json!(self.subresource);
        }
        v
    }
}

/// The entries of an object's `metadata.managedFields`.
pub fn read_entries(obj: &Value) -> Result<Vec<Entry>, String> {
    let Some(list) = obj.pointer("/metadata/managedFields").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in list {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        if let Some(t) = e.get("fieldsType").and_then(Value::as_str)
            && t != "FieldsV1"
        {
            return Err(format!("invalid fieldsType {t:?}: only FieldsV1 is supported"));
        }
        let set = match e.get("fieldsV1") {
            Some(f) => from_fields_v1(f)?,
            None => FieldSet::new(),
        };
        out.push(Entry {
            manager: s("manager"),
            operation: s("operation"),
            api_version: s("apiVersion"),
            time: e.get("time").and_then(Value::as_str).map(String::from),
            subresource: s("subresource"),
            set,
        });
    }
    Ok(out)
}

/// Writes the entries into `obj`, dropping empty ones and sorting them as
/// upstream does (Apply before Update, then by time, manager, apiVersion).
pub fn write_entries(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|a, b| {
        (a.operation.as_str(), a.time.as_deref().unwrap_or(""), a.manager.as_str(), a.api_version.as_str(), a.subresource.as_str()).cmp(&(
            b.operation.as_str(),
            b.time.as_deref().unwrap_or(""),
            b.manager.as_str(),
            b.api_version.as_str(),
            b.subresource.as_str(),
        ))
    });
    let m = crate::meta::meta_mut(obj);
    if entries.is_empty() {
        m.remove("managedFields");
    } else {
        m.insert("managedFields".into(), Value::Array(entries.iter().map(Entry::to_value).collect()));
    }
}

/// Who writes, and through which part of the API.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    /// "" for the main resource.
    pub subresource: &'a str,
    /// What the endpoint written through resets from the stored object
    /// ([`crate::resets::for_write`]): no manager owns it through there.
    pub reset: &'a [FieldPath],
    pub now: &'a str,
}

impl Writer<'_> {
    fn entry(&self, operation: &str, set: FieldSet) -> Entry {
        Entry {
            manager: self.manager.to_string(),
            operation: operation.to_string(),
            api_version: self.api_version.to_string(),
            time: Some(self.now.to_string()),
            subresource: self.subresource.to_string(),
            set,
        }
    }
}

/// Converts the field sets of entries written through another version of
/// the resource (Events: core v1 and events.k8s.io/v1) to the writer's
/// version (`to_writer`), so that ownership is compared in one version, or
/// back to their own. Entries keep their apiVersion, as upstream stores them.
fn convert_sets(kind: &str, entries: &mut [Entry], writer_version: &str, to_writer: bool) {
    for e in entries.iter_mut().filter(|e| e.api_version != writer_version) {
        let (from, to) = if to_writer { (e.api_version.as_str(), writer_version) } else { (writer_version, e.api_version.as_str()) };
        e.set = e
            .set
            .iter()
            .map(|p| {
                let mut p = p.clone();
                crate::convert::field_path(kind, from, to, &mut p);
                p
            })
            .collect();
    }
}

/// Whether the request replaces the managed fields the object carries:
/// upstream takes a non-empty list as given, keeps the stored ones for a
/// missing or empty list, and a list of one empty entry strips them.
fn requested_entries(new: &Value, old: Option<&Value>) -> Result<Vec<Entry>, ApiError> {
    let bad = |e: String| ApiError::bad_request(format!("error decoding managedFields: {e}"));
    match new.pointer("/metadata/managedFields") {
        Some(Value::Array(list)) if list.len() == 1 && list[0].as_object().is_some_and(|m| m.is_empty()) => Ok(Vec::new()),
        Some(Value::Array(list))
            if !list.is_empty() && Some(new.pointer("/metadata/managedFields")) != old.map(|o| o.pointer("/metadata/managedFields")) =>
        {
            read_entries(new).map_err(bad)
        }
        _ => old.map(read_entries).transpose().map_err(bad).map(Option::unwrap_or_default),
    }
}

/// Records a non-apply write (create, update, patch) of `new` over `old`
/// (None for a create): the writer's Update entry takes the fields the
/// write added or changed, which every other manager loses; fields the
/// write removed leave every manager.
pub fn track_update(group: &str, kind: &str, old: Option<&Value>, new: &mut Value, w: &Writer<'_>) -> Result<(), ApiError> {
    let schema = strategic::schema_for(group, kind);
    let mut entries = requested_entries(new, old)?;
    convert_sets(kind, &mut entries, w.api_version, true);
    let before = old.map(|o| managed_members(o, schema, w.reset)).unwrap_or_default();
    let after = managed_members(new, schema, w.reset);
    let changed: FieldSet = after.iter().filter(|(p, m)| before.get(*p) != Some(*m)).map(|(p, _)| p.clone()).collect();
    let removed: FieldSet = before.keys().filter(|p| !after.contains_key(*p)).cloned().collect();
    let mine = w.entry("Update", FieldSet::new());
    for e in &mut entries {
        if !e.same_manager(&mine) {
            e.set.retain(|p| !changed.contains(p) && !removed.contains(p));
        } else {
            e.set.retain(|p| !removed.contains(p));
        }
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| e.same_manager(&mine)) {
            Some(e) => {
                e.set.extend(changed);
                e.time = Some(w.now.to_string());
            }
            None => entries.push(w.entry("Update", changed)),
        }
    }
    convert_sets(kind, &mut entries, w.api_version, false);
    write_entries(new, entries);
    Ok(())
}

// ---------------------------------------------------------------------------
// Apply

/// The result of applying a configuration.
#[derive(Debug)]
pub struct Applied {
    /// The merged object, with its new managedFields.
    pub object: Value,
}

/// Applies `config` as `w.manager` to `live` (None when the object does not
/// exist yet), as upstream's structured-merge-diff does: merge, conflicts
/// with other managers (unless `force`, which takes their fields), removal
/// of the fields this manager applied before and applies no more (unless
/// another manager owns them).
pub fn apply(group: &str, kind: &str, live: Option<&Value>, config: &Value, force: bool, w: &Writer<'_>) -> Result<Applied, ApiError> {
    let schema = strategic::schema_for(group, kind);
    let empty = json!({});
    let live_v = live.unwrap_or(&empty);
    let mut config = config.clone();
    // The configuration's own managedFields are not fields to apply.
    if let Some(m) = config.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    let applied_set: FieldSet = managed_members(&config, schema, w.reset).into_keys().collect();
    let mut merged = merge_value("", live_v, &config, None, Some(schema));
    // What the endpoint resets stays as it is.
    crate::resets::reset(live_v, &mut merged, w.reset);
    let mut entries =
        live.map(read_entries).transpose().map_err(|e| ApiError::internal(format!("managedFields: {e}")))?.unwrap_or_default();
    convert_sets(kind, &mut entries, w.api_version, true);
    let me = w.entry("Apply", applied_set.clone());
    let before = managed_members(live_v, schema, w.reset);
    let after = managed_members(&merged, schema, w.reset);
    let changed: FieldSet = after.iter().filter(|(p, m)| before.get(*p) != Some(*m)).map(|(p, _)| p.clone()).collect();
    // Conflicts: fields this apply changes that another manager owns.
    let mut conflicts: Vec<(String, Path)> = Vec::new();
    for e in entries.iter().filter(|e| !e.same_manager(&me)) {
        for p in e.set.intersection(&changed) {
            conflicts.push((e.describe(), p.clone()));
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(conflicts));
    }
    if force {
        for e in entries.iter_mut().filter(|e| !e.same_manager(&me)) {
            e.set.retain(|p| !changed.contains(p));
        }
    }
    // Fields this manager applied before and no longer applies go, unless
    // someone else owns them (or something below them).
    let previous = entries.iter().find(|e| e.same_manager(&me)).map(|e| e.set.clone()).unwrap_or_default();
    let others: FieldSet = entries.iter().filter(|e| !e.same_manager(&me)).flat_map(|e| e.set.iter().cloned()).collect();
    let owned_by_others = |p: &Path| others.range(p.clone()..).next().is_some_and(|o| o.starts_with(p));
    let mut to_remove: Vec<&Path> = previous.iter().filter(|p| !applied_set.contains(*p) && !owned_by_others(p)).collect();
    // Parents first, so that removing an item removes its fields with it.
    to_remove.sort();
    let mut removed: Vec<&Path> = Vec::new();
    for p in to_remove {
        if removed.iter().any(|r| p.starts_with(r)) {
            continue;
        }
        remove_path(&mut merged, p);
        removed.push(p);
    }
    entries.retain(|e| !e.same_manager(&me));
    entries.push(me);
    convert_sets(kind, &mut entries, w.api_version, false);
    write_entries(&mut merged, entries);
    Ok(Applied { object: merged })
}

fn conflict_error(conflicts: Vec<(String, Path)>) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, p)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {m}"), "field": path_string(p)}))
        .collect();
    let message = if conflicts.len() == 1 {
        format!("Apply failed with 1 conflict: conflict with {}: {}", conflicts[0].0, path_string(&conflicts[0].1))
    } else {
        let mut by_manager: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
        for (m, p) in &conflicts {
            by_manager.entry(m.as_str()).or_default().push(p);
        }
        let mut lines = Vec::new();
        for (m, paths) in by_manager {
            lines.push(format!("conflicts with {m}:"));
            lines.extend(paths.iter().map(|p| format!("- {}", path_string(p))));
        }
        format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
    };
    let mut e = ApiError::new(409, "Conflict", message);
    e.details = Some(json!({"causes": causes}));
    e
}

/// Merges an applied value into a live one.
fn merge_value(name: &str, live: &Value, cfg: &Value, f: Option<&'static Field>, s: Option<&'static Schema>) -> Value {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) if !atomic_map(name) => {
            let mut out = l.clone();
            for (k, cv) in c {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                let (cf, cs) = child(s, k);
                let merged = merge_value(k, l.get(k).unwrap_or(&Value::Null), cv, cf, cs);
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match list_kind(f) {
            ListKind::Set => {
                let mut out = l.clone();
                out.extend(c.iter().filter(|x| !l.contains(x)).cloned());
                out.retain(|x| c.contains(x) || l.contains(x));
                Value::Array(out)
            }
            ListKind::Map(keys) if l.iter().chain(c.iter()).all(|i| item_key(i, keys).is_some()) => {
                let key = |i: &Value| item_key(i, keys).unwrap_or_default();
                let live_keys: Vec<String> = l.iter().map(key).collect();
                let cfg_keys: Vec<String> = c.iter().map(key).collect();
                let merge_item = |k: &str| {
                    let li = l.iter().find(|i| key(i) == k);
                    let ci = c.iter().find(|i| key(i) == k);
                    match (li, ci) {
                        (Some(li), Some(ci)) => merge_value("", li, ci, None, s),
                        (Some(li), None) => li.clone(),
                        (None, Some(ci)) => ci.clone(),
                        (None, None) => Value::Null,
                    }
                };
                let order: Vec<String> = if live_keys.iter().all(|k| cfg_keys.contains(k)) {
                    cfg_keys.clone()
                } else {
                    live_keys.iter().cloned().chain(cfg_keys.iter().filter(|k| !live_keys.contains(k)).cloned()).collect()
                };
                Value::Array(order.iter().map(|k| merge_item(k)).collect())
            }
            _ => cfg.clone(),
        },
        _ => cfg.clone(),
    }
}

/// Removes what a path names from an object (a field, an associative-list
/// item, a set element); maps left empty by it go too.
fn remove_path(v: &mut Value, p: &[String]) {
    let Some((first, rest)) = p.split_first() else { return };
    if let Some(name) = first.strip_prefix("f:") {
        let Some(m) = v.as_object_mut() else { return };
        if rest.is_empty() {
            m.remove(name);
            return;
        }
        if let Some(c) = m.get_mut(name) {
            remove_path(c, rest);
            if c.as_object().is_some_and(|o| o.is_empty()) || c.as_array().is_some_and(|a| a.is_empty()) {
                m.remove(name);
            }
        }
    } else if let Some(k) = first.strip_prefix("k:") {
        let Some(items) = v.as_array_mut() else { return };
        let fields: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
        let matches = |i: &Value| fields.iter().all(|(n, want)| i.get(n).cloned().or_else(|| key_default(n)).as_ref() == Some(want));
        if rest.is_empty() {
            items.retain(|i| !matches(i));
        } else if let Some(i) = items.iter_mut().find(|i| matches(i)) {
            remove_path(i, rest);
        }
    } else if let Some(x) = first.strip_prefix("v:") {
        let Ok(x) = serde_json::from_str::<Value>(x) else { return };
        if let Some(items) = v.as_array_mut() {
            items.retain(|i| *i != x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-23T10:00:00Z";

    fn writer(manager: &str) -> Writer<'_> {
        Writer { manager, api_version: "apps/v1", subresource: "", reset: &[&["status"]], now: NOW }
    }

    fn deployment(replicas: i64, image: &str, labels: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": image, "ports": [{"containerPort": 80}]}]},
                },
            },
        })
    }

    #[test]
    fn fields_v1_of_an_applied_deployment() {
        let applied =
            apply("apps", "Deployment", None, &deployment(2, "nginx:1", json!({"team": "a"})), false, &writer("kubectl")).unwrap();
        let mf = &applied.object["metadata"]["managedFields"];
        assert_eq!(mf.as_array().unwrap().len(), 1);
        assert_eq!(mf[0]["manager"], "kubectl");
        assert_eq!(mf[0]["operation"], "Apply");
        assert_eq!(
            mf[0]["fieldsV1"],
            json!({
                "f:metadata": {"f:labels": {"f:team": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}},
                        }}},
                    },
                },
            })
        );
        // FieldsV1 reads back to the same set.
        let set = from_fields_v1(&mf[0]["fieldsV1"]).unwrap();
        assert_eq!(to_fields_v1(&set), mf[0]["fieldsV1"]);
    }

    #[test]
    fn a_field_no_longer_applied_is_removed_unless_someone_else_owns_it() {
        let w = writer("helm");
        let first = apply("apps", "Deployment", None, &deployment(2, "nginx:1", json!({"team": "a", "tier": "web"})), false, &w).unwrap();
        // Someone else adds a label with an update.
        let mut edited = first.object.clone();
        edited["metadata"]["labels"]["owner"] = json!("ops");
        track_update("apps", "Deployment", Some(&first.object), &mut edited, &writer("kubectl-label")).unwrap();
        let second = apply("apps", "Deployment", Some(&edited), &deployment(2, "nginx:1", json!({"team": "a"})), false, &w).unwrap();
        assert_eq!(second.object["metadata"]["labels"], json!({"team": "a", "owner": "ops"}));
    }

    #[test]
    fn changing_a_field_another_manager_owns_conflicts_unless_forced() {
        let first = apply("apps", "Deployment", None, &deployment(2, "nginx:1", json!({})), false, &writer("helm")).unwrap();
        let mut scaled = first.object.clone();
        scaled["spec"]["replicas"] = json!(5);
        track_update("apps", "Deployment", Some(&first.object), &mut scaled, &writer("kubectl-scale")).unwrap();
        // helm no longer owns replicas: the update took it.
        let entries = read_entries(&scaled).unwrap();
        let helm = entries.iter().find(|e| e.manager == "helm").unwrap();
        assert!(!helm.set.contains(&vec!["f:spec".to_string(), "f:replicas".to_string()]));

        let e = apply("apps", "Deployment", Some(&scaled), &deployment(3, "nginx:1", json!({})), false, &writer("other")).unwrap_err();
        assert_eq!((e.code, e.reason), (409, "Conflict"));
        assert_eq!(e.message, "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas");
        assert_eq!(
            e.details.unwrap()["causes"],
            json!([{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-scale\" using apps/v1", "field": ".spec.replicas"}])
        );
        // The same value is shared, not a conflict.
        apply("apps", "Deployment", Some(&scaled), &deployment(5, "nginx:1", json!({})), false, &writer("other")).unwrap();
        // Forced: the applier takes the field.
        let forced = apply("apps", "Deployment", Some(&scaled), &deployment(3, "nginx:2", json!({})), true, &writer("other")).unwrap();
        assert_eq!(forced.object["spec"]["replicas"], 3);
        let entries = read_entries(&forced.object).unwrap();
        let scale = entries.iter().find(|e| e.manager == "kubectl-scale");
        assert!(scale.is_none(), "kubectl-scale owned only replicas and lost it: {entries:?}");
    }

    #[test]
    fn several_conflicts_are_listed_by_manager() {
        let first = apply("apps", "Deployment", None, &deployment(2, "nginx:1", json!({})), false, &writer("helm")).unwrap();
        let e =
            apply("apps", "Deployment", Some(&first.object), &deployment(3, "nginx:2", json!({})), false, &writer("kubectl")).unwrap_err();
        assert_eq!(
            e.message,
            "Apply failed with 2 conflicts: conflicts with \"helm\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"app\"].image"
        );
    }

    #[test]
    fn removed_list_items_go_with_their_fields() {
        let w = writer("helm");
        let mut two = deployment(1, "nginx:1", json!({}));
        two["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap().push(json!({"name": "sidecar", "image": "busybox"}));
        let first = apply("apps", "Deployment", None, &two, false, &w).unwrap();
        let second = apply("apps", "Deployment", Some(&first.object), &deployment(1, "nginx:1", json!({})), false, &w).unwrap();
        let names: Vec<&str> = second.object["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["app"]);
    }

    #[test]
    fn updates_record_what_they_change_and_managed_fields_can_be_stripped() {
        let old = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
        let mut new = old.clone();
        let w = Writer { manager: "kubectl-create", api_version: "v1", subresource: "", reset: &[], now: NOW };
        track_update("", "ConfigMap", None, &mut new, &w).unwrap();
        assert_eq!(new["metadata"]["managedFields"][0]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
        assert_eq!(new["metadata"]["managedFields"][0]["operation"], "Update");
        let stored = new.clone();
        new["metadata"]["managedFields"] = json!([{}]);
        track_update("", "ConfigMap", Some(&stored), &mut new, &w).unwrap();
        assert!(new["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn paths_print_as_upstream() {
        let p: Path = vec!["f:spec".into(), "f:ports".into(), "k:{\"port\":80,\"protocol\":\"TCP\"}".into(), "f:name".into()];
        assert_eq!(path_string(&p), ".spec.ports[port=80,protocol=\"TCP\"].name");
        assert_eq!(path_string(&vec!["f:metadata".into(), "f:finalizers".into(), "v:\"x\"".into()]), ".metadata.finalizers[=\"x\"]");
        assert_eq!(manager_from_user_agent("kubectl/v1.37.1 (linux/amd64) kubernetes/abc"), "kubectl");
    }
}
