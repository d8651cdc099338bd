//! Request bodies in Kubernetes' protobuf encoding
//! (`application/vnd.kubernetes.protobuf`), which Go clients built on
//! client-go's typed clientsets send by default: `kubectl create
//! deployment|job|service|...`, helm's release Secrets, `kubectl drain`'s
//! evictions.
//!
//! The sandbox decodes the envelope (the `k8s\0` prefix and a
//! `runtime.Unknown` holding the apiVersion, kind and raw message) and then
//! the message, generically, from the table in [`schema`] (every kind the
//! sandbox serves, and DeleteOptions), into the JSON object Go's
//! `json.Marshal` would make of the decoded Go struct, which then takes the
//! JSON path. Unknown field numbers are skipped, as gogo's generated
//! unmarshalling does; malformed bodies are errors, never panics. A kind
//! outside the table answers 415 with a message naming the way out, so that
//! a client fails loudly instead of storing something half-read. Responses
//! are always JSON, which client-go accepts.

pub mod schema;

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

#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed64,
    Fixed32,
}

impl Wire<'_> {
    fn name(&self) -> &'static str {
        match self {
            Wire::Varint(_) => "varint",
            Wire::Bytes(_) => "length-delimited",
            Wire::Fixed64 => "64-bit",
            Wire::Fixed32 => "32-bit",
        }
    }
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
        if num == 0 {
            return Err(malformed("a field has number 0"));
        }
        let v = match wire {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| malformed("a length does not fit in memory"))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed32
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
        other => Err(malformed(&format!("expected a length-delimited value, found a {} one", other.name()))),
    }
}

fn string(w: Wire<'_>) -> Result<String, Error> {
    String::from_utf8(bytes(w)?.to_vec()).map_err(|_| malformed("a string is not UTF-8"))
}

fn varint(w: Wire<'_>) -> Result<u64, Error> {
    match w {
        Wire::Varint(v) => Ok(v),
        other => Err(malformed(&format!("expected a varint, found a {} value", other.name()))),
    }
}

/// Adds which field an error is about, innermost last.
fn within(e: Error, what: &str) -> Error {
    match e {
        Error::Malformed(m) if m.starts_with("field ") => Error::Malformed(format!("field {what}.{}", &m["field ".len()..])),
        Error::Malformed(m) => Error::Malformed(format!("field {what}: {m}")),
        other => other,
    }
}

// ---------------------------------------------------------------------------
// Messages, by the schema

use schema::{Card, F, Kind, Msg, Special};

/// Decodes the fields of `raw` into `out` (a message may arrive in pieces,
/// which merge, as in protobuf).
fn message(raw: &[u8], msg: &Msg, out: &mut Map<String, Value>) -> Result<(), Error> {
    fields(raw, |n, w| {
        // Unknown fields are skipped, as gogo's Unmarshal does.
        let Some(F(_, json, kind, card)) = msg.0.iter().find(|f| f.0 == n) else { return Ok(()) };
        let what = |e| within(e, if json.is_empty() { "(inline)" } else { json });
        match card {
            Card::INLINE => {
                let Kind::M(m) = kind else { unreachable!("only messages are inlined") };
                message(bytes(w).map_err(what)?, m, out).map_err(what)
            }
            Card::ONE | Card::OMIT => {
                if let (Kind::M(m), Wire::Bytes(b)) = (kind, w) {
                    let slot = out.entry(*json).or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(o) = slot {
                        return message(b, m, o).map_err(what);
                    }
                }
                match value(*kind, w).map_err(what)? {
                    Some(v) if *card == Card::OMIT && is_zero(&v) => {
                        out.remove(*json);
                    }
                    Some(v) => {
                        out.insert(json.to_string(), v);
                    }
                    None => {
                        out.remove(*json);
                    }
                }
                Ok(())
            }
            Card::REP => {
                let list = out.entry(*json).or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = list else { unreachable!() };
                match (kind, w) {
                    // Packed repeated scalars, which proto2 parsers accept too.
                    (Kind::BOOL | Kind::I32 | Kind::I64, Wire::Bytes(b)) => {
                        let mut r = Reader::new(b);
                        while r.pos < b.len() {
                            let v = r.varint().map_err(what)?;
                            list.extend(value(*kind, Wire::Varint(v)).map_err(what)?);
                        }
                    }
                    _ => list.push(value(*kind, w).map_err(what)?.unwrap_or(Value::Null)),
                }
                Ok(())
            }
            Card::MAP => {
                let (mut k, mut v) = (String::new(), None);
                fields(bytes(w).map_err(what)?, |n, w| {
                    match n {
                        1 => k = string(w).map_err(|e| within(e, "key"))?,
                        2 => v = value(*kind, w).map_err(|e| within(e, "value"))?,
                        _ => {}
                    }
                    Ok(())
                })
                .map_err(what)?;
                // An entry without a value holds the value type's zero.
                let v = v.unwrap_or_else(|| match kind {
                    Kind::S | Kind::B => json!(""),
                    Kind::M(_) => json!({}),
                    Kind::X(Special::Quantity) => json!("0"),
                    _ => Value::Null,
                });
                let map = out.entry(*json).or_insert_with(|| Value::Object(Map::new()));
                let Value::Object(map) = map else { unreachable!() };
                map.insert(k, v);
                Ok(())
            }
        }
    })
}

/// Go's zero value, which `omitempty` leaves out.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        _ => false,
    }
}

/// One value; `None` for what Go's JSON writes as null (a zero time).
fn value(kind: Kind, w: Wire<'_>) -> Result<Option<Value>, Error> {
    Ok(Some(match kind {
        Kind::S => Value::String(string(w)?),
        Kind::B => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes(w)?)),
        Kind::BOOL => Value::Bool(varint(w)? != 0),
        // Go truncates an int32's varint to 32 bits.
        Kind::I32 => json!(varint(w)? as u32 as i32),
        Kind::I64 => json!(varint(w)? as i64),
        Kind::M(m) => {
            let mut o = Map::new();
            message(bytes(w)?, m, &mut o)?;
            Value::Object(o)
        }
        Kind::X(s) => return special(s, bytes(w)?),
    }))
}

fn special(s: Special, raw: &[u8]) -> Result<Option<Value>, Error> {
    let (mut n1, mut n2, mut s1, mut s3, mut b1) = (0u64, 0u64, String::new(), String::new(), None);
    fields(raw, |n, w| {
        match (s, n) {
            (Special::Quantity, 1) => s1 = string(w)?,
            (Special::IntOrString, 3) => s3 = string(w)?,
            (Special::RawExtension | Special::FieldsV1, 1) => b1 = Some(bytes(w)?),
            (Special::Quantity | Special::RawExtension | Special::FieldsV1, _) => {}
            (_, 1) => n1 = varint(w)?,
            (_, 2) => n2 = varint(w)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(Some(match s {
        // Go's Quantity unmarshalling parses the string; an empty one is zero.
        Special::Quantity if s1.is_empty() => json!("0"),
        Special::Quantity => Value::String(s1),
        Special::IntOrString if n1 == 1 => Value::String(s3),
        Special::IntOrString => json!(n2 as u32 as i32),
        Special::Time | Special::MicroTime => {
            // An empty message is the zero time, which Go's JSON writes as null;
            // metav1.Time keeps whole seconds, MicroTime microseconds.
            if raw.is_empty() {
                return Ok(None);
            }
            let secs = n1 as i64;
            let micros = if s == Special::MicroTime { (n2 as u32 as i32).clamp(0, 999_999_999) / 1000 } else { 0 };
            // time.Time's zero, 0001-01-01T00:00:00Z, is null too.
            if secs == -62_135_596_800 && micros == 0 {
                return Ok(None);
            }
            let t = jiff::Timestamp::new(secs, 0).map_err(|e| malformed(&format!("bad time: {e}")))?;
            let whole = crate::meta::timestamp(t);
            if s == Special::Time { Value::String(whole) } else { Value::String(format!("{}.{micros:06}Z", whole.trim_end_matches('Z'))) }
        }
        Special::Duration => Value::String(go_duration(n1 as i64)),
        Special::RawExtension | Special::FieldsV1 => match b1 {
            None | Some([]) => return Ok(None),
            Some(b) => serde_json::from_slice(b).map_err(|e| malformed(&format!("raw bytes are not JSON: {e}")))?,
        },
    }))
}

/// Go's `time.Duration.String`.
fn go_duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = if d < 0 { "-" } else { "" };
    let u = d.unsigned_abs();
    // The fractional part, trailing zeros dropped.
    let frac = |v: u64, digits: usize| {
        let s = format!("{v:0digits$}");
        let s = s.trim_end_matches('0');
        if s.is_empty() { String::new() } else { format!(".{s}") }
    };
    if u < 1_000_000_000 {
        let (unit, div, digits) = if u < 1_000 {
            ("ns", 1, 0)
        } else if u < 1_000_000 {
            ("µs", 1_000, 3)
        } else {
            ("ms", 1_000_000, 6)
        };
        return format!("{neg}{}{}{unit}", u / div, if digits == 0 { String::new() } else { frac(u % div, digits) });
    }
    let secs = u / 1_000_000_000;
    let s = format!("{}{}s", secs % 60, frac(u % 1_000_000_000, 9));
    let (mins, hours) = (secs / 60 % 60, secs / 3600);
    match (hours, mins) {
        (0, 0) => format!("{neg}{s}"),
        (0, m) => format!("{neg}{m}m{s}"),
        (h, m) => format!("{neg}{h}h{m}m{s}"),
    }
}

/// Decodes a protobuf request body into the JSON object it stands for:
/// any kind in [`schema::KINDS`], and DeleteOptions under any apiVersion.
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
    let msg = if kind == "DeleteOptions" {
        Some(&schema::META_V1_DELETE_OPTIONS)
    } else {
        schema::KINDS.iter().find(|(av, k, _)| *av == api_version && *k == kind).map(|(_, _, m)| *m)
    };
    let Some(msg) = msg else {
        return Err(Error::Unsupported(format!(
            "rudder-sandbox decodes protobuf bodies only for the kinds it serves, not {kind} {api_version}; send application/json"
        )));
    };
    let mut obj = Map::new();
    message(raw, msg, &mut obj).map_err(|e| match e {
        Error::Malformed(m) => Error::Malformed(format!("{kind} {api_version}: {m}")),
        other => other,
    })?;
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    Ok(Value::Object(obj))
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
        match decode(&envelope("storage.k8s.io/v1", "StorageClass", &[])) {
            Err(Error::Unsupported(m)) => assert!(m.contains("not StorageClass storage.k8s.io/v1"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(b"{\"kind\":\"Secret\"}"), Err(Error::Malformed(_))));
        let mut truncated = envelope("v1", "Secret", b"\x0a\x05ab");
        truncated.truncate(truncated.len() - 4);
        assert!(matches!(decode(&truncated), Err(Error::Malformed(_))));
        assert!(matches!(decode(b"k8s\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), Err(Error::Malformed(_))));
    }

    /// A message, built field by field as gogo writes it.
    #[derive(Default, Clone)]
    struct Pb(Vec<u8>);

    impl Pb {
        fn new() -> Self {
            Pb::default()
        }
        fn s(mut self, n: u64, v: &str) -> Self {
            field_bytes(n, v.as_bytes(), &mut self.0);
            self
        }
        fn b(mut self, n: u64, v: &[u8]) -> Self {
            field_bytes(n, v, &mut self.0);
            self
        }
        fn v(mut self, n: u64, v: u64) -> Self {
            field_varint(n, v, &mut self.0);
            self
        }
        fn m(self, n: u64, m: Pb) -> Self {
            self.b(n, &m.0)
        }
        fn kv(mut self, n: u64, k: &str, v: &[u8]) -> Self {
            map_entry(n, k, v, &mut self.0);
            self
        }
    }

    fn decode_as(msg: &Msg, raw: &Pb) -> Result<Value, Error> {
        let mut o = Map::new();
        message(&raw.0, msg, &mut o)?;
        Ok(Value::Object(o))
    }

    use schema::{Card::*, Kind::*};

    /// A message with one field of each kind, for the decoder's tests.
    static INNER: Msg = Msg(&[F(1, "name", S, OMIT), F(2, "count", I32, ONE)]);
    static EVERY: Msg = Msg(&[
        F(1, "str", S, ONE),
        F(2, "omitted", S, OMIT),
        F(3, "data", B, ONE),
        F(4, "flag", BOOL, OMIT),
        F(5, "int32", I32, ONE),
        F(6, "int64", I64, ONE),
        F(7, "inner", M(&INNER), ONE),
        F(8, "list", M(&INNER), REP),
        F(9, "strings", S, REP),
        F(10, "ints", I32, REP),
        F(11, "labels", S, MAP),
        F(12, "quantities", X(Special::Quantity), MAP),
        F(13, "", M(&INNER), INLINE),
        F(14, "quantity", X(Special::Quantity), ONE),
        F(15, "port", X(Special::IntOrString), ONE),
        F(16, "time", X(Special::Time), ONE),
        F(17, "microTime", X(Special::MicroTime), ONE),
        F(18, "duration", X(Special::Duration), ONE),
        F(19, "raw", X(Special::RawExtension), ONE),
        F(20, "fieldsV1", X(Special::FieldsV1), ONE),
        F(21, "bytesMap", B, MAP),
        F(22, "port2", X(Special::IntOrString), ONE),
    ]);

    #[test]
    fn scalars_and_omitempty() {
        let raw = Pb::new()
            .s(1, "")
            .s(2, "")
            .b(3, &[0, 159, 255])
            .v(4, 0)
            .v(5, u64::MAX) // -1 as gogo writes a negative int32: ten bytes
            .v(6, 1 << 40);
        assert_eq!(decode_as(&EVERY, &raw).unwrap(), json!({"str": "", "data": "AJ//", "int32": -1, "int64": 1u64 << 40}));
        let raw = Pb::new().s(2, "x").v(4, 1).v(5, 7);
        assert_eq!(decode_as(&EVERY, &raw).unwrap(), json!({"omitted": "x", "flag": true, "int32": 7}));
    }

    #[test]
    fn nested_repeated_maps_and_inline() {
        let raw = Pb::new()
            .m(7, Pb::new().s(1, "a"))
            .m(7, Pb::new().v(2, 3)) // a message sent in two pieces merges
            .m(8, Pb::new().s(1, "first").v(2, 0))
            .m(8, Pb::new())
            .s(9, "x")
            .s(9, "y")
            .v(10, 1)
            .b(10, &[2, 3]) // packed
            .kv(11, "app", b"web")
            .kv(11, "tier", b"")
            .kv(12, "cpu", &Pb::new().s(1, "500m").0)
            .kv(12, "memory", &Pb::new().s(1, "1Gi").0)
            .b(13, &Pb::new().s(1, "inlined").v(2, 9).0)
            .kv(21, "bin", &[1, 2, 3]);
        assert_eq!(
            decode_as(&EVERY, &raw).unwrap(),
            json!({
                "inner": {"name": "a", "count": 3},
                "list": [{"name": "first", "count": 0}, {}],
                "strings": ["x", "y"],
                "ints": [1, 2, 3],
                "labels": {"app": "web", "tier": ""},
                "quantities": {"cpu": "500m", "memory": "1Gi"},
                "name": "inlined", "count": 9,
                "bytesMap": {"bin": "AQID"},
            })
        );
    }

    #[test]
    fn special_types() {
        let raw = Pb::new()
            .m(14, Pb::new().s(1, "250m"))
            .m(15, Pb::new().v(1, 0).v(2, 8080))
            .m(22, Pb::new().v(1, 1).s(3, "http"))
            .m(16, Pb::new().v(1, 1_700_000_000).v(2, 123_456_789))
            .m(17, Pb::new().v(1, 1_700_000_000).v(2, 123_456_789))
            .m(18, Pb::new().v(1, 5_400_000_000_000))
            .m(19, Pb::new().b(1, br#"{"kind":"Pod","spec":{}}"#))
            .m(20, Pb::new().b(1, br#"{"f:metadata":{}}"#));
        assert_eq!(
            decode_as(&EVERY, &raw).unwrap(),
            json!({
                "quantity": "250m",
                "port": 8080,
                "port2": "http",
                // metav1.Time keeps whole seconds, MicroTime microseconds.
                "time": "2023-11-14T22:13:20Z",
                "microTime": "2023-11-14T22:13:20.123456Z",
                "duration": "1h30m0s",
                "raw": {"kind": "Pod", "spec": {}},
                "fieldsV1": {"f:metadata": {}},
            })
        );
        // The zero time is an empty message, and null (absent) in JSON; an
        // explicit epoch is not the zero time.
        let raw = Pb::new().m(16, Pb::new()).m(17, Pb::new().v(1, 0));
        assert_eq!(decode_as(&EVERY, &raw).unwrap(), json!({"microTime": "1970-01-01T00:00:00.000000Z"}));
        // An empty Quantity is zero; IntOrString's zero is the int 0.
        let raw = Pb::new().m(14, Pb::new()).m(15, Pb::new());
        assert_eq!(decode_as(&EVERY, &raw).unwrap(), json!({"quantity": "0", "port": 0}));
        for (d, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (300_000_000, "300ms"),
            (1_500_000_000, "1.5s"),
            (61_000_000_000, "1m1s"),
            (-(3_723_000_000_000i64), "-1h2m3s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(go_duration(d), s, "{d}");
        }
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let raw = Pb::new()
            .s(1, "kept")
            .v(99, 5)
            .b(100, b"\xff\xfe")
            .m(7, Pb::new().s(1, "a").v(50, 1))
            .0
            .into_iter()
            .chain([0x9d, 0x06, 1, 2, 3, 4]) // field 99, 32-bit
            .chain([0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]) // field 99, 64-bit
            .collect::<Vec<u8>>();
        assert_eq!(decode_as(&EVERY, &Pb(raw)).unwrap(), json!({"str": "kept", "inner": {"name": "a"}}));
    }

    #[test]
    fn malformed_messages_are_errors() {
        let err = |raw: Pb| match decode_as(&EVERY, &raw) {
            Err(Error::Malformed(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(err(Pb::new().v(1, 3)), "field str: expected a length-delimited value, found a varint one");
        assert_eq!(err(Pb::new().s(5, "x")), "field int32: expected a varint, found a length-delimited value");
        assert_eq!(err(Pb::new().m(7, Pb::new().s(2, "x"))), "field inner.count: expected a varint, found a length-delimited value");
        assert_eq!(err(Pb::new().m(8, Pb::new().b(1, b"\xff"))), "field list.name: a string is not UTF-8");
        assert!(err(Pb::new().m(19, Pb::new().b(1, b"{not json"))).starts_with("field raw: raw bytes are not JSON"));
        let mut truncated = Pb::new().m(7, Pb::new().s(1, "abc"));
        truncated.0.pop();
        assert_eq!(err(truncated), "a field runs past the end of the message");
        let mut inner = Pb::new().s(1, "abc");
        inner.0.pop();
        assert_eq!(err(Pb::new().m(7, inner)), "field inner: a field runs past the end of the message");
        assert_eq!(err(Pb(vec![0x0b])), "unsupported wire type 3 for field 1");
        assert_eq!(err(Pb(vec![0x80])), "a varint runs past the end of the message");
        assert_eq!(err(Pb(vec![0x00, 0x00])), "a field has number 0");
        // Through the envelope, the kind is named.
        let body = envelope("apps/v1", "Deployment", &Pb::new().m(2, Pb::new().s(1, "two")).0);
        assert_eq!(
            decode(&body),
            Err(Error::Malformed("Deployment apps/v1: field spec.replicas: expected a varint, found a length-delimited value".into()))
        );
    }

    /// ObjectMeta as gogo writes it for an object kubectl builds: every
    /// non-pointer field, empty or not.
    fn object_meta(name: &str, labels: &[(&str, &str)]) -> Pb {
        let mut m = Pb::new().s(1, name).s(2, "").s(3, "").s(4, "").s(5, "").s(6, "").v(7, 0).m(8, Pb::new());
        for (k, v) in labels {
            m = m.kv(11, k, v.as_bytes());
        }
        m
    }

    #[test]
    fn a_deployment_as_kubectl_create_deployment_sends_it() {
        // `kubectl create deployment web --image nginx --replicas 2 --port 80`.
        let container = Pb::new()
            .s(1, "nginx")
            .s(2, "nginx")
            .s(5, "")
            .m(6, Pb::new().s(1, "").v(2, 0).v(3, 80).s(4, "").s(5, ""))
            .m(8, Pb::new())
            .s(13, "")
            .s(14, "")
            .v(16, 0)
            .v(17, 0)
            .v(18, 0)
            .s(20, "");
        let pod_spec = Pb::new()
            .m(2, container)
            .s(3, "")
            .s(6, "")
            .s(8, "")
            .s(9, "")
            .v(11, 0) // hostNetwork
            .v(12, 0)
            .v(13, 0)
            .s(16, "")
            .s(19, "");
        let spec = Pb::new()
            .v(1, 2)
            .m(2, Pb::new().kv(1, "app", b"web"))
            .m(3, Pb::new().m(1, object_meta("", &[("app", "web")])).m(2, pod_spec))
            .m(4, Pb::new().s(1, ""))
            .v(5, 0)
            .v(7, 0);
        let status = Pb::new().v(1, 0).v(2, 0).v(3, 0).v(4, 0).v(5, 0).v(7, 0);
        let raw = Pb::new().m(1, object_meta("web", &[("app", "web")])).m(2, spec).m(3, status);
        let got = decode(&envelope("apps/v1", "Deployment", &raw.0));
        // What `kubectl create deployment ... --dry-run=client -o json` prints
        // (and `kubectl create -f` sends), less the nulls Go writes for zero times.
        let twin = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"labels": {"app": "web"}, "name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"image": "nginx", "name": "nginx", "ports": [{"containerPort": 80}], "resources": {}}]},
                },
            },
            "status": {},
        });
        assert_eq!(got, Ok(twin));
    }
}
