//! `admission.k8s.io/v1` AdmissionReview: what kube-apiserver sends a
//! webhook and what the webhook answers, read and written as JSON so that
//! objects pass through untouched (fields this code does not know are
//! neither dropped nor reordered, and a patch is computed against exactly
//! what was sent).
//!
//! [`parse`] refuses what a webhook cannot answer (not JSON, not an
//! AdmissionReview of `admission.k8s.io/v1`, no `request`, no `uid`, an
//! operation kube-apiserver does not send, a body over [`MAX_BODY`]) with a
//! message for a 400; everything else is an answer in an AdmissionReview.

use base64::Engine;
use serde_json::{Value, json};

use crate::namespace_lifecycle::{Denial, Operation};

/// The largest body accepted. kube-apiserver limits an object to 3 MiB
/// (etcd's request limit is 1.5 MiB, and a request body 3 MiB); a review of
/// an update carries the object twice.
pub const MAX_BODY: u64 = 7 * 1024 * 1024;

/// The API version spoken (`admissionReviewVersions: ["v1"]`).
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// An `AdmissionRequest`, the parts the plugins read.
#[derive(Debug, Clone)]
pub struct Review {
    pub uid: String,
    /// The kind of `object` (group, version, kind).
    pub kind: (String, String, String),
    /// The resource requested (group, version, resource).
    pub resource: (String, String, String),
    pub sub_resource: String,
    pub name: String,
    pub namespace: String,
    pub operation: Operation,
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    pub dry_run: bool,
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Result<&'a str, String> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("request{pointer}: expected a string, got {}", type_name(other))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn triple(r: &Value, pointer: &str, last: &str) -> Result<(String, String, String), String> {
    Ok((
        str_at(r, &format!("{pointer}/group"))?.to_string(),
        str_at(r, &format!("{pointer}/version"))?.to_string(),
        str_at(r, &format!("{pointer}/{last}"))?.to_string(),
    ))
}

/// Reads an AdmissionReview body; `Err` is the message of a 400.
pub fn parse(body: &[u8]) -> Result<Review, String> {
    if body.len() as u64 > MAX_BODY {
        return Err(format!("request body of {} bytes is larger than the limit of {MAX_BODY} bytes", body.len()));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if !v.is_object() {
        return Err(format!("expected an AdmissionReview object, got {}", type_name(&v)));
    }
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind != "AdmissionReview" || api_version != API_VERSION {
        return Err(format!("expected an AdmissionReview of {API_VERSION}, got kind {kind:?} of apiVersion {api_version:?}"));
    }
    let r = match v.get("request") {
        Some(r @ Value::Object(_)) => r,
        Some(other) => return Err(format!("request: expected an object, got {}", type_name(other))),
        None => return Err("the AdmissionReview has no request".into()),
    };
    let uid = str_at(r, "/uid")?;
    if uid.is_empty() {
        return Err("request.uid is missing".into());
    }
    let operation = match str_at(r, "/operation")? {
        "CREATE" => Operation::Create,
        "UPDATE" => Operation::Update,
        "DELETE" => Operation::Delete,
        "CONNECT" => Operation::Connect,
        other => {
            return Err(format!(
                "request.operation: unsupported value {other:?}: supported values: \"CREATE\", \"UPDATE\", \"DELETE\", \"CONNECT\""
            ));
        }
    };
    let object = |key: &str| -> Result<Option<Value>, String> {
        match r.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(o @ Value::Object(_)) => Ok(Some(o.clone())),
            Some(other) => Err(format!("request.{key}: expected an object, got {}", type_name(other))),
        }
    };
    let dry_run = match r.get("dryRun") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("request.dryRun: expected a boolean, got {}", type_name(other))),
    };
    Ok(Review {
        uid: uid.to_string(),
        kind: triple(r, "/kind", "kind")?,
        resource: triple(r, "/resource", "resource")?,
        sub_resource: str_at(r, "/subResource")?.to_string(),
        name: str_at(r, "/name")?.to_string(),
        namespace: str_at(r, "/namespace")?.to_string(),
        operation,
        object: object("object")?,
        old_object: object("oldObject")?,
        dry_run,
    })
}

fn review(response: Value) -> Value {
    json!({"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response})
}

/// An allowing answer, with a JSONPatch when `patch` has operations.
pub fn allow(uid: &str, patch: Option<&json_patch::Patch>) -> Value {
    let mut response = json!({"uid": uid, "allowed": true});
    if let Some(p) = patch.filter(|p| !p.0.is_empty()) {
        let bytes = serde_json::to_vec(p).unwrap_or_default();
        response["patchType"] = json!("JSONPatch");
        response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    review(response)
}

/// A refusal carrying the plugin's Status (code, reason, message, details):
/// kube-apiserver answers the request with that code and reason, and the
/// message prefixed with `admission webhook "<name>" denied the request: `.
pub fn deny(uid: &str, denial: &Denial) -> Value {
    review(json!({"uid": uid, "allowed": false, "status": denial.to_status()}))
}

/// A refusal for an error of the webhook itself (code 500).
pub fn internal_error(uid: &str, message: &str) -> Value {
    deny(uid, &Denial::internal(message))
}

/// The patch that turns `old` into `new` (RFC 6902 operations).
pub fn patch(old: &Value, new: &Value) -> json_patch::Patch {
    json_patch::diff(old, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(request: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"apiVersion": API_VERSION, "kind": "AdmissionReview", "request": request})).unwrap()
    }

    #[test]
    fn a_review_is_read() {
        let r = parse(&body(json!({
            "uid": "u1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": "status",
            "name": "p", "namespace": "ns", "operation": "UPDATE", "object": {"a": 1}, "oldObject": {"a": 0}, "dryRun": true
        })))
        .unwrap();
        assert_eq!(r.uid, "u1");
        assert_eq!(r.kind, ("".into(), "v1".into(), "Pod".into()));
        assert_eq!(r.resource.2, "pods");
        assert_eq!(r.sub_resource, "status");
        assert_eq!((r.name.as_str(), r.namespace.as_str()), ("p", "ns"));
        assert_eq!(r.operation, Operation::Update);
        assert_eq!(r.object, Some(json!({"a": 1})));
        assert_eq!(r.old_object, Some(json!({"a": 0})));
        assert!(r.dry_run);
    }

    #[test]
    fn what_is_not_a_v1_review_is_refused_with_a_reason() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{".to_vec(), "the body is not JSON"),
            (b"[]".to_vec(), "expected an AdmissionReview object, got an array"),
            (br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#.to_vec(), "admission.k8s.io/v1beta1"),
            (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(), "has no request"),
            (body(json!({"operation": "CREATE"})), "request.uid is missing"),
            (body(json!({"uid": "u", "operation": "PATCH"})), "unsupported value \"PATCH\""),
            (body(json!({"uid": "u", "operation": "CREATE", "object": 3})), "request.object: expected an object, got a number"),
            (body(json!({"uid": "u", "operation": "CREATE", "name": 3})), "request/name: expected a string"),
            (body(json!({"uid": "u", "operation": "CREATE", "dryRun": "yes"})), "request.dryRun: expected a boolean"),
        ];
        for (b, want) in cases {
            let err = parse(&b).unwrap_err();
            assert!(err.contains(want), "{err} should say {want}");
        }
        let big = vec![b' '; MAX_BODY as usize + 1];
        assert!(parse(&big).unwrap_err().contains("larger than the limit"));
    }

    #[test]
    fn answers_carry_the_uid_and_a_base64_json_patch() {
        let old = json!({"spec": {"containers": [{"name": "c"}]}});
        let new = json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1"}}}]}});
        let a = allow("u", Some(&patch(&old, &new)));
        assert_eq!(a["response"]["uid"], "u");
        assert_eq!(a["response"]["allowed"], true);
        assert_eq!(a["response"]["patchType"], "JSONPatch");
        let bytes = base64::engine::general_purpose::STANDARD.decode(a["response"]["patch"].as_str().unwrap()).unwrap();
        let p: json_patch::Patch = serde_json::from_slice(&bytes).unwrap();
        let mut applied = old.clone();
        json_patch::patch(&mut applied, &p).unwrap();
        assert_eq!(applied, new);
        assert!(allow("u", Some(&patch(&old, &old)))["response"].get("patch").is_none());
        let d = internal_error("u", "boom");
        assert_eq!(d["response"]["allowed"], false);
        assert_eq!(d["response"]["status"]["code"], 500);
        assert_eq!(d["response"]["status"]["message"], "Internal error occurred: boom");
    }
}
