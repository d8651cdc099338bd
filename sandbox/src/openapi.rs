//! OpenAPI v3 documents: one per group/version, with the paths and
//! operations of every served resource, tagged with
//! `x-kubernetes-group-version-kind` and listing the query parameters the
//! server supports (kubectl reads `fieldValidation` from them to choose
//! server-side field validation).
//!
//! Component schemas of the objects are not served: kubectl then falls back
//! to its built-in types for strategic merge patches, as it does against any
//! server without them. `/openapi/v2` answers 404 (kubectl uses v3).

use serde_json::{Map, Value, json};

use crate::registry::{self, RESOURCES, ResourceType, Sub};

/// The group/version path of a document: `api/v1`, `apis/apps/v1`.
fn doc_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

/// `/openapi/v3`: where each group/version's document is.
pub fn index() -> Value {
    let mut paths = Map::new();
    for (g, v) in registry::group_versions() {
        let p = doc_path(g, v);
        paths.insert(p.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", hash(g, v))}));
    }
    json!({"paths": paths})
}

/// A stable hash of a document's content: it only changes with the binary.
fn hash(g: &str, v: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in format!("{g}/{v}/{}", env!("CARGO_PKG_VERSION")).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016X}")
}

fn param(name: &str, location: &str, description: &str) -> Value {
    json!({"name": name, "in": location, "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn gvk(r: &ResourceType, kind: &str, group: &str, version: &str) -> Value {
    let _ = r;
    json!({"group": group, "version": version, "kind": kind})
}

fn op(r: &ResourceType, action: &str, verb: &str, params: &[Value], kind: (&str, &str, &str)) -> Value {
    json!({
        "description": format!("{verb} {}", r.kind),
        "operationId": format!("{verb}{}", r.kind),
        "parameters": params,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(r, kind.2, kind.0, kind.1),
    })
}

/// The document of one group/version, `None` if it is not served.
pub fn document(doc: &str) -> Option<Value> {
    let doc = doc.split('?').next().unwrap_or_default().trim_matches('/');
    let (group, version) = registry::group_versions().into_iter().find(|(g, v)| doc_path(g, v) == doc)?;
    let mut paths = Map::new();
    let write_params = [
        param("dryRun", "query", "When present, indicates that modifications should not be persisted."),
        param("fieldManager", "query", "A name associated with the actor or entity that is making these changes."),
        param("fieldValidation", "query", "Ignore, Warn or Strict: how to treat unknown or duplicate fields."),
        param("pretty", "query", "If 'true', then the output is pretty printed."),
    ];
    let list_params = [
        param("labelSelector", "query", "A selector to restrict the list of returned objects by their labels."),
        param("fieldSelector", "query", "A selector to restrict the list of returned objects by their fields."),
        param("limit", "query", "The maximum number of responses to return for a list call."),
        param("continue", "query", "The continue option should be set when retrieving more results from the server."),
        param("resourceVersion", "query", "Sets a constraint on what resource versions a request may be served from."),
        param("resourceVersionMatch", "query", "Determines how resourceVersion is applied to list calls."),
        param("watch", "query", "Watch for changes to the described resources."),
        param("allowWatchBookmarks", "query", "Requests watch events with type BOOKMARK."),
        param("sendInitialEvents", "query", "Sends synthetic ADDED events for the current state first."),
        param("timeoutSeconds", "query", "Timeout for the list/watch call."),
    ];
    for r in RESOURCES.iter().filter(|r| r.group == group && r.version == version) {
        let kind = (r.group, r.version, r.kind);
        let base = if r.namespaced { format!("/{doc}/namespaces/{{namespace}}/{}", r.plural) } else { format!("/{doc}/{}", r.plural) };
        let mut path_params = vec![param("name", "path", "name of the object")];
        if r.namespaced {
            path_params.push(param("namespace", "path", "object name and auth scope, such as for teams and projects"));
        }
        let mut collection = json!({
            "get": op(r, "list", "list", &list_params, kind),
            "post": op(r, "post", "create", &write_params, kind),
            "delete": op(r, "deletecollection", "deletecollection", &list_params, kind),
        });
        if r.namespaced {
            collection["parameters"] = json!([param("namespace", "path", "object name and auth scope")]);
        }
        paths.insert(base.clone(), collection);
        let mut patch_params = write_params.to_vec();
        patch_params.push(param("force", "query", "Force is going to \"force\" Apply requests."));
        paths.insert(
            format!("{base}/{{name}}"),
            json!({
                "parameters": path_params,
                "get": op(r, "get", "read", &[], kind),
                "put": op(r, "put", "replace", &write_params, kind),
                "patch": op(r, "patch", "patch", &patch_params, kind),
                "delete": op(r, "delete", "delete", &[param("gracePeriodSeconds", "query", ""), param("propagationPolicy", "query", "")], kind),
            }),
        );
        for s in r.subresources {
            let sub_kind = match s {
                Sub::Scale => ("autoscaling", "v1", "Scale"),
                Sub::Eviction => ("policy", "v1", "Eviction"),
                Sub::Binding => ("", "v1", "Binding"),
                Sub::Status => kind,
            };
            let mut item = json!({"parameters": path_params});
            match s {
                Sub::Binding | Sub::Eviction => item["post"] = op(r, "post", "create", &write_params, sub_kind),
                Sub::Status | Sub::Scale => {
                    item["get"] = op(r, "get", "read", &[], sub_kind);
                    item["put"] = op(r, "put", "replace", &write_params, sub_kind);
                    item["patch"] = op(r, "patch", "patch", &patch_params, sub_kind);
                }
            }
            paths.insert(format!("{base}/{{name}}/{}", s.name()), item);
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": format!("v{}.{}.0", crate::discovery::MAJOR, crate::discovery::MINOR)},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_version_has_a_document() {
        let idx = index();
        for (g, v) in registry::group_versions() {
            let p = doc_path(g, v);
            let url = idx["paths"][&p]["serverRelativeURL"].as_str().unwrap();
            let doc = document(url.trim_start_matches("/openapi/v3/")).unwrap();
            assert_eq!(doc["openapi"], "3.0.0");
        }
        assert!(document("apis/nope/v1").is_none());
    }

    #[test]
    fn patch_operations_declare_field_validation() {
        let doc = document("apis/apps/v1").unwrap();
        let p = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(p["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert!(p["parameters"].as_array().unwrap().iter().any(|x| x["name"] == "fieldValidation" && x["in"] == "query"));
    }
}
