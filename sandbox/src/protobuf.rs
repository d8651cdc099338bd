//! Request bodies in Kubernetes' protobuf encoding
//! (`application/vnd.kubernetes.protobuf`), which Go clients built on
//! client-go's typed clientsets send by default: helm keeps its releases in
//! Secrets written that way, and `kubectl create secret|configmap` too.
//!
//! The sandbox decodes the envelope (the `k8s\0` prefix and a
//! `runtime.Unknown` holding the apiVersion, kind and raw message) and the
//! messages of the kinds listed in [`decode`]: v1 Secret, v1 ConfigMap and
//! DeleteOptions. Any other kind answers 415 with a message naming what is
//! supported, so that a client fails loudly instead of storing something
//! half-read. Responses are always JSON, which client-go accepts.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

/// The prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

/// The media type.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Why a body cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not valid protobuf, or not a Kubernetes envelope.
    Malformed(String),
    /// Valid, but of a kind the sandbox does not decode.
    Unsupported(String),
}

// ---------------------------------------------------------------------------
// Wire format

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or_else(|| malformed("a varint runs past the end of the message"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed("a varint is longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| malformed("a field runs past the end of the message"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field: its number and value.
    fn field(&mut self) -> Result<Option<(u64, Wire<'a>)>, Error> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, key & 7);
        let v = match wire {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| malformed("a length does not fit in memory"))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed
            }
            other => return Err(malformed(&format!("unsupported wire type {other} for field {num}"))),
        };
        Ok(Some((num, v)))
    }
}

fn malformed(msg: &str) -> Error {
    Error::Malformed(msg.to_string())
}

/// Calls `f` with each field of a message.
fn fields<'a>(buf: &'a [u8], mut f: impl FnMut(u64, Wire<'a>) -> Result<(), Error>) -> Result<(), Error> {
    let mut r = Reader::new(buf);
    while let Some((n, v)) = r.field()? {
        f(n, v)?;
    }
    Ok(())
}

fn bytes<'a>(w: Wire<'a>) -> Result<&'a [u8], Error> {
    match w {
        Wire::Bytes(b) => Ok(b),
        _ => Err(malformed("expected a length-delimited field")),
    }
}

fn string(w: Wire<'_>) -> Result<String, Error> {
    String::from_utf8(bytes(w)?.to_vec()).map_err(|_| malformed("a string field is not UTF-8"))
}

fn int(w: Wire<'_>) -> Result<i64, Error> {
    match w {
        Wire::Varint(v) => Ok(v as i64),
        _ => Err(malformed("expected a varint field")),
    }
}

/// A map entry (key 1, value 2).
fn entry<'a>(w: Wire<'a>) -> Result<(String, &'a [u8]), Error> {
    let (mut k, mut v) = (String::new(), &[][..]);
    fields(bytes(w)?, |n, w| {
        match n {
            1 => k = string(w)?,
            2 => v = bytes(w)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok((k, v))
}

fn utf8(b: &[u8]) -> Result<String, Error> {
    String::from_utf8(b.to_vec()).map_err(|_| malformed("a string value is not UTF-8"))
}

fn put_str(m: &mut Map<String, Value>, k: &str, s: String) {
    // Go's JSON leaves empty strings out (omitempty), protobuf writes them.
    if !s.is_empty() {
        m.insert(k.into(), json!(s));
    }
}

fn string_map(m: &mut Map<String, Value>, k: &str, entries: BTreeMap<String, String>) {
    if !entries.is_empty() {
        m.insert(k.into(), json!(entries));
    }
}

// ---------------------------------------------------------------------------
// Messages

/// metav1.Time: seconds and nanos since the epoch; the zero time is empty.
fn time(w: Wire<'_>) -> Result<Option<String>, Error> {
    let (mut secs, mut nanos) = (0i64, 0i64);
    fields(bytes(w)?, |n, w| {
        match n {
            1 => secs = int(w)?,
            2 => nanos = int(w)?,
            _ => {}
        }
        Ok(())
    })?;
    if secs == 0 && nanos == 0 {
        return Ok(None);
    }
    let t = jiff::Timestamp::new(secs, 0).map_err(|e| malformed(&format!("bad time: {e}")))?;
    Ok(Some(crate::meta::timestamp(t)))
}

fn owner_reference(w: Wire<'_>) -> Result<Value, Error> {
    let mut m = Map::new();
    fields(bytes(w)?, |n, w| {
        match n {
            1 => put_str(&mut m, "kind", string(w)?),
            3 => put_str(&mut m, "name", string(w)?),
            4 => put_str(&mut m, "uid", string(w)?),
            5 => put_str(&mut m, "apiVersion", string(w)?),
            6 => {
                m.insert("controller".into(), json!(int(w)? != 0));
            }
            7 => {
                m.insert("blockOwnerDeletion".into(), json!(int(w)? != 0));
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(m))
}

fn managed_fields_entry(w: Wire<'_>) -> Result<Value, Error> {
    let mut m = Map::new();
    fields(bytes(w)?, |n, w| {
        match n {
            1 => put_str(&mut m, "manager", string(w)?),
            2 => put_str(&mut m, "operation", string(w)?),
            3 => put_str(&mut m, "apiVersion", string(w)?),
            4 => {
                if let Some(t) = time(w)? {
                    m.insert("time".into(), json!(t));
                }
            }
            6 => put_str(&mut m, "fieldsType", string(w)?),
            7 => fields(bytes(w)?, |n, w| {
                if n == 1 {
                    let raw = bytes(w)?;
                    let v: Value = serde_json::from_slice(raw).map_err(|e| malformed(&format!("fieldsV1 is not JSON: {e}")))?;
                    m.insert("fieldsV1".into(), v);
                }
                Ok(())
            })?,
            8 => put_str(&mut m, "subresource", string(w)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(m))
}

fn object_meta(w: Wire<'_>) -> Result<Value, Error> {
    let mut m = Map::new();
    let (mut labels, mut annotations) = (BTreeMap::new(), BTreeMap::new());
    let (mut owners, mut finalizers, mut managed) = (Vec::new(), Vec::new(), Vec::new());
    fields(bytes(w)?, |n, w| {
        match n {
            1 => put_str(&mut m, "name", string(w)?),
            2 => put_str(&mut m, "generateName", string(w)?),
            3 => put_str(&mut m, "namespace", string(w)?),
            4 => put_str(&mut m, "selfLink", string(w)?),
            5 => put_str(&mut m, "uid", string(w)?),
            6 => put_str(&mut m, "resourceVersion", string(w)?),
            7 => {
                let g = int(w)?;
                if g != 0 {
                    m.insert("generation".into(), json!(g));
                }
            }
            8 | 9 => {
                if let Some(t) = time(w)? {
                    m.insert(if n == 8 { "creationTimestamp" } else { "deletionTimestamp" }.into(), json!(t));
                }
            }
            10 => {
                m.insert("deletionGracePeriodSeconds".into(), json!(int(w)?));
            }
            11 | 12 => {
                let (k, v) = entry(w)?;
                if n == 11 { &mut labels } else { &mut annotations }.insert(k, utf8(v)?);
            }
            13 => owners.push(owner_reference(w)?),
            14 => finalizers.push(string(w)?),
            17 => managed.push(managed_fields_entry(w)?),
            _ => {}
        }
        Ok(())
    })?;
    string_map(&mut m, "labels", labels);
    string_map(&mut m, "annotations", annotations);
    for (k, list) in
        [("ownerReferences", owners), ("finalizers", finalizers.into_iter().map(Value::String).collect()), ("managedFields", managed)]
    {
        if !list.is_empty() {
            m.insert(k.into(), Value::Array(list));
        }
    }
    Ok(Value::Object(m))
}

/// How one field of a flat message maps to JSON.
#[derive(Clone, Copy)]
enum Slot {
    Metadata,
    Str(&'static str),
    Bool(&'static str),
    /// map<string, string>.
    StrMap(&'static str),
    /// map<string, bytes>, base64 in JSON.
    BytesMap(&'static str),
}

/// v1 Secret's fields by number.
const SECRET: &[(u64, Slot)] = &[
    (1, Slot::Metadata),
    (2, Slot::BytesMap("data")),
    (3, Slot::Str("type")),
    (4, Slot::StrMap("stringData")),
    (5, Slot::Bool("immutable")),
];

/// v1 ConfigMap's fields by number.
const CONFIG_MAP: &[(u64, Slot)] =
    &[(1, Slot::Metadata), (2, Slot::StrMap("data")), (3, Slot::BytesMap("binaryData")), (4, Slot::Bool("immutable"))];

/// Decodes a message whose fields are metadata, strings, booleans and maps.
fn flat_message(raw: &[u8], layout: &[(u64, Slot)]) -> Result<Value, Error> {
    let mut m = Map::new();
    let mut maps: BTreeMap<&'static str, BTreeMap<String, String>> = BTreeMap::new();
    fields(raw, |n, w| {
        match layout.iter().find(|(num, _)| *num == n).map(|(_, slot)| *slot) {
            Some(Slot::Metadata) => {
                m.insert("metadata".into(), object_meta(w)?);
            }
            Some(Slot::Str(k)) => put_str(&mut m, k, string(w)?),
            Some(Slot::Bool(k)) => {
                m.insert(k.into(), json!(int(w)? != 0));
            }
            Some(Slot::StrMap(k)) => {
                let (key, v) = entry(w)?;
                maps.entry(k).or_default().insert(key, utf8(v)?);
            }
            Some(Slot::BytesMap(k)) => {
                let (key, v) = entry(w)?;
                maps.entry(k).or_default().insert(key, base64::engine::general_purpose::STANDARD.encode(v));
            }
            None => {}
        }
        Ok(())
    })?;
    for (k, entries) in maps {
        string_map(&mut m, k, entries);
    }
    Ok(Value::Object(m))
}

fn delete_options(raw: &[u8]) -> Result<Value, Error> {
    let mut m = Map::new();
    let mut dry_run = Vec::new();
    fields(raw, |n, w| {
        match n {
            1 => {
                m.insert("gracePeriodSeconds".into(), json!(int(w)?));
            }
            2 => {
                let mut p = Map::new();
                fields(bytes(w)?, |n, w| {
                    match n {
                        1 => {
                            p.insert("uid".into(), json!(string(w)?));
                        }
                        2 => {
                            p.insert("resourceVersion".into(), json!(string(w)?));
                        }
                        _ => {}
                    }
                    Ok(())
                })?;
                m.insert("preconditions".into(), Value::Object(p));
            }
            3 => {
                m.insert("orphanDependents".into(), json!(int(w)? != 0));
            }
            4 => put_str(&mut m, "propagationPolicy", string(w)?),
            5 => dry_run.push(json!(string(w)?)),
            _ => {}
        }
        Ok(())
    })?;
    if !dry_run.is_empty() {
        m.insert("dryRun".into(), Value::Array(dry_run));
    }
    Ok(Value::Object(m))
}

/// Decodes a protobuf request body into the JSON object it stands for.
/// Supported: v1 Secret, v1 ConfigMap, DeleteOptions (meta.k8s.io/v1 or v1).
pub fn decode(body: &[u8]) -> Result<Value, Error> {
    let rest =
        body.strip_prefix(MAGIC).ok_or_else(|| malformed("the body does not start with the Kubernetes protobuf prefix \"k8s\\x00\""))?;
    let (mut api_version, mut kind, mut raw, mut encoding) = (String::new(), String::new(), &[][..], String::new());
    fields(rest, |n, w| {
        match n {
            1 => fields(bytes(w)?, |n, w| {
                match n {
                    1 => api_version = string(w)?,
                    2 => kind = string(w)?,
                    _ => {}
                }
                Ok(())
            })?,
            2 => raw = bytes(w)?,
            3 => encoding = string(w)?,
            _ => {}
        }
        Ok(())
    })?;
    if !encoding.is_empty() {
        return Err(Error::Unsupported(format!("protobuf bodies with content encoding {encoding:?} are not supported")));
    }
    let mut obj = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Secret") => flat_message(raw, SECRET)?,
        ("v1", "ConfigMap") => flat_message(raw, CONFIG_MAP)?,
        ("v1" | "meta.k8s.io/v1", "DeleteOptions") => delete_options(raw)?,
        _ => {
            return Err(Error::Unsupported(format!(
                "rudder-sandbox decodes protobuf bodies only for v1 Secret, v1 ConfigMap and DeleteOptions, not {kind} {api_version}; send application/json"
            )));
        }
    };
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A tiny encoder, for the tests only.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn field_bytes(n: u64, b: &[u8], out: &mut Vec<u8>) {
        varint(n << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }
    fn field_varint(n: u64, v: u64, out: &mut Vec<u8>) {
        varint(n << 3, out);
        varint(v, out);
    }
    fn map_entry(n: u64, k: &str, v: &[u8], out: &mut Vec<u8>) {
        let mut e = Vec::new();
        field_bytes(1, k.as_bytes(), &mut e);
        field_bytes(2, v, &mut e);
        field_bytes(n, &e, out);
    }
    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut tm = Vec::new();
        field_bytes(1, api_version.as_bytes(), &mut tm);
        field_bytes(2, kind.as_bytes(), &mut tm);
        let mut u = MAGIC.to_vec();
        field_bytes(1, &tm, &mut u);
        field_bytes(2, raw, &mut u);
        field_bytes(3, b"", &mut u);
        field_bytes(4, b"", &mut u);
        u
    }

    #[test]
    fn a_secret_as_helm_writes_it() {
        let mut meta = Vec::new();
        field_bytes(1, b"sh.helm.release.v1.demo.v1", &mut meta);
        field_bytes(2, b"", &mut meta);
        field_bytes(3, b"default", &mut meta);
        field_varint(7, 0, &mut meta);
        field_bytes(8, b"", &mut meta);
        map_entry(11, "owner", b"helm", &mut meta);
        map_entry(11, "status", b"deployed", &mut meta);
        field_bytes(14, b"example.com/keep", &mut meta);
        let mut secret = Vec::new();
        field_bytes(1, &meta, &mut secret);
        map_entry(2, "release", &[0, 159, 255], &mut secret);
        field_bytes(3, b"helm.sh/release.v1", &mut secret);
        let v = decode(&envelope("v1", "Secret", &secret)).unwrap();
        assert_eq!(
            v,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "sh.helm.release.v1.demo.v1", "namespace": "default",
                             "labels": {"owner": "helm", "status": "deployed"}, "finalizers": ["example.com/keep"]},
                "data": {"release": "AJ//"},
                "type": "helm.sh/release.v1",
            })
        );
    }

    #[test]
    fn config_maps_and_delete_options() {
        let mut meta = Vec::new();
        field_bytes(1, b"settings", &mut meta);
        let mut time = Vec::new();
        field_varint(1, 1_700_000_000, &mut time);
        field_bytes(8, &time, &mut meta);
        let mut cm = Vec::new();
        field_bytes(1, &meta, &mut cm);
        map_entry(2, "a", b"1", &mut cm);
        field_varint(4, 1, &mut cm);
        let v = decode(&envelope("v1", "ConfigMap", &cm)).unwrap();
        assert_eq!(v["metadata"], json!({"name": "settings", "creationTimestamp": "2023-11-14T22:13:20Z"}));
        assert_eq!((v["data"]["a"].as_str(), v["immutable"].as_bool()), (Some("1"), Some(true)));

        let mut opts = Vec::new();
        field_varint(1, 0, &mut opts);
        field_bytes(4, b"Foreground", &mut opts);
        let mut pre = Vec::new();
        field_bytes(1, b"some-uid", &mut pre);
        field_bytes(2, &pre, &mut opts);
        field_bytes(5, b"All", &mut opts);
        let v = decode(&envelope("meta.k8s.io/v1", "DeleteOptions", &opts)).unwrap();
        assert_eq!(v["gracePeriodSeconds"], 0);
        assert_eq!(v["propagationPolicy"], "Foreground");
        assert_eq!(v["preconditions"], json!({"uid": "some-uid"}));
        assert_eq!(v["dryRun"], json!(["All"]));
    }

    #[test]
    fn other_kinds_and_bad_bodies_are_refused_clearly() {
        match decode(&envelope("apps/v1", "Deployment", &[])) {
            Err(Error::Unsupported(m)) => assert!(m.contains("not Deployment apps/v1"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(b"{\"kind\":\"Secret\"}"), Err(Error::Malformed(_))));
        let mut truncated = envelope("v1", "Secret", b"\x0a\x05ab");
        truncated.truncate(truncated.len() - 4);
        assert!(matches!(decode(&truncated), Err(Error::Malformed(_))));
        assert!(matches!(decode(b"k8s\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), Err(Error::Malformed(_))));
    }
}
