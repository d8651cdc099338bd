//! The hash of a pod template, bit for bit as upstream's
//! `controller.ComputeHash` computes it: the Deployment controller's
//! `pod-template-hash` and the DaemonSet controller's
//! `controller-revision-hash`.
//!
//! Upstream (`controller.ComputeHash` in `pkg/controller/controller_utils.go`,
//! with `hashutil.DeepHashObject` and `k8s.io/utils/dump.ForHash`) feeds an
//! FNV-32a hasher with go-spew's `%#v` rendering of the Go value
//! `v1.PodTemplateSpec` (config: indent " ", sorted map keys, methods
//! disabled, spewed keys, no pointer addresses, no capacities), then, when the
//! Deployment has a `status.collisionCount`, eight more bytes: the count as a
//! little-endian `uint32` followed by four zero bytes. The decimal form of the
//! 32-bit sum is then mapped digit by digit onto the alphabet
//! `bcdfghjklmnpqrstvwxz2456789` (`rand.SafeEncodeString`).
//!
//! So the hash depends on every field of the Go struct tree, in Go
//! declaration order, with Go type names, and on the in-memory state of the
//! object in kube-controller-manager's informer cache. That cache is filled
//! from **protobuf**, and the text here is what go-spew prints for the object
//! after a protobuf round trip, which is not always what a JSON decode gives:
//!
//! - Empty lists and maps arrive as nil (`<nil>`), exactly like absent ones;
//!   a present pointer to an empty struct (`securityContext: {}`) stays a
//!   non-nil pointer.
//! - `resource.Quantity` is re-parsed from the string its protobuf form
//!   carries (`Quantity.String()`), so its private fields (`i` int64 amount and
//!   scale, `d` arbitrary-precision `inf.Dec`, cached string `s`, `Format`) are
//!   those of `ParseQuantity(String(ParseQuantity(json)))`: "0.5" becomes
//!   `500m`, "1000m" becomes `1` with the string cache filled, "512Mi" keeps an
//!   empty cache (its mantissa is a multiple of 8), "1.5Gi" becomes `1536Mi`,
//!   `Pi`/`Ei` amounts live in `inf.Dec` (printed with `big.Int` words), and
//!   so on. This module carries its own port of that parser and canonical
//!   formatter.
//! - `metav1.Time` keeps whole seconds only, and its location is `time.Local`;
//!   a zero time prints with a nil location. The text assumes the controller
//!   manager's `time.Local` is Go's built-in UTC fallback (no
//!   `/etc/localtime`, or `TZ` empty or `UTC`). Pod templates virtually never
//!   carry timestamps, so this only matters for odd objects.
//! - `intstr.IntOrString` prints its type tag and both arms.
//! - `FieldsV1` (managed fields inside a template, which nobody writes) is
//!   hashed as the compact JSON that serde produces, which can differ from
//!   the bytes the API server stored.
//!
//! A JSON decode alone would differ from that for empty lists and maps, for
//! quantities (e.g. "0.5" would keep an empty cache and a scale of -1) and
//! for timestamps (sub-second parts): the protobuf form is the truth, and
//! that is what is reproduced here. Of the test fixtures, `resources`, `env`,
//! `volumes`, `kitchen_sink`, `odd_quantities` and `timestamps` hash
//! differently after a plain JSON decode (noted beside each), and so does a
//! template with empty lists and maps.
//!
//! How it is done: the template is serialized to `serde_json::Value` and
//! walked beside `POD_TEMPLATE_SPEC`, a table of the Go types of
//! `k8s.io/api/core/v1.PodTemplateSpec` as of Kubernetes v1.36 (every struct
//! with its fields in declaration order, their JSON names and Go types). The
//! table was produced from the v1.36 Go types (`k8s.io/api` v0.36.3,
//! `k8s.io/apimachinery` v0.36.3) by a throwaway reflection program, not
//! part of this repository, and checked by comparing the text printed here
//! with go-spew's own output; a test checks that every field k8s-openapi
//! serializes for the fixtures is in it.
//!
//! Reference values in the tests were computed with upstream's Go code:
//! `k8s.io/api` and `k8s.io/apimachinery` v0.36.3 (Kubernetes 1.36.3; their
//! protobuf marshalling and `Quantity`/`Time` codecs), `k8s.io/utils/dump.ForHash`
//! at the commit Kubernetes 1.36 pins (b8788abfbbc2), go-spew d8f796af33cc,
//! `rand.SafeEncodeString`, and the few lines of `controller.ComputeHash`
//! (FNV-32a, collision-count bytes) restated in the throwaway program. Each
//! fixture JSON was decoded into `v1.PodTemplateSpec`, marshalled to
//! protobuf, unmarshalled into a fresh object and hashed. Tens of thousands of
//! generated variants (every field filled at random, and quantity spellings)
//! were compared the same way during development.
//!
//! Not reproduced exactly:
//! - quantities whose decimal exponents would need powers of ten beyond
//!   10^100000 (upstream would compute them; here such a quantity hashes as
//!   "0"), and strings that are no quantity at all (the API server rejects
//!   them; here they hash as "0");
//! - a nil `scaleIO.secretRef`: k8s-openapi has no way to say nil there, so
//!   it hashes as a pointer to an empty reference (API validation requires
//!   the field, so stored objects have it);
//! - the timestamp and `FieldsV1` caveats above.

use crate::quantity::{Format, Parts, interpret_suffix, split};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// The `pod-template-hash` label value upstream's deployment controller
/// gives the ReplicaSet of `template` (`controller.ComputeHash(&d.Spec.Template,
/// d.Status.CollisionCount)`).
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut hasher = Fnv32a::new();
    hasher.write(pod_template_spew(template).as_bytes());
    if let Some(count) = collision_count {
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&(count as u32).to_le_bytes());
        hasher.write(&bytes);
    }
    safe_encode(&hasher.sum().to_string())
}

/// The text upstream hashes for `template`: go-spew's `%#v` rendering of the
/// Go `v1.PodTemplateSpec` as kube-controller-manager holds it after decoding
/// the protobuf form. Exposed for debugging and tests.
pub fn pod_template_spew(template: &PodTemplateSpec) -> String {
    let json = serde_json::to_value(template).unwrap_or(Value::Null);
    let mut printer = Printer { out: String::with_capacity(4096) };
    printer.value(&T::Struct(&POD_TEMPLATE_SPEC), present(Some(&json)), true);
    printer.out
}

/// FNV-1a, 32 bits (Go's `hash/fnv.New32a`).
struct Fnv32a(u32);

impl Fnv32a {
    fn new() -> Self {
        Fnv32a(0x811c_9dc5)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u32::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0193);
        }
    }

    fn sum(&self) -> u32 {
        self.0
    }
}

/// `rand.SafeEncodeString`: each character picks a letter of the vowel-free
/// alphabet by its code point.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.chars().map(|c| char::from(ALPHANUMS[(c as usize) % ALPHANUMS.len()])).collect()
}

/// JSON null counts as absent (Go nil / zero value).
fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

// ---------------------------------------------------------------------------
// The Go type tree.

/// A Go type, as far as go-spew's output needs it.
enum T {
    /// A string kind; the Go type name (`string`, `v1.PullPolicy`, ...).
    Str(&'static str),
    Bool,
    /// An integer kind; the Go type name (`int32`, `int64`, ...).
    Int(&'static str),
    Ptr(&'static T),
    /// A slice: its Go type name and element type.
    Slice(&'static str, &'static T),
    /// A map with string keys: its Go type name and value type.
    Map(&'static str, &'static T),
    Struct(&'static S),
    /// `resource.Quantity`.
    Quantity,
    /// `intstr.IntOrString`.
    IntOrStr,
    /// `metav1.Time`.
    Time,
    /// `[]byte` holding raw JSON (`FieldsV1.Raw`).
    RawJson,
}

/// A Go struct: type name and fields in declaration order.
struct S(&'static str, &'static [F]);

/// A struct field: Go name, JSON name (empty for an inlined embedded struct)
/// and type.
struct F(&'static str, &'static str, T);

const STR: T = T::Str("string");
const BOOL: T = T::Bool;
const I32: T = T::Int("int32");
const I64: T = T::Int("int64");
const P_STR: T = T::Ptr(&STR);
const P_BOOL: T = T::Ptr(&BOOL);
const P_I32: T = T::Ptr(&I32);
const P_I64: T = T::Ptr(&I64);
const STRS: T = T::Slice("[]string", &STR);
const STR_MAP: T = T::Map("map[string]string", &STR);
const RES_LIST: T = T::Map("v1.ResourceList", &T::Quantity);

impl T {
    fn go_name(&self, out: &mut String) {
        match self {
            T::Str(n) | T::Int(n) | T::Slice(n, _) | T::Map(n, _) => out.push_str(n),
            T::Bool => out.push_str("bool"),
            T::Ptr(inner) => {
                out.push('*');
                inner.go_name(out);
            }
            T::Struct(s) => out.push_str(s.0),
            T::Quantity => out.push_str("resource.Quantity"),
            T::IntOrStr => out.push_str("intstr.IntOrString"),
            T::Time => out.push_str("v1.Time"),
            T::RawJson => out.push_str("[]uint8"),
        }
    }
}

// ---------------------------------------------------------------------------
// The printer: go-spew's formatter with the `#` flag, for the kinds above.

struct Printer {
    out: String,
}

impl Printer {
    /// Prints `v` as a value of type `ty`. `show_type` is false where go-spew
    /// omits the type (slice elements, map keys and values, the target of a
    /// pointer).
    fn value(&mut self, ty: &T, v: Option<&Value>, show_type: bool) {
        if let T::Ptr(inner) = ty {
            if show_type {
                self.out.push_str("(*");
                inner.go_name(&mut self.out);
                self.out.push(')');
            } else if v.is_some() {
                self.out.push_str("<*>");
            }
            match v {
                None => self.out.push_str("<nil>"),
                Some(_) => self.value(inner, v, false),
            }
            return;
        }
        if show_type {
            self.out.push('(');
            ty.go_name(&mut self.out);
            self.out.push(')');
        }
        match ty {
            T::Str(_) => self.out.push_str(v.and_then(Value::as_str).unwrap_or("")),
            T::Bool => self.out.push_str(if v.and_then(Value::as_bool).unwrap_or(false) { "true" } else { "false" }),
            T::Int(_) => {
                let n = v.and_then(|v| v.as_i64().or_else(|| v.as_u64().map(|u| u as i64))).unwrap_or(0);
                let _ = write!(self.out, "{n}");
            }
            T::Slice(_, elem) => match v.and_then(Value::as_array).filter(|a| !a.is_empty()) {
                None => self.out.push_str("<nil>"),
                Some(items) => {
                    self.out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.out.push(' ');
                        }
                        self.value(elem, present(Some(item)), false);
                    }
                    self.out.push(']');
                }
            },
            T::Map(_, elem) => match v.and_then(Value::as_object).filter(|m| !m.is_empty()) {
                None => self.out.push_str("<nil>"),
                Some(map) => {
                    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                    self.out.push_str("map[");
                    for (i, (key, item)) in entries.into_iter().enumerate() {
                        if i > 0 {
                            self.out.push(' ');
                        }
                        self.out.push_str(key);
                        self.out.push(':');
                        self.value(elem, present(Some(item)), false);
                    }
                    self.out.push(']');
                }
            },
            T::Struct(s) => {
                let obj = v.filter(|v| v.is_object());
                self.out.push('{');
                for (i, F(name, json, fty)) in s.1.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.out.push_str(name);
                    self.out.push(':');
                    let fv = if json.is_empty() { obj } else { present(obj.and_then(|o| o.get(*json))) };
                    self.value(fty, fv, true);
                }
                self.out.push('}');
            }
            T::Quantity => {
                let text = v.and_then(Value::as_str).unwrap_or("");
                self.quantity(&Quantity::after_protobuf(text));
            }
            T::IntOrStr => {
                let (kind, int, string) = match v {
                    Some(Value::String(s)) => (1, 0, s.as_str()),
                    Some(n) => (0, n.as_i64().unwrap_or(0) as i32, ""),
                    None => (0, 0, ""),
                };
                let _ = write!(self.out, "{{Type:(intstr.Type){kind} IntVal:(int32){int} StrVal:(string){string}}}");
            }
            T::Time => self.time(v.and_then(Value::as_str)),
            T::RawJson => match v {
                None => self.out.push_str("<nil>"),
                Some(raw) => {
                    let bytes = serde_json::to_vec(raw).unwrap_or_default();
                    self.bytes(&bytes);
                }
            },
            T::Ptr(_) => {}
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.out.push('[');
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            let _ = write!(self.out, "{b}");
        }
        self.out.push(']');
    }

    /// `metav1.Time` after protobuf: whole seconds, location `time.Local`
    /// (a zero time has none).
    fn time(&mut self, text: Option<&str>) {
        // Seconds between 0001-01-01 and 1970-01-01 (Go's unixToInternal).
        const UNIX_TO_INTERNAL: i64 = 62_135_596_800;
        let parsed = text.and_then(|t| t.parse::<jiff::Timestamp>().ok());
        let zero = "{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}";
        let Some(ts) = parsed else {
            self.out.push_str(zero);
            return;
        };
        let mut secs = ts.as_second();
        let nanos = ts.subsec_nanosecond();
        if nanos < 0 {
            secs -= 1;
        }
        if secs == -UNIX_TO_INTERNAL && nanos == 0 {
            // Go's zero time: marshalled as an empty message, read back as zero.
            self.out.push_str(zero);
            return;
        }
        let _ = write!(
            self.out,
            "{{Time:(time.Time){{wall:(uint64)0 ext:(int64){} loc:(*time.Location){{name:(string)UTC zone:([]time.zone)<nil> \
             tx:([]time.zoneTrans)<nil> extend:(string) cacheStart:(int64)0 cacheEnd:(int64)0 cacheZone:(*time.zone)<nil>}}}}}}",
            secs + UNIX_TO_INTERNAL
        );
    }

    fn quantity(&mut self, q: &Quantity) {
        let _ = write!(self.out, "{{i:(resource.int64Amount){{value:(int64){} scale:(resource.Scale){}}} ", q.value, q.scale);
        self.out.push_str("d:(resource.infDecAmount){Dec:(*inf.Dec)");
        match &q.dec {
            None => self.out.push_str("<nil>"),
            Some(d) => {
                let _ = write!(self.out, "{{unscaled:(big.Int){{neg:(bool){} abs:(big.nat)", d.unscaled.neg);
                if d.unscaled.mag.is_empty() {
                    self.out.push_str("<nil>");
                } else {
                    self.out.push('[');
                    for (i, w) in d.unscaled.mag.iter().enumerate() {
                        if i > 0 {
                            self.out.push(' ');
                        }
                        let _ = write!(self.out, "{w}");
                    }
                    self.out.push(']');
                }
                let _ = write!(self.out, "}} scale:(inf.Scale){}}}", d.scale);
            }
        }
        let _ = write!(self.out, "}} s:(string){} Format:(resource.Format){}}}", q.s, q.format.name());
    }
}

// ---------------------------------------------------------------------------
// resource.Quantity: a port of upstream's parser and canonical formatter
// (k8s.io/apimachinery/pkg/api/resource), as far as the private state of a
// parsed quantity goes.

/// Powers of ten beyond this are not computed (see the module docs).
const MAX_POW10: u64 = 100_000;

/// The private state of a Go `resource.Quantity`: `i` (value, scale), `d`
/// (an `inf.Dec`, in which case `i` is zero), `s` (cached string), `Format`.
#[derive(Clone, Debug)]
struct Quantity {
    value: i64,
    scale: i32,
    dec: Option<Dec>,
    s: String,
    format: Format,
}

/// An amount: `int64Amount` or `infDecAmount`.
#[derive(Clone, Debug)]
enum Amount {
    Int(i64, i32),
    Dec(Dec),
}

impl Quantity {
    /// What kube-controller-manager holds for a quantity the API server
    /// serves as `text`: parsed (after JSON's whitespace trim), turned into
    /// its protobuf string, and parsed again.
    fn after_protobuf(text: &str) -> Quantity {
        let zero = Quantity { value: 0, scale: 0, dec: None, s: "0".to_string(), format: Format::DecimalSI };
        let Some(first) = parse_quantity(text.trim()) else {
            return zero;
        };
        let Some(wire) = first.string() else {
            return zero;
        };
        parse_quantity(&wire).unwrap_or(zero)
    }

    fn amount(&self) -> Amount {
        match &self.dec {
            Some(d) => Amount::Dec(d.clone()),
            None => Amount::Int(self.value, self.scale),
        }
    }

    /// `Quantity.String()`: the cached string, else the canonical form.
    /// `None` where the arithmetic is beyond [`MAX_POW10`].
    fn string(&self) -> Option<String> {
        if !self.s.is_empty() {
            return Some(self.s.clone());
        }
        let amount = self.amount();
        if amount.is_zero() {
            return Some("0".to_string());
        }
        let mut format = self.format;
        let mut rounded = None;
        if format == Format::BinarySI {
            if amount.cmp_i64(-1024)? == Ordering::Greater && amount.cmp_i64(1024)? == Ordering::Less {
                format = Format::DecimalSI;
            } else {
                let (r, exact) = amount.as_scale0()?;
                if !exact {
                    format = Format::DecimalSI;
                }
                rounded = Some(r);
            }
        }
        match (format, rounded) {
            (Format::BinarySI, Some(rounded)) => {
                let (mut number, exponent) = rounded.canonical_base1024()?;
                number.push_str(binary_suffix(exponent.wrapping_mul(10)));
                Some(number)
            }
            _ => {
                let (mut number, exponent) = amount.canonical()?;
                if format == Format::DecimalExponent {
                    if exponent != 0 {
                        let _ = write!(number, "e{exponent}");
                    }
                } else {
                    number.push_str(decimal_suffix(exponent));
                }
                Some(number)
            }
        }
    }
}

fn decimal_suffix(exponent: i32) -> &'static str {
    match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        // 0, and exponents without a suffix (upstream then drops it).
        _ => "",
    }
}

fn binary_suffix(exponent: i32) -> &'static str {
    match exponent {
        10 => "Ki",
        20 => "Mi",
        30 => "Gi",
        40 => "Ti",
        50 => "Pi",
        60 => "Ei",
        _ => "",
    }
}

/// Upstream's `ParseQuantity`.
fn parse_quantity(s: &str) -> Option<Quantity> {
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(Quantity { value: 0, scale: 0, dec: None, s: s.to_string(), format: Format::DecimalSI });
    }
    let Parts { positive, value, num, denom, suffix } = split(s).ok()?;
    let (base, exponent, mut format) = interpret_suffix(suffix)?;

    // Go does this arithmetic in int32.
    let (num_len, denom_len) = (num.len() as i32, denom.len() as i32);
    let (mut scale, precision, mantissa): (i32, i32, i64) = match format {
        Format::DecimalExponent | Format::DecimalSI => (exponent, 18i32.wrapping_sub(num_len.wrapping_add(denom_len)), 1),
        Format::BinarySI if exponent >= 0 && denom.is_empty() => {
            (0, 15i32.wrapping_sub(num_len).wrapping_sub(exponent.wrapping_mul(3) / 10).wrapping_sub(1), 1i64 << (exponent & 63))
        }
        Format::BinarySI => (0, -1, 1),
    };
    if precision >= 0 {
        scale = scale.wrapping_sub(denom_len);
        if scale >= -9 {
            let shifted = format!("{num}{denom}");
            let parsed: i64 = shifted.parse().ok()?;
            if let Some(mut result) = int64_multiply(parsed, mantissa) {
                if !positive {
                    result = result.wrapping_neg();
                }
                let keep = match format {
                    Format::BinarySI => exponent % 10 == 0 && parsed & 7 != 0,
                    _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
                };
                let s = if keep { s.to_string() } else { String::new() };
                return Some(Quantity { value: result, scale, dec: None, s, format });
            }
        }
    }

    // Arbitrary precision.
    let mut amount = Dec::parse(value)?;
    if base == 10 {
        amount.scale = amount.scale.wrapping_add(exponent.wrapping_neg());
    } else {
        amount.unscaled.shl(exponent.unsigned_abs());
    }
    let negative = amount.unscaled.neg;
    amount.unscaled.neg = false;
    if !amount.unscaled.is_zero() {
        amount = amount.round_up(9)?;
    }
    if format == Format::BinarySI {
        let max = Dec::from_i64(i64::MAX, 0);
        if amount.cmp(&max)? == Ordering::Greater {
            amount = max;
        }
        if amount.cmp(&Dec::from_i64(1, 0))? == Ordering::Less && amount.cmp(&Dec::from_i64(0, 0))? == Ordering::Greater {
            format = Format::DecimalSI;
        }
    }
    if negative && !amount.unscaled.is_zero() {
        amount.unscaled.neg = true;
    }
    Some(Quantity { value: 0, scale: 0, dec: Some(amount), s: String::new(), format })
}

fn int64_multiply(a: i64, b: i64) -> Option<i64> {
    if a == 0 || b == 0 || a == 1 || b == 1 {
        return Some(a.wrapping_mul(b));
    }
    if a == i64::MIN || b == i64::MIN {
        return None;
    }
    let c = a.wrapping_mul(b);
    (c.wrapping_div(b) == a).then_some(c)
}

/// `int64MultiplyScale` and its 10/100/1000 variants.
fn int64_multiply_scale(a: i64, b: i64) -> Option<i64> {
    if a == 0 || a == 1 {
        return Some(a.wrapping_mul(b));
    }
    if a == i64::MIN && b != 1 {
        return None;
    }
    let c = a.wrapping_mul(b);
    (c.wrapping_div(b) == a).then_some(c)
}

/// `positiveScaleInt64`: base * 10^scale, if it fits.
fn positive_scale_int64(base: i64, scale: i32) -> Option<i64> {
    match scale {
        0 => Some(base),
        1 => int64_multiply_scale(base, 10),
        2 => int64_multiply_scale(base, 100),
        3 => int64_multiply_scale(base, 1000),
        6 => int64_multiply_scale(base, 1_000_000),
        9 => int64_multiply_scale(base, 1_000_000_000),
        _ => {
            let mut value = base;
            for _ in 0..scale.max(0) {
                if value == 0 {
                    break;
                }
                value = int64_multiply_scale(value, 10)?;
            }
            Some(value)
        }
    }
}

/// `negativeScaleInt64`: base / 10^scale rounded away from zero, and whether
/// that was exact.
fn negative_scale_int64(base: i64, scale: i32) -> (i64, bool) {
    if scale == 0 {
        return (base, true);
    }
    let mut value = base;
    let mut fraction = false;
    for _ in 0..scale.max(0) {
        if !fraction && value % 10 != 0 {
            fraction = true;
        }
        value /= 10;
        if value == 0 {
            if fraction {
                return (if base > 0 { 1 } else { -1 }, false);
            }
            return (0, true);
        }
    }
    if fraction {
        if base > 0 {
            value += 1;
        } else {
            value -= 1;
        }
    }
    (value, !fraction)
}

/// `removeInt64Factors`.
fn remove_int64_factors(value: i64, base: i64) -> (i64, i32) {
    let negative = value < 0;
    let mut result = if negative { value.wrapping_neg() } else { value };
    let mut times = 0i32;
    while result >= base && result % base == 0 {
        times += 1;
        result /= base;
    }
    (if negative { result.wrapping_neg() } else { result }, times)
}

impl Amount {
    fn is_zero(&self) -> bool {
        match self {
            Amount::Int(v, _) => *v == 0,
            Amount::Dec(d) => d.unscaled.is_zero(),
        }
    }

    /// Exact comparison with an integer.
    fn cmp_i64(&self, y: i64) -> Option<Ordering> {
        match self {
            Amount::Dec(d) => d.cmp(&Dec::from_i64(y, 0)),
            Amount::Int(v, scale) => {
                let (v, y) = (i128::from(*v), i128::from(y));
                Some(if *scale >= 0 {
                    if *scale > 19 && v != 0 { v.cmp(&0) } else { (v * 10i128.pow(scale.unsigned_abs().min(19))).cmp(&y) }
                } else if -i64::from(*scale) > 19 && y != 0 {
                    0.cmp(&y)
                } else {
                    v.cmp(&(y * 10i128.pow(scale.unsigned_abs().min(19))))
                })
            }
        }
    }

    /// `AsScale(0)`: rounded up to an integer, and whether that was exact.
    fn as_scale0(&self) -> Option<(Amount, bool)> {
        match self {
            Amount::Int(v, scale) if *scale >= 0 => Some((Amount::Int(*v, *scale), true)),
            Amount::Int(v, scale) => {
                let (r, exact) = negative_scale_int64(*v, scale.wrapping_neg());
                Some((Amount::Int(r, 0), exact))
            }
            Amount::Dec(d) => {
                let r = d.round_up(0)?;
                let exact = r.cmp(d)? == Ordering::Equal;
                Some((Amount::Dec(r), exact))
            }
        }
    }

    /// `AsCanonicalBytes`: digits and a decimal exponent that is a multiple
    /// of three.
    fn canonical(&self) -> Option<(String, i32)> {
        match self {
            Amount::Int(v, scale) => {
                let (mut amount, times) = remove_int64_factors(*v, 10);
                let mut exponent = scale.wrapping_add(times);
                let factor = match exponent % 3 {
                    1 | -2 => Some((10, 1)),
                    2 | -1 => Some((100, 2)),
                    _ => None,
                };
                if let Some((factor, less)) = factor {
                    match int64_multiply_scale(amount, factor) {
                        Some(a) => {
                            amount = a;
                            exponent = exponent.wrapping_sub(less);
                        }
                        None => return Dec::from_i64(*v, scale.wrapping_neg()).canonical(),
                    }
                }
                Some((amount.to_string(), exponent))
            }
            Amount::Dec(d) => d.canonical(),
        }
    }

    /// `AsCanonicalBase1024Bytes`: digits and a power of 1024.
    fn canonical_base1024(&self) -> Option<(String, i32)> {
        match self {
            Amount::Int(v, scale) => {
                let value =
                    if *scale < 0 { Some(negative_scale_int64(*v, scale.wrapping_neg()).0) } else { positive_scale_int64(*v, *scale) };
                match value {
                    Some(value) => {
                        let (amount, times) = remove_int64_factors(value, 1024);
                        Some((amount.to_string(), times))
                    }
                    None => Dec::from_i64(*v, scale.wrapping_neg()).canonical_base1024(),
                }
            }
            Amount::Dec(d) => d.canonical_base1024(),
        }
    }
}

/// An `inf.Dec`: unscaled * 10^-scale.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Dec {
    unscaled: Big,
    scale: i32,
}

impl Dec {
    fn from_i64(v: i64, scale: i32) -> Dec {
        Dec { unscaled: Big::from_i64(v), scale }
    }

    /// `Dec.SetString` for what `parseQuantityString` hands it: a sign,
    /// digits, and at most one decimal point.
    fn parse(s: &str) -> Option<Dec> {
        let (neg, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut unscaled = Big::zero();
        for b in int.bytes().chain(frac.bytes()) {
            if !b.is_ascii_digit() {
                return None;
            }
            unscaled.mul_add_small(10, u64::from(b - b'0'));
        }
        unscaled.neg = neg && !unscaled.is_zero();
        Some(Dec { unscaled, scale: i32::try_from(frac.len()).ok()? })
    }

    /// `Round(x, scale, inf.RoundUp)`: to `scale` decimal places, rounding
    /// away from zero.
    fn round_up(&self, scale: i32) -> Option<Dec> {
        let shift = i64::from(scale) - i64::from(self.scale);
        let mut unscaled = self.unscaled.clone();
        match shift.cmp(&0) {
            Ordering::Greater => unscaled.mul_pow10(u64::try_from(shift).ok()?)?,
            Ordering::Less => {
                if unscaled.div_pow10(shift.unsigned_abs()) {
                    unscaled.add_one_away_from(self.unscaled.neg);
                }
            }
            Ordering::Equal => {}
        }
        Some(Dec { unscaled, scale })
    }

    /// Exact comparison.
    fn cmp(&self, other: &Dec) -> Option<Ordering> {
        let (mut a, mut b) = (self.unscaled.clone(), other.unscaled.clone());
        let diff = i64::from(self.scale) - i64::from(other.scale);
        if diff > 0 {
            b.mul_pow10(diff.unsigned_abs())?;
        } else if diff < 0 {
            a.mul_pow10(diff.unsigned_abs())?;
        }
        Some(a.cmp(&b))
    }

    fn canonical(&self) -> Option<(String, i32)> {
        let mut amount = self.unscaled.clone();
        let times = amount.remove_factors_of_ten();
        let mut exponent = self.scale.wrapping_neg().wrapping_add(times);
        while exponent % 3 != 0 {
            amount.mul_add_small(10, 0);
            exponent = exponent.wrapping_sub(1);
        }
        Some((amount.to_string(), exponent))
    }

    fn canonical_base1024(&self) -> Option<(String, i32)> {
        let mut amount = self.round_up(0)?.unscaled;
        let mut times = 0;
        while !amount.is_zero() {
            let mut q = amount.clone();
            if q.div_small(1024) != 0 {
                break;
            }
            amount = q;
            times += 1;
        }
        Some((amount.to_string(), times))
    }
}

/// A `big.Int`: sign and magnitude in 64-bit words, least significant
/// first, without leading zero words (zero has none).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big {
    neg: bool,
    mag: Vec<u64>,
}

const TEN19: u64 = 10_000_000_000_000_000_000;

impl Big {
    fn zero() -> Big {
        Big { neg: false, mag: Vec::new() }
    }

    fn from_i64(v: i64) -> Big {
        let mut b = Big { neg: v < 0, mag: vec![v.unsigned_abs()] };
        b.normalize();
        b
    }

    fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }

    fn normalize(&mut self) {
        while self.mag.last() == Some(&0) {
            self.mag.pop();
        }
        if self.mag.is_empty() {
            self.neg = false;
        }
    }

    /// |self| = |self| * m + a.
    fn mul_add_small(&mut self, m: u64, a: u64) {
        let mut carry = u128::from(a);
        for w in &mut self.mag {
            let t = u128::from(*w) * u128::from(m) + carry;
            *w = t as u64;
            carry = t >> 64;
        }
        if carry != 0 {
            self.mag.push(carry as u64);
        }
        self.normalize();
    }

    /// |self| = |self| / d (truncated); returns the remainder.
    fn div_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for w in self.mag.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*w);
            *w = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        self.normalize();
        rem as u64
    }

    fn mul_pow10(&mut self, n: u64) -> Option<()> {
        if self.is_zero() {
            return Some(());
        }
        if n > MAX_POW10 {
            return None;
        }
        let mut left = n;
        while left > 0 {
            let step = left.min(19);
            self.mul_add_small(10u64.pow(step as u32), 0);
            left -= step;
        }
        Some(())
    }

    /// |self| = |self| / 10^n (truncated); whether the remainder was non-zero.
    fn div_pow10(&mut self, n: u64) -> bool {
        if self.is_zero() {
            return false;
        }
        // More digits removed than there are: the quotient is zero.
        if n > 20 * self.mag.len() as u64 {
            self.mag.clear();
            self.normalize();
            return true;
        }
        let mut inexact = false;
        let mut left = n;
        while left > 0 {
            let step = left.min(19);
            inexact |= self.div_small(10u64.pow(step as u32)) != 0;
            left -= step;
        }
        inexact
    }

    /// Adds one to the magnitude, with the given sign.
    fn add_one_away_from(&mut self, neg: bool) {
        self.neg = neg;
        let mut carry = true;
        for w in &mut self.mag {
            let (v, c) = w.overflowing_add(1);
            *w = v;
            carry = c;
            if !c {
                break;
            }
        }
        if carry {
            self.mag.push(1);
        }
    }

    fn shl(&mut self, bits: u32) {
        if self.is_zero() {
            return;
        }
        let (words, bits) = ((bits / 64) as usize, bits % 64);
        if bits > 0 {
            let mut carry = 0u64;
            for w in &mut self.mag {
                let next = *w >> (64 - bits);
                *w = (*w << bits) | carry;
                carry = next;
            }
            if carry != 0 {
                self.mag.push(carry);
            }
        }
        self.mag.splice(0..0, std::iter::repeat_n(0, words));
    }

    /// Removes factors of ten, returning how many.
    fn remove_factors_of_ten(&mut self) -> i32 {
        let mut times = 0i32;
        while !self.is_zero() {
            let mut q = self.clone();
            if q.div_small(TEN19) == 0 {
                *self = q;
                times += 19;
                continue;
            }
            let mut q = self.clone();
            if q.div_small(10) != 0 {
                break;
            }
            *self = q;
            times += 1;
        }
        times
    }

    fn cmp_mag(&self, other: &Big) -> Ordering {
        self.mag.len().cmp(&other.mag.len()).then_with(|| self.mag.iter().rev().cmp(other.mag.iter().rev()))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_mag(other),
            (true, true) => other.cmp_mag(self),
        }
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Big {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut chunks = Vec::new();
        let mut rest = self.clone();
        while !rest.is_zero() {
            chunks.push(rest.div_small(TEN19));
        }
        let mut text = String::from(if self.neg { "-" } else { "" });
        for (i, chunk) in chunks.iter().rev().enumerate() {
            if i == 0 {
                let _ = write!(text, "{chunk}");
            } else {
                let _ = write!(text, "{chunk:019}");
            }
        }
        f.write_str(&text)
    }
}

// ---------------------------------------------------------------------------
// The Go types of k8s.io/api/core/v1.PodTemplateSpec, Kubernetes v1.36: each
// struct with its fields in declaration order (Go name, JSON name, type).

static POD_TEMPLATE_SPEC: S =
    S("v1.PodTemplateSpec", &[F("ObjectMeta", "metadata", T::Struct(&OBJECT_META)), F("Spec", "spec", T::Struct(&POD_SPEC))]);
static POD_SPEC: S = S(
    "v1.PodSpec",
    &[
        F("Volumes", "volumes", T::Slice("[]v1.Volume", &T::Struct(&VOLUME))),
        F("InitContainers", "initContainers", T::Slice("[]v1.Container", &T::Struct(&CONTAINER))),
        F("Containers", "containers", T::Slice("[]v1.Container", &T::Struct(&CONTAINER))),
        F("EphemeralContainers", "ephemeralContainers", T::Slice("[]v1.EphemeralContainer", &T::Struct(&EPHEMERAL_CONTAINER))),
        F("RestartPolicy", "restartPolicy", T::Str("v1.RestartPolicy")),
        F("TerminationGracePeriodSeconds", "terminationGracePeriodSeconds", P_I64),
        F("ActiveDeadlineSeconds", "activeDeadlineSeconds", P_I64),
        F("DNSPolicy", "dnsPolicy", T::Str("v1.DNSPolicy")),
        F("NodeSelector", "nodeSelector", STR_MAP),
        F("ServiceAccountName", "serviceAccountName", STR),
        F("DeprecatedServiceAccount", "serviceAccount", STR),
        F("AutomountServiceAccountToken", "automountServiceAccountToken", P_BOOL),
        F("NodeName", "nodeName", STR),
        F("HostNetwork", "hostNetwork", BOOL),
        F("HostPID", "hostPID", BOOL),
        F("HostIPC", "hostIPC", BOOL),
        F("ShareProcessNamespace", "shareProcessNamespace", P_BOOL),
        F("SecurityContext", "securityContext", T::Ptr(&T::Struct(&POD_SECURITY_CONTEXT))),
        F("ImagePullSecrets", "imagePullSecrets", T::Slice("[]v1.LocalObjectReference", &T::Struct(&LOCAL_OBJECT_REFERENCE))),
        F("Hostname", "hostname", STR),
        F("Subdomain", "subdomain", STR),
        F("Affinity", "affinity", T::Ptr(&T::Struct(&AFFINITY))),
        F("SchedulerName", "schedulerName", STR),
        F("Tolerations", "tolerations", T::Slice("[]v1.Toleration", &T::Struct(&TOLERATION))),
        F("HostAliases", "hostAliases", T::Slice("[]v1.HostAlias", &T::Struct(&HOST_ALIAS))),
        F("PriorityClassName", "priorityClassName", STR),
        F("Priority", "priority", P_I32),
        F("DNSConfig", "dnsConfig", T::Ptr(&T::Struct(&POD_DNS_CONFIG))),
        F("ReadinessGates", "readinessGates", T::Slice("[]v1.PodReadinessGate", &T::Struct(&POD_READINESS_GATE))),
        F("RuntimeClassName", "runtimeClassName", P_STR),
        F("EnableServiceLinks", "enableServiceLinks", P_BOOL),
        F("PreemptionPolicy", "preemptionPolicy", T::Ptr(&T::Str("v1.PreemptionPolicy"))),
        F("Overhead", "overhead", RES_LIST),
        F(
            "TopologySpreadConstraints",
            "topologySpreadConstraints",
            T::Slice("[]v1.TopologySpreadConstraint", &T::Struct(&TOPOLOGY_SPREAD_CONSTRAINT)),
        ),
        F("SetHostnameAsFQDN", "setHostnameAsFQDN", P_BOOL),
        F("OS", "os", T::Ptr(&T::Struct(&POD_OS))),
        F("HostUsers", "hostUsers", P_BOOL),
        F("SchedulingGates", "schedulingGates", T::Slice("[]v1.PodSchedulingGate", &T::Struct(&POD_SCHEDULING_GATE))),
        F("ResourceClaims", "resourceClaims", T::Slice("[]v1.PodResourceClaim", &T::Struct(&POD_RESOURCE_CLAIM))),
        F("Resources", "resources", T::Ptr(&T::Struct(&RESOURCE_REQUIREMENTS))),
        F("HostnameOverride", "hostnameOverride", P_STR),
        F("SchedulingGroup", "schedulingGroup", T::Ptr(&T::Struct(&POD_SCHEDULING_GROUP))),
    ],
);
static POD_SCHEDULING_GROUP: S = S("v1.PodSchedulingGroup", &[F("PodGroupName", "podGroupName", P_STR)]);
static POD_RESOURCE_CLAIM: S = S(
    "v1.PodResourceClaim",
    &[
        F("Name", "name", STR),
        F("ResourceClaimName", "resourceClaimName", P_STR),
        F("ResourceClaimTemplateName", "resourceClaimTemplateName", P_STR),
    ],
);
static POD_SCHEDULING_GATE: S = S("v1.PodSchedulingGate", &[F("Name", "name", STR)]);
static POD_OS: S = S("v1.PodOS", &[F("Name", "name", T::Str("v1.OSName"))]);
static TOPOLOGY_SPREAD_CONSTRAINT: S = S(
    "v1.TopologySpreadConstraint",
    &[
        F("MaxSkew", "maxSkew", I32),
        F("TopologyKey", "topologyKey", STR),
        F("WhenUnsatisfiable", "whenUnsatisfiable", T::Str("v1.UnsatisfiableConstraintAction")),
        F("LabelSelector", "labelSelector", T::Ptr(&T::Struct(&LABEL_SELECTOR))),
        F("MinDomains", "minDomains", P_I32),
        F("NodeAffinityPolicy", "nodeAffinityPolicy", T::Ptr(&T::Str("v1.NodeInclusionPolicy"))),
        F("NodeTaintsPolicy", "nodeTaintsPolicy", T::Ptr(&T::Str("v1.NodeInclusionPolicy"))),
        F("MatchLabelKeys", "matchLabelKeys", STRS),
    ],
);
static POD_READINESS_GATE: S = S("v1.PodReadinessGate", &[F("ConditionType", "conditionType", T::Str("v1.PodConditionType"))]);
static POD_DNS_CONFIG: S = S(
    "v1.PodDNSConfig",
    &[
        F("Nameservers", "nameservers", STRS),
        F("Searches", "searches", STRS),
        F("Options", "options", T::Slice("[]v1.PodDNSConfigOption", &T::Struct(&POD_DNS_CONFIG_OPTION))),
    ],
);
static POD_DNS_CONFIG_OPTION: S = S("v1.PodDNSConfigOption", &[F("Name", "name", STR), F("Value", "value", P_STR)]);
static HOST_ALIAS: S = S("v1.HostAlias", &[F("IP", "ip", STR), F("Hostnames", "hostnames", STRS)]);
static TOLERATION: S = S(
    "v1.Toleration",
    &[
        F("Key", "key", STR),
        F("Operator", "operator", T::Str("v1.TolerationOperator")),
        F("Value", "value", STR),
        F("Effect", "effect", T::Str("v1.TaintEffect")),
        F("TolerationSeconds", "tolerationSeconds", P_I64),
    ],
);
static AFFINITY: S = S(
    "v1.Affinity",
    &[
        F("NodeAffinity", "nodeAffinity", T::Ptr(&T::Struct(&NODE_AFFINITY))),
        F("PodAffinity", "podAffinity", T::Ptr(&T::Struct(&POD_AFFINITY))),
        F("PodAntiAffinity", "podAntiAffinity", T::Ptr(&T::Struct(&POD_ANTI_AFFINITY))),
    ],
);
static POD_ANTI_AFFINITY: S = S(
    "v1.PodAntiAffinity",
    &[
        F(
            "RequiredDuringSchedulingIgnoredDuringExecution",
            "requiredDuringSchedulingIgnoredDuringExecution",
            T::Slice("[]v1.PodAffinityTerm", &T::Struct(&POD_AFFINITY_TERM)),
        ),
        F(
            "PreferredDuringSchedulingIgnoredDuringExecution",
            "preferredDuringSchedulingIgnoredDuringExecution",
            T::Slice("[]v1.WeightedPodAffinityTerm", &T::Struct(&WEIGHTED_POD_AFFINITY_TERM)),
        ),
    ],
);
static POD_AFFINITY: S = S(
    "v1.PodAffinity",
    &[
        F(
            "RequiredDuringSchedulingIgnoredDuringExecution",
            "requiredDuringSchedulingIgnoredDuringExecution",
            T::Slice("[]v1.PodAffinityTerm", &T::Struct(&POD_AFFINITY_TERM)),
        ),
        F(
            "PreferredDuringSchedulingIgnoredDuringExecution",
            "preferredDuringSchedulingIgnoredDuringExecution",
            T::Slice("[]v1.WeightedPodAffinityTerm", &T::Struct(&WEIGHTED_POD_AFFINITY_TERM)),
        ),
    ],
);
static WEIGHTED_POD_AFFINITY_TERM: S =
    S("v1.WeightedPodAffinityTerm", &[F("Weight", "weight", I32), F("PodAffinityTerm", "podAffinityTerm", T::Struct(&POD_AFFINITY_TERM))]);
static POD_AFFINITY_TERM: S = S(
    "v1.PodAffinityTerm",
    &[
        F("LabelSelector", "labelSelector", T::Ptr(&T::Struct(&LABEL_SELECTOR))),
        F("Namespaces", "namespaces", STRS),
        F("TopologyKey", "topologyKey", STR),
        F("NamespaceSelector", "namespaceSelector", T::Ptr(&T::Struct(&LABEL_SELECTOR))),
        F("MatchLabelKeys", "matchLabelKeys", STRS),
        F("MismatchLabelKeys", "mismatchLabelKeys", STRS),
    ],
);
static NODE_AFFINITY: S = S(
    "v1.NodeAffinity",
    &[
        F(
            "RequiredDuringSchedulingIgnoredDuringExecution",
            "requiredDuringSchedulingIgnoredDuringExecution",
            T::Ptr(&T::Struct(&NODE_SELECTOR)),
        ),
        F(
            "PreferredDuringSchedulingIgnoredDuringExecution",
            "preferredDuringSchedulingIgnoredDuringExecution",
            T::Slice("[]v1.PreferredSchedulingTerm", &T::Struct(&PREFERRED_SCHEDULING_TERM)),
        ),
    ],
);
static PREFERRED_SCHEDULING_TERM: S =
    S("v1.PreferredSchedulingTerm", &[F("Weight", "weight", I32), F("Preference", "preference", T::Struct(&NODE_SELECTOR_TERM))]);
static NODE_SELECTOR: S = S(
    "v1.NodeSelector",
    &[F("NodeSelectorTerms", "nodeSelectorTerms", T::Slice("[]v1.NodeSelectorTerm", &T::Struct(&NODE_SELECTOR_TERM)))],
);
static NODE_SELECTOR_TERM: S = S(
    "v1.NodeSelectorTerm",
    &[
        F("MatchExpressions", "matchExpressions", T::Slice("[]v1.NodeSelectorRequirement", &T::Struct(&NODE_SELECTOR_REQUIREMENT))),
        F("MatchFields", "matchFields", T::Slice("[]v1.NodeSelectorRequirement", &T::Struct(&NODE_SELECTOR_REQUIREMENT))),
    ],
);
static NODE_SELECTOR_REQUIREMENT: S = S(
    "v1.NodeSelectorRequirement",
    &[F("Key", "key", STR), F("Operator", "operator", T::Str("v1.NodeSelectorOperator")), F("Values", "values", STRS)],
);
static POD_SECURITY_CONTEXT: S = S(
    "v1.PodSecurityContext",
    &[
        F("SELinuxOptions", "seLinuxOptions", T::Ptr(&T::Struct(&SE_LINUX_OPTIONS))),
        F("WindowsOptions", "windowsOptions", T::Ptr(&T::Struct(&WINDOWS_SECURITY_CONTEXT_OPTIONS))),
        F("RunAsUser", "runAsUser", P_I64),
        F("RunAsGroup", "runAsGroup", P_I64),
        F("RunAsNonRoot", "runAsNonRoot", P_BOOL),
        F("SupplementalGroups", "supplementalGroups", T::Slice("[]int64", &I64)),
        F("SupplementalGroupsPolicy", "supplementalGroupsPolicy", T::Ptr(&T::Str("v1.SupplementalGroupsPolicy"))),
        F("FSGroup", "fsGroup", P_I64),
        F("Sysctls", "sysctls", T::Slice("[]v1.Sysctl", &T::Struct(&SYSCTL))),
        F("FSGroupChangePolicy", "fsGroupChangePolicy", T::Ptr(&T::Str("v1.PodFSGroupChangePolicy"))),
        F("SeccompProfile", "seccompProfile", T::Ptr(&T::Struct(&SECCOMP_PROFILE))),
        F("AppArmorProfile", "appArmorProfile", T::Ptr(&T::Struct(&APP_ARMOR_PROFILE))),
        F("SELinuxChangePolicy", "seLinuxChangePolicy", T::Ptr(&T::Str("v1.PodSELinuxChangePolicy"))),
    ],
);
static SYSCTL: S = S("v1.Sysctl", &[F("Name", "name", STR), F("Value", "value", STR)]);
static EPHEMERAL_CONTAINER: S = S(
    "v1.EphemeralContainer",
    &[F("EphemeralContainerCommon", "", T::Struct(&EPHEMERAL_CONTAINER_COMMON)), F("TargetContainerName", "targetContainerName", STR)],
);
/// The fields of `v1.Container`, which `v1.EphemeralContainerCommon`
/// repeats in Go, in the same order.
static CONTAINER_FIELDS: &[F] = &[
    F("Name", "name", STR),
    F("Image", "image", STR),
    F("Command", "command", STRS),
    F("Args", "args", STRS),
    F("WorkingDir", "workingDir", STR),
    F("Ports", "ports", T::Slice("[]v1.ContainerPort", &T::Struct(&CONTAINER_PORT))),
    F("EnvFrom", "envFrom", T::Slice("[]v1.EnvFromSource", &T::Struct(&ENV_FROM_SOURCE))),
    F("Env", "env", T::Slice("[]v1.EnvVar", &T::Struct(&ENV_VAR))),
    F("Resources", "resources", T::Struct(&RESOURCE_REQUIREMENTS)),
    F("ResizePolicy", "resizePolicy", T::Slice("[]v1.ContainerResizePolicy", &T::Struct(&CONTAINER_RESIZE_POLICY))),
    F("RestartPolicy", "restartPolicy", T::Ptr(&T::Str("v1.ContainerRestartPolicy"))),
    F("RestartPolicyRules", "restartPolicyRules", T::Slice("[]v1.ContainerRestartRule", &T::Struct(&CONTAINER_RESTART_RULE))),
    F("VolumeMounts", "volumeMounts", T::Slice("[]v1.VolumeMount", &T::Struct(&VOLUME_MOUNT))),
    F("VolumeDevices", "volumeDevices", T::Slice("[]v1.VolumeDevice", &T::Struct(&VOLUME_DEVICE))),
    F("LivenessProbe", "livenessProbe", T::Ptr(&T::Struct(&PROBE))),
    F("ReadinessProbe", "readinessProbe", T::Ptr(&T::Struct(&PROBE))),
    F("StartupProbe", "startupProbe", T::Ptr(&T::Struct(&PROBE))),
    F("Lifecycle", "lifecycle", T::Ptr(&T::Struct(&LIFECYCLE))),
    F("TerminationMessagePath", "terminationMessagePath", STR),
    F("TerminationMessagePolicy", "terminationMessagePolicy", T::Str("v1.TerminationMessagePolicy")),
    F("ImagePullPolicy", "imagePullPolicy", T::Str("v1.PullPolicy")),
    F("SecurityContext", "securityContext", T::Ptr(&T::Struct(&SECURITY_CONTEXT))),
    F("Stdin", "stdin", BOOL),
    F("StdinOnce", "stdinOnce", BOOL),
    F("TTY", "tty", BOOL),
];
static EPHEMERAL_CONTAINER_COMMON: S = S("v1.EphemeralContainerCommon", CONTAINER_FIELDS);
static CONTAINER: S = S("v1.Container", CONTAINER_FIELDS);
static SECURITY_CONTEXT: S = S(
    "v1.SecurityContext",
    &[
        F("Capabilities", "capabilities", T::Ptr(&T::Struct(&CAPABILITIES))),
        F("Privileged", "privileged", P_BOOL),
        F("SELinuxOptions", "seLinuxOptions", T::Ptr(&T::Struct(&SE_LINUX_OPTIONS))),
        F("WindowsOptions", "windowsOptions", T::Ptr(&T::Struct(&WINDOWS_SECURITY_CONTEXT_OPTIONS))),
        F("RunAsUser", "runAsUser", P_I64),
        F("RunAsGroup", "runAsGroup", P_I64),
        F("RunAsNonRoot", "runAsNonRoot", P_BOOL),
        F("ReadOnlyRootFilesystem", "readOnlyRootFilesystem", P_BOOL),
        F("AllowPrivilegeEscalation", "allowPrivilegeEscalation", P_BOOL),
        F("ProcMount", "procMount", T::Ptr(&T::Str("v1.ProcMountType"))),
        F("SeccompProfile", "seccompProfile", T::Ptr(&T::Struct(&SECCOMP_PROFILE))),
        F("AppArmorProfile", "appArmorProfile", T::Ptr(&T::Struct(&APP_ARMOR_PROFILE))),
    ],
);
static APP_ARMOR_PROFILE: S =
    S("v1.AppArmorProfile", &[F("Type", "type", T::Str("v1.AppArmorProfileType")), F("LocalhostProfile", "localhostProfile", P_STR)]);
static SECCOMP_PROFILE: S =
    S("v1.SeccompProfile", &[F("Type", "type", T::Str("v1.SeccompProfileType")), F("LocalhostProfile", "localhostProfile", P_STR)]);
static WINDOWS_SECURITY_CONTEXT_OPTIONS: S = S(
    "v1.WindowsSecurityContextOptions",
    &[
        F("GMSACredentialSpecName", "gmsaCredentialSpecName", P_STR),
        F("GMSACredentialSpec", "gmsaCredentialSpec", P_STR),
        F("RunAsUserName", "runAsUserName", P_STR),
        F("HostProcess", "hostProcess", P_BOOL),
    ],
);
static SE_LINUX_OPTIONS: S =
    S("v1.SELinuxOptions", &[F("User", "user", STR), F("Role", "role", STR), F("Type", "type", STR), F("Level", "level", STR)]);
static CAPABILITIES: S = S(
    "v1.Capabilities",
    &[
        F("Add", "add", T::Slice("[]v1.Capability", &T::Str("v1.Capability"))),
        F("Drop", "drop", T::Slice("[]v1.Capability", &T::Str("v1.Capability"))),
    ],
);
static LIFECYCLE: S = S(
    "v1.Lifecycle",
    &[
        F("PostStart", "postStart", T::Ptr(&T::Struct(&LIFECYCLE_HANDLER))),
        F("PreStop", "preStop", T::Ptr(&T::Struct(&LIFECYCLE_HANDLER))),
        F("StopSignal", "stopSignal", T::Ptr(&T::Str("v1.Signal"))),
    ],
);
static LIFECYCLE_HANDLER: S = S(
    "v1.LifecycleHandler",
    &[
        F("Exec", "exec", T::Ptr(&T::Struct(&EXEC_ACTION))),
        F("HTTPGet", "httpGet", T::Ptr(&T::Struct(&HTTP_GET_ACTION))),
        F("TCPSocket", "tcpSocket", T::Ptr(&T::Struct(&TCP_SOCKET_ACTION))),
        F("Sleep", "sleep", T::Ptr(&T::Struct(&SLEEP_ACTION))),
    ],
);
static SLEEP_ACTION: S = S("v1.SleepAction", &[F("Seconds", "seconds", I64)]);
static PROBE: S = S(
    "v1.Probe",
    &[
        F("ProbeHandler", "", T::Struct(&PROBE_HANDLER)),
        F("InitialDelaySeconds", "initialDelaySeconds", I32),
        F("TimeoutSeconds", "timeoutSeconds", I32),
        F("PeriodSeconds", "periodSeconds", I32),
        F("SuccessThreshold", "successThreshold", I32),
        F("FailureThreshold", "failureThreshold", I32),
        F("TerminationGracePeriodSeconds", "terminationGracePeriodSeconds", P_I64),
    ],
);
static PROBE_HANDLER: S = S(
    "v1.ProbeHandler",
    &[
        F("Exec", "exec", T::Ptr(&T::Struct(&EXEC_ACTION))),
        F("HTTPGet", "httpGet", T::Ptr(&T::Struct(&HTTP_GET_ACTION))),
        F("TCPSocket", "tcpSocket", T::Ptr(&T::Struct(&TCP_SOCKET_ACTION))),
        F("GRPC", "grpc", T::Ptr(&T::Struct(&GRPC_ACTION))),
    ],
);
static GRPC_ACTION: S = S("v1.GRPCAction", &[F("Port", "port", I32), F("Service", "service", P_STR)]);
static TCP_SOCKET_ACTION: S = S("v1.TCPSocketAction", &[F("Port", "port", T::IntOrStr), F("Host", "host", STR)]);
static HTTP_GET_ACTION: S = S(
    "v1.HTTPGetAction",
    &[
        F("Path", "path", STR),
        F("Port", "port", T::IntOrStr),
        F("Host", "host", STR),
        F("Scheme", "scheme", T::Str("v1.URIScheme")),
        F("HTTPHeaders", "httpHeaders", T::Slice("[]v1.HTTPHeader", &T::Struct(&HTTP_HEADER))),
    ],
);
static HTTP_HEADER: S = S("v1.HTTPHeader", &[F("Name", "name", STR), F("Value", "value", STR)]);
static EXEC_ACTION: S = S("v1.ExecAction", &[F("Command", "command", STRS)]);
static VOLUME_DEVICE: S = S("v1.VolumeDevice", &[F("Name", "name", STR), F("DevicePath", "devicePath", STR)]);
static VOLUME_MOUNT: S = S(
    "v1.VolumeMount",
    &[
        F("Name", "name", STR),
        F("ReadOnly", "readOnly", BOOL),
        F("RecursiveReadOnly", "recursiveReadOnly", T::Ptr(&T::Str("v1.RecursiveReadOnlyMode"))),
        F("MountPath", "mountPath", STR),
        F("SubPath", "subPath", STR),
        F("MountPropagation", "mountPropagation", T::Ptr(&T::Str("v1.MountPropagationMode"))),
        F("SubPathExpr", "subPathExpr", STR),
    ],
);
static CONTAINER_RESTART_RULE: S = S(
    "v1.ContainerRestartRule",
    &[
        F("Action", "action", T::Str("v1.ContainerRestartRuleAction")),
        F("ExitCodes", "exitCodes", T::Ptr(&T::Struct(&CONTAINER_RESTART_RULE_ON_EXIT_CODES))),
    ],
);
static CONTAINER_RESTART_RULE_ON_EXIT_CODES: S = S(
    "v1.ContainerRestartRuleOnExitCodes",
    &[F("Operator", "operator", T::Str("v1.ContainerRestartRuleOnExitCodesOperator")), F("Values", "values", T::Slice("[]int32", &I32))],
);
static CONTAINER_RESIZE_POLICY: S = S(
    "v1.ContainerResizePolicy",
    &[
        F("ResourceName", "resourceName", T::Str("v1.ResourceName")),
        F("RestartPolicy", "restartPolicy", T::Str("v1.ResourceResizeRestartPolicy")),
    ],
);
static RESOURCE_REQUIREMENTS: S = S(
    "v1.ResourceRequirements",
    &[
        F("Limits", "limits", RES_LIST),
        F("Requests", "requests", RES_LIST),
        F("Claims", "claims", T::Slice("[]v1.ResourceClaim", &T::Struct(&RESOURCE_CLAIM))),
    ],
);
static RESOURCE_CLAIM: S = S("v1.ResourceClaim", &[F("Name", "name", STR), F("Request", "request", STR)]);
static ENV_VAR: S =
    S("v1.EnvVar", &[F("Name", "name", STR), F("Value", "value", STR), F("ValueFrom", "valueFrom", T::Ptr(&T::Struct(&ENV_VAR_SOURCE)))]);
static ENV_VAR_SOURCE: S = S(
    "v1.EnvVarSource",
    &[
        F("FieldRef", "fieldRef", T::Ptr(&T::Struct(&OBJECT_FIELD_SELECTOR))),
        F("ResourceFieldRef", "resourceFieldRef", T::Ptr(&T::Struct(&RESOURCE_FIELD_SELECTOR))),
        F("ConfigMapKeyRef", "configMapKeyRef", T::Ptr(&T::Struct(&CONFIG_MAP_KEY_SELECTOR))),
        F("SecretKeyRef", "secretKeyRef", T::Ptr(&T::Struct(&SECRET_KEY_SELECTOR))),
        F("FileKeyRef", "fileKeyRef", T::Ptr(&T::Struct(&FILE_KEY_SELECTOR))),
    ],
);
static FILE_KEY_SELECTOR: S = S(
    "v1.FileKeySelector",
    &[F("VolumeName", "volumeName", STR), F("Path", "path", STR), F("Key", "key", STR), F("Optional", "optional", P_BOOL)],
);
static SECRET_KEY_SELECTOR: S = S(
    "v1.SecretKeySelector",
    &[F("LocalObjectReference", "", T::Struct(&LOCAL_OBJECT_REFERENCE)), F("Key", "key", STR), F("Optional", "optional", P_BOOL)],
);
static CONFIG_MAP_KEY_SELECTOR: S = S(
    "v1.ConfigMapKeySelector",
    &[F("LocalObjectReference", "", T::Struct(&LOCAL_OBJECT_REFERENCE)), F("Key", "key", STR), F("Optional", "optional", P_BOOL)],
);
static ENV_FROM_SOURCE: S = S(
    "v1.EnvFromSource",
    &[
        F("Prefix", "prefix", STR),
        F("ConfigMapRef", "configMapRef", T::Ptr(&T::Struct(&CONFIG_MAP_ENV_SOURCE))),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&SECRET_ENV_SOURCE))),
    ],
);
static SECRET_ENV_SOURCE: S =
    S("v1.SecretEnvSource", &[F("LocalObjectReference", "", T::Struct(&LOCAL_OBJECT_REFERENCE)), F("Optional", "optional", P_BOOL)]);
static CONFIG_MAP_ENV_SOURCE: S =
    S("v1.ConfigMapEnvSource", &[F("LocalObjectReference", "", T::Struct(&LOCAL_OBJECT_REFERENCE)), F("Optional", "optional", P_BOOL)]);
static CONTAINER_PORT: S = S(
    "v1.ContainerPort",
    &[
        F("Name", "name", STR),
        F("HostPort", "hostPort", I32),
        F("ContainerPort", "containerPort", I32),
        F("Protocol", "protocol", T::Str("v1.Protocol")),
        F("HostIP", "hostIP", STR),
    ],
);
static VOLUME: S = S("v1.Volume", &[F("Name", "name", STR), F("VolumeSource", "", T::Struct(&VOLUME_SOURCE))]);
static VOLUME_SOURCE: S = S(
    "v1.VolumeSource",
    &[
        F("HostPath", "hostPath", T::Ptr(&T::Struct(&HOST_PATH_VOLUME_SOURCE))),
        F("EmptyDir", "emptyDir", T::Ptr(&T::Struct(&EMPTY_DIR_VOLUME_SOURCE))),
        F("GCEPersistentDisk", "gcePersistentDisk", T::Ptr(&T::Struct(&GCE_PERSISTENT_DISK_VOLUME_SOURCE))),
        F("AWSElasticBlockStore", "awsElasticBlockStore", T::Ptr(&T::Struct(&AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE))),
        F("GitRepo", "gitRepo", T::Ptr(&T::Struct(&GIT_REPO_VOLUME_SOURCE))),
        F("Secret", "secret", T::Ptr(&T::Struct(&SECRET_VOLUME_SOURCE))),
        F("NFS", "nfs", T::Ptr(&T::Struct(&NFS_VOLUME_SOURCE))),
        F("ISCSI", "iscsi", T::Ptr(&T::Struct(&ISCSI_VOLUME_SOURCE))),
        F("Glusterfs", "glusterfs", T::Ptr(&T::Struct(&GLUSTERFS_VOLUME_SOURCE))),
        F("PersistentVolumeClaim", "persistentVolumeClaim", T::Ptr(&T::Struct(&PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE))),
        F("RBD", "rbd", T::Ptr(&T::Struct(&RBD_VOLUME_SOURCE))),
        F("FlexVolume", "flexVolume", T::Ptr(&T::Struct(&FLEX_VOLUME_SOURCE))),
        F("Cinder", "cinder", T::Ptr(&T::Struct(&CINDER_VOLUME_SOURCE))),
        F("CephFS", "cephfs", T::Ptr(&T::Struct(&CEPH_FS_VOLUME_SOURCE))),
        F("Flocker", "flocker", T::Ptr(&T::Struct(&FLOCKER_VOLUME_SOURCE))),
        F("DownwardAPI", "downwardAPI", T::Ptr(&T::Struct(&DOWNWARD_API_VOLUME_SOURCE))),
        F("FC", "fc", T::Ptr(&T::Struct(&FC_VOLUME_SOURCE))),
        F("AzureFile", "azureFile", T::Ptr(&T::Struct(&AZURE_FILE_VOLUME_SOURCE))),
        F("ConfigMap", "configMap", T::Ptr(&T::Struct(&CONFIG_MAP_VOLUME_SOURCE))),
        F("VsphereVolume", "vsphereVolume", T::Ptr(&T::Struct(&VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE))),
        F("Quobyte", "quobyte", T::Ptr(&T::Struct(&QUOBYTE_VOLUME_SOURCE))),
        F("AzureDisk", "azureDisk", T::Ptr(&T::Struct(&AZURE_DISK_VOLUME_SOURCE))),
        F("PhotonPersistentDisk", "photonPersistentDisk", T::Ptr(&T::Struct(&PHOTON_PERSISTENT_DISK_VOLUME_SOURCE))),
        F("Projected", "projected", T::Ptr(&T::Struct(&PROJECTED_VOLUME_SOURCE))),
        F("PortworxVolume", "portworxVolume", T::Ptr(&T::Struct(&PORTWORX_VOLUME_SOURCE))),
        F("ScaleIO", "scaleIO", T::Ptr(&T::Struct(&SCALE_IO_VOLUME_SOURCE))),
        F("StorageOS", "storageos", T::Ptr(&T::Struct(&STORAGE_OS_VOLUME_SOURCE))),
        F("CSI", "csi", T::Ptr(&T::Struct(&CSI_VOLUME_SOURCE))),
        F("Ephemeral", "ephemeral", T::Ptr(&T::Struct(&EPHEMERAL_VOLUME_SOURCE))),
        F("Image", "image", T::Ptr(&T::Struct(&IMAGE_VOLUME_SOURCE))),
    ],
);
static IMAGE_VOLUME_SOURCE: S =
    S("v1.ImageVolumeSource", &[F("Reference", "reference", STR), F("PullPolicy", "pullPolicy", T::Str("v1.PullPolicy"))]);
static EPHEMERAL_VOLUME_SOURCE: S = S(
    "v1.EphemeralVolumeSource",
    &[F("VolumeClaimTemplate", "volumeClaimTemplate", T::Ptr(&T::Struct(&PERSISTENT_VOLUME_CLAIM_TEMPLATE)))],
);
static PERSISTENT_VOLUME_CLAIM_TEMPLATE: S = S(
    "v1.PersistentVolumeClaimTemplate",
    &[F("ObjectMeta", "metadata", T::Struct(&OBJECT_META)), F("Spec", "spec", T::Struct(&PERSISTENT_VOLUME_CLAIM_SPEC))],
);
static PERSISTENT_VOLUME_CLAIM_SPEC: S = S(
    "v1.PersistentVolumeClaimSpec",
    &[
        F("AccessModes", "accessModes", T::Slice("[]v1.PersistentVolumeAccessMode", &T::Str("v1.PersistentVolumeAccessMode"))),
        F("Selector", "selector", T::Ptr(&T::Struct(&LABEL_SELECTOR))),
        F("Resources", "resources", T::Struct(&VOLUME_RESOURCE_REQUIREMENTS)),
        F("VolumeName", "volumeName", STR),
        F("StorageClassName", "storageClassName", P_STR),
        F("VolumeMode", "volumeMode", T::Ptr(&T::Str("v1.PersistentVolumeMode"))),
        F("DataSource", "dataSource", T::Ptr(&T::Struct(&TYPED_LOCAL_OBJECT_REFERENCE))),
        F("DataSourceRef", "dataSourceRef", T::Ptr(&T::Struct(&TYPED_OBJECT_REFERENCE))),
        F("VolumeAttributesClassName", "volumeAttributesClassName", P_STR),
    ],
);
static TYPED_OBJECT_REFERENCE: S = S(
    "v1.TypedObjectReference",
    &[F("APIGroup", "apiGroup", P_STR), F("Kind", "kind", STR), F("Name", "name", STR), F("Namespace", "namespace", P_STR)],
);
static TYPED_LOCAL_OBJECT_REFERENCE: S =
    S("v1.TypedLocalObjectReference", &[F("APIGroup", "apiGroup", P_STR), F("Kind", "kind", STR), F("Name", "name", STR)]);
static VOLUME_RESOURCE_REQUIREMENTS: S =
    S("v1.VolumeResourceRequirements", &[F("Limits", "limits", RES_LIST), F("Requests", "requests", RES_LIST)]);
static CSI_VOLUME_SOURCE: S = S(
    "v1.CSIVolumeSource",
    &[
        F("Driver", "driver", STR),
        F("ReadOnly", "readOnly", P_BOOL),
        F("FSType", "fsType", P_STR),
        F("VolumeAttributes", "volumeAttributes", STR_MAP),
        F("NodePublishSecretRef", "nodePublishSecretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
    ],
);
static STORAGE_OS_VOLUME_SOURCE: S = S(
    "v1.StorageOSVolumeSource",
    &[
        F("VolumeName", "volumeName", STR),
        F("VolumeNamespace", "volumeNamespace", STR),
        F("FSType", "fsType", STR),
        F("ReadOnly", "readOnly", BOOL),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
    ],
);
static SCALE_IO_VOLUME_SOURCE: S = S(
    "v1.ScaleIOVolumeSource",
    &[
        F("Gateway", "gateway", STR),
        F("System", "system", STR),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
        F("SSLEnabled", "sslEnabled", BOOL),
        F("ProtectionDomain", "protectionDomain", STR),
        F("StoragePool", "storagePool", STR),
        F("StorageMode", "storageMode", STR),
        F("VolumeName", "volumeName", STR),
        F("FSType", "fsType", STR),
        F("ReadOnly", "readOnly", BOOL),
    ],
);
static PORTWORX_VOLUME_SOURCE: S =
    S("v1.PortworxVolumeSource", &[F("VolumeID", "volumeID", STR), F("FSType", "fsType", STR), F("ReadOnly", "readOnly", BOOL)]);
static PROJECTED_VOLUME_SOURCE: S = S(
    "v1.ProjectedVolumeSource",
    &[F("Sources", "sources", T::Slice("[]v1.VolumeProjection", &T::Struct(&VOLUME_PROJECTION))), F("DefaultMode", "defaultMode", P_I32)],
);
static VOLUME_PROJECTION: S = S(
    "v1.VolumeProjection",
    &[
        F("Secret", "secret", T::Ptr(&T::Struct(&SECRET_PROJECTION))),
        F("DownwardAPI", "downwardAPI", T::Ptr(&T::Struct(&DOWNWARD_API_PROJECTION))),
        F("ConfigMap", "configMap", T::Ptr(&T::Struct(&CONFIG_MAP_PROJECTION))),
        F("ServiceAccountToken", "serviceAccountToken", T::Ptr(&T::Struct(&SERVICE_ACCOUNT_TOKEN_PROJECTION))),
        F("ClusterTrustBundle", "clusterTrustBundle", T::Ptr(&T::Struct(&CLUSTER_TRUST_BUNDLE_PROJECTION))),
        F("PodCertificate", "podCertificate", T::Ptr(&T::Struct(&POD_CERTIFICATE_PROJECTION))),
    ],
);
static POD_CERTIFICATE_PROJECTION: S = S(
    "v1.PodCertificateProjection",
    &[
        F("SignerName", "signerName", STR),
        F("KeyType", "keyType", STR),
        F("MaxExpirationSeconds", "maxExpirationSeconds", P_I32),
        F("CredentialBundlePath", "credentialBundlePath", STR),
        F("KeyPath", "keyPath", STR),
        F("CertificateChainPath", "certificateChainPath", STR),
        F("UserAnnotations", "userAnnotations", STR_MAP),
    ],
);
static CLUSTER_TRUST_BUNDLE_PROJECTION: S = S(
    "v1.ClusterTrustBundleProjection",
    &[
        F("Name", "name", P_STR),
        F("SignerName", "signerName", P_STR),
        F("LabelSelector", "labelSelector", T::Ptr(&T::Struct(&LABEL_SELECTOR))),
        F("Optional", "optional", P_BOOL),
        F("Path", "path", STR),
    ],
);
static LABEL_SELECTOR: S = S(
    "v1.LabelSelector",
    &[
        F("MatchLabels", "matchLabels", STR_MAP),
        F("MatchExpressions", "matchExpressions", T::Slice("[]v1.LabelSelectorRequirement", &T::Struct(&LABEL_SELECTOR_REQUIREMENT))),
    ],
);
static LABEL_SELECTOR_REQUIREMENT: S = S(
    "v1.LabelSelectorRequirement",
    &[F("Key", "key", STR), F("Operator", "operator", T::Str("v1.LabelSelectorOperator")), F("Values", "values", STRS)],
);
static SERVICE_ACCOUNT_TOKEN_PROJECTION: S = S(
    "v1.ServiceAccountTokenProjection",
    &[F("Audience", "audience", STR), F("ExpirationSeconds", "expirationSeconds", P_I64), F("Path", "path", STR)],
);
static CONFIG_MAP_PROJECTION: S = S(
    "v1.ConfigMapProjection",
    &[
        F("LocalObjectReference", "", T::Struct(&LOCAL_OBJECT_REFERENCE)),
        F("Items", "items", T::Slice("[]v1.KeyToPath", &T::Struct(&KEY_TO_PATH))),
        F("Optional", "optional", P_BOOL),
    ],
);
static DOWNWARD_API_PROJECTION: S =
    S("v1.DownwardAPIProjection", &[F("Items", "items", T::Slice("[]v1.DownwardAPIVolumeFile", &T::Struct(&DOWNWARD_API_VOLUME_FILE)))]);
static SECRET_PROJECTION: S = S(
    "v1.SecretProjection",
    &[
        F("LocalObjectReference", "", T::Struct(&LOCAL_OBJECT_REFERENCE)),
        F("Items", "items", T::Slice("[]v1.KeyToPath", &T::Struct(&KEY_TO_PATH))),
        F("Optional", "optional", P_BOOL),
    ],
);
static PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: S =
    S("v1.PhotonPersistentDiskVolumeSource", &[F("PdID", "pdID", STR), F("FSType", "fsType", STR)]);
static AZURE_DISK_VOLUME_SOURCE: S = S(
    "v1.AzureDiskVolumeSource",
    &[
        F("DiskName", "diskName", STR),
        F("DataDiskURI", "diskURI", STR),
        F("CachingMode", "cachingMode", T::Ptr(&T::Str("v1.AzureDataDiskCachingMode"))),
        F("FSType", "fsType", P_STR),
        F("ReadOnly", "readOnly", P_BOOL),
        F("Kind", "kind", T::Ptr(&T::Str("v1.AzureDataDiskKind"))),
    ],
);
static QUOBYTE_VOLUME_SOURCE: S = S(
    "v1.QuobyteVolumeSource",
    &[
        F("Registry", "registry", STR),
        F("Volume", "volume", STR),
        F("ReadOnly", "readOnly", BOOL),
        F("User", "user", STR),
        F("Group", "group", STR),
        F("Tenant", "tenant", STR),
    ],
);
static VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: S = S(
    "v1.VsphereVirtualDiskVolumeSource",
    &[
        F("VolumePath", "volumePath", STR),
        F("FSType", "fsType", STR),
        F("StoragePolicyName", "storagePolicyName", STR),
        F("StoragePolicyID", "storagePolicyID", STR),
    ],
);
static CONFIG_MAP_VOLUME_SOURCE: S = S(
    "v1.ConfigMapVolumeSource",
    &[
        F("LocalObjectReference", "", T::Struct(&LOCAL_OBJECT_REFERENCE)),
        F("Items", "items", T::Slice("[]v1.KeyToPath", &T::Struct(&KEY_TO_PATH))),
        F("DefaultMode", "defaultMode", P_I32),
        F("Optional", "optional", P_BOOL),
    ],
);
static AZURE_FILE_VOLUME_SOURCE: S =
    S("v1.AzureFileVolumeSource", &[F("SecretName", "secretName", STR), F("ShareName", "shareName", STR), F("ReadOnly", "readOnly", BOOL)]);
static FC_VOLUME_SOURCE: S = S(
    "v1.FCVolumeSource",
    &[
        F("TargetWWNs", "targetWWNs", STRS),
        F("Lun", "lun", P_I32),
        F("FSType", "fsType", STR),
        F("ReadOnly", "readOnly", BOOL),
        F("WWIDs", "wwids", STRS),
    ],
);
static DOWNWARD_API_VOLUME_SOURCE: S = S(
    "v1.DownwardAPIVolumeSource",
    &[
        F("Items", "items", T::Slice("[]v1.DownwardAPIVolumeFile", &T::Struct(&DOWNWARD_API_VOLUME_FILE))),
        F("DefaultMode", "defaultMode", P_I32),
    ],
);
static DOWNWARD_API_VOLUME_FILE: S = S(
    "v1.DownwardAPIVolumeFile",
    &[
        F("Path", "path", STR),
        F("FieldRef", "fieldRef", T::Ptr(&T::Struct(&OBJECT_FIELD_SELECTOR))),
        F("ResourceFieldRef", "resourceFieldRef", T::Ptr(&T::Struct(&RESOURCE_FIELD_SELECTOR))),
        F("Mode", "mode", P_I32),
    ],
);
static RESOURCE_FIELD_SELECTOR: S = S(
    "v1.ResourceFieldSelector",
    &[F("ContainerName", "containerName", STR), F("Resource", "resource", STR), F("Divisor", "divisor", T::Quantity)],
);
static OBJECT_FIELD_SELECTOR: S = S("v1.ObjectFieldSelector", &[F("APIVersion", "apiVersion", STR), F("FieldPath", "fieldPath", STR)]);
static FLOCKER_VOLUME_SOURCE: S =
    S("v1.FlockerVolumeSource", &[F("DatasetName", "datasetName", STR), F("DatasetUUID", "datasetUUID", STR)]);
static CEPH_FS_VOLUME_SOURCE: S = S(
    "v1.CephFSVolumeSource",
    &[
        F("Monitors", "monitors", STRS),
        F("Path", "path", STR),
        F("User", "user", STR),
        F("SecretFile", "secretFile", STR),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
        F("ReadOnly", "readOnly", BOOL),
    ],
);
static CINDER_VOLUME_SOURCE: S = S(
    "v1.CinderVolumeSource",
    &[
        F("VolumeID", "volumeID", STR),
        F("FSType", "fsType", STR),
        F("ReadOnly", "readOnly", BOOL),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
    ],
);
static FLEX_VOLUME_SOURCE: S = S(
    "v1.FlexVolumeSource",
    &[
        F("Driver", "driver", STR),
        F("FSType", "fsType", STR),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
        F("ReadOnly", "readOnly", BOOL),
        F("Options", "options", STR_MAP),
    ],
);
static RBD_VOLUME_SOURCE: S = S(
    "v1.RBDVolumeSource",
    &[
        F("CephMonitors", "monitors", STRS),
        F("RBDImage", "image", STR),
        F("FSType", "fsType", STR),
        F("RBDPool", "pool", STR),
        F("RadosUser", "user", STR),
        F("Keyring", "keyring", STR),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
        F("ReadOnly", "readOnly", BOOL),
    ],
);
static PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: S =
    S("v1.PersistentVolumeClaimVolumeSource", &[F("ClaimName", "claimName", STR), F("ReadOnly", "readOnly", BOOL)]);
static GLUSTERFS_VOLUME_SOURCE: S =
    S("v1.GlusterfsVolumeSource", &[F("EndpointsName", "endpoints", STR), F("Path", "path", STR), F("ReadOnly", "readOnly", BOOL)]);
static ISCSI_VOLUME_SOURCE: S = S(
    "v1.ISCSIVolumeSource",
    &[
        F("TargetPortal", "targetPortal", STR),
        F("IQN", "iqn", STR),
        F("Lun", "lun", I32),
        F("ISCSIInterface", "iscsiInterface", STR),
        F("FSType", "fsType", STR),
        F("ReadOnly", "readOnly", BOOL),
        F("Portals", "portals", STRS),
        F("DiscoveryCHAPAuth", "chapAuthDiscovery", BOOL),
        F("SessionCHAPAuth", "chapAuthSession", BOOL),
        F("SecretRef", "secretRef", T::Ptr(&T::Struct(&LOCAL_OBJECT_REFERENCE))),
        F("InitiatorName", "initiatorName", P_STR),
    ],
);
static LOCAL_OBJECT_REFERENCE: S = S("v1.LocalObjectReference", &[F("Name", "name", STR)]);
static NFS_VOLUME_SOURCE: S =
    S("v1.NFSVolumeSource", &[F("Server", "server", STR), F("Path", "path", STR), F("ReadOnly", "readOnly", BOOL)]);
static SECRET_VOLUME_SOURCE: S = S(
    "v1.SecretVolumeSource",
    &[
        F("SecretName", "secretName", STR),
        F("Items", "items", T::Slice("[]v1.KeyToPath", &T::Struct(&KEY_TO_PATH))),
        F("DefaultMode", "defaultMode", P_I32),
        F("Optional", "optional", P_BOOL),
    ],
);
static KEY_TO_PATH: S = S("v1.KeyToPath", &[F("Key", "key", STR), F("Path", "path", STR), F("Mode", "mode", P_I32)]);
static GIT_REPO_VOLUME_SOURCE: S =
    S("v1.GitRepoVolumeSource", &[F("Repository", "repository", STR), F("Revision", "revision", STR), F("Directory", "directory", STR)]);
static AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: S = S(
    "v1.AWSElasticBlockStoreVolumeSource",
    &[F("VolumeID", "volumeID", STR), F("FSType", "fsType", STR), F("Partition", "partition", I32), F("ReadOnly", "readOnly", BOOL)],
);
static GCE_PERSISTENT_DISK_VOLUME_SOURCE: S = S(
    "v1.GCEPersistentDiskVolumeSource",
    &[F("PDName", "pdName", STR), F("FSType", "fsType", STR), F("Partition", "partition", I32), F("ReadOnly", "readOnly", BOOL)],
);
static EMPTY_DIR_VOLUME_SOURCE: S =
    S("v1.EmptyDirVolumeSource", &[F("Medium", "medium", T::Str("v1.StorageMedium")), F("SizeLimit", "sizeLimit", T::Ptr(&T::Quantity))]);
static HOST_PATH_VOLUME_SOURCE: S =
    S("v1.HostPathVolumeSource", &[F("Path", "path", STR), F("Type", "type", T::Ptr(&T::Str("v1.HostPathType")))]);
static OBJECT_META: S = S(
    "v1.ObjectMeta",
    &[
        F("Name", "name", STR),
        F("GenerateName", "generateName", STR),
        F("Namespace", "namespace", STR),
        F("SelfLink", "selfLink", STR),
        F("UID", "uid", T::Str("types.UID")),
        F("ResourceVersion", "resourceVersion", STR),
        F("Generation", "generation", I64),
        F("CreationTimestamp", "creationTimestamp", T::Time),
        F("DeletionTimestamp", "deletionTimestamp", T::Ptr(&T::Time)),
        F("DeletionGracePeriodSeconds", "deletionGracePeriodSeconds", P_I64),
        F("Labels", "labels", STR_MAP),
        F("Annotations", "annotations", STR_MAP),
        F("OwnerReferences", "ownerReferences", T::Slice("[]v1.OwnerReference", &T::Struct(&OWNER_REFERENCE))),
        F("Finalizers", "finalizers", STRS),
        F("ManagedFields", "managedFields", T::Slice("[]v1.ManagedFieldsEntry", &T::Struct(&MANAGED_FIELDS_ENTRY))),
    ],
);
static MANAGED_FIELDS_ENTRY: S = S(
    "v1.ManagedFieldsEntry",
    &[
        F("Manager", "manager", STR),
        F("Operation", "operation", T::Str("v1.ManagedFieldsOperationType")),
        F("APIVersion", "apiVersion", STR),
        F("Time", "time", T::Ptr(&T::Time)),
        F("FieldsType", "fieldsType", STR),
        F("FieldsV1", "fieldsV1", T::Ptr(&T::Struct(&FIELDS_V1))),
        F("Subresource", "subresource", STR),
    ],
);
static FIELDS_V1: S = S("v1.FieldsV1", &[F("Raw", "", T::RawJson)]);
static OWNER_REFERENCE: S = S(
    "v1.OwnerReference",
    &[
        F("APIVersion", "apiVersion", STR),
        F("Kind", "kind", STR),
        F("Name", "name", STR),
        F("UID", "uid", T::Str("types.UID")),
        F("Controller", "controller", P_BOOL),
        F("BlockOwnerDeletion", "blockOwnerDeletion", P_BOOL),
    ],
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn template(json: &str) -> PodTemplateSpec {
        serde_json::from_str(json).expect("fixture parses")
    }

    #[test]
    fn fixtures_match_upstream() {
        for (name, json, expected) in FIXTURES {
            let t = template(json);
            let got = [None, Some(0), Some(1), Some(i32::MAX)].map(|c| pod_template_hash(&t, c));
            assert_eq!(got, expected.map(str::to_string), "fixture {name}");
        }
    }

    /// Every key the fixtures set (and so k8s-openapi serializes) is a field
    /// of the Go type table; none is silently left out of the hash.
    #[test]
    fn fixtures_use_only_known_fields() {
        fn known(s: &S, keys: &mut BTreeSet<&'static str>) {
            for F(_, json, ty) in s.1 {
                match (json.is_empty(), ty) {
                    (true, T::Struct(inner)) => known(inner, keys),
                    _ => {
                        keys.insert(json);
                    }
                }
            }
        }
        fn fields(s: &S, obj: &Value, path: &str, out: &mut Vec<String>) {
            for F(_, json, ty) in s.1 {
                match (json.is_empty(), ty) {
                    (true, T::Struct(inner)) => fields(inner, obj, path, out),
                    _ => {
                        if let Some(v) = obj.get(*json) {
                            walk(ty, v, &format!("{path}.{json}"), out);
                        }
                    }
                }
            }
        }
        fn walk(ty: &T, v: &Value, path: &str, out: &mut Vec<String>) {
            match ty {
                T::Ptr(inner) => walk(inner, v, path, out),
                T::Slice(_, elem) => {
                    for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                        walk(elem, item, &format!("{path}[{i}]"), out);
                    }
                }
                T::Map(_, elem) => {
                    for (k, item) in v.as_object().into_iter().flatten() {
                        walk(elem, item, &format!("{path}[{k}]"), out);
                    }
                }
                // FieldsV1: any JSON.
                T::Struct(s) if s.1.iter().any(|F(_, json, ty)| json.is_empty() && matches!(ty, T::RawJson)) => {}
                T::Struct(s) => {
                    let Some(obj) = v.as_object() else { return };
                    let mut keys = BTreeSet::new();
                    known(s, &mut keys);
                    out.extend(obj.keys().filter(|k| !keys.contains(k.as_str())).map(|k| format!("{path}.{k}")));
                    fields(s, v, path, out);
                }
                _ => {}
            }
        }
        for (name, json, _) in FIXTURES {
            let v = serde_json::to_value(template(json)).expect("serializes");
            let mut unknown = Vec::new();
            walk(&T::Struct(&POD_TEMPLATE_SPEC), &v, "", &mut unknown);
            assert!(unknown.is_empty(), "fixture {name}: fields missing from the Go type table: {unknown:?}");
        }
    }

    #[test]
    fn empty_lists_and_maps_hash_like_absent_ones() {
        // Protobuf has no empty list or map: upstream sees nil either way.
        let t = template(
            r#"{"metadata": {"labels": {}, "annotations": {}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", "env": [], "command": [], "ports": [],
                                         "resources": {"limits": {}, "requests": {}}}],
                         "volumes": [], "nodeSelector": {}, "tolerations": []}}"#,
        );
        assert_eq!(pod_template_hash(&t, None), "7876586d");
        // An empty struct behind a pointer is not nil.
        let t = template(r#"{"spec": {"containers": [{"name": "nginx", "image": "nginx", "securityContext": {}}]}}"#);
        assert_eq!(pod_template_hash(&t, None), "5d5d9c868f");
    }

    #[test]
    fn spew_text_shape() {
        let text = pod_template_spew(&template(MINIMAL));
        assert!(text.starts_with(
            "(v1.PodTemplateSpec){ObjectMeta:(v1.ObjectMeta){Name:(string) GenerateName:(string) Namespace:(string) SelfLink:(string) \
             UID:(types.UID) ResourceVersion:(string) Generation:(int64)0 CreationTimestamp:(v1.Time){Time:(time.Time){wall:(uint64)0 \
             ext:(int64)0 loc:(*time.Location)<nil>}} DeletionTimestamp:(*v1.Time)<nil>"
        ));
        assert!(text.contains(" Containers:([]v1.Container)[{Name:(string)nginx Image:(string)nginx Command:([]string)<nil> "));
        assert!(text.ends_with(" HostnameOverride:(*string)<nil> SchedulingGroup:(*v1.PodSchedulingGroup)<nil>}}"));
    }

    /// The private state of quantities after the protobuf round trip, as
    /// go-spew prints it for upstream's objects.
    #[test]
    fn quantity_state() {
        let spew = |text: &str| {
            let mut p = Printer { out: String::new() };
            p.quantity(&Quantity::after_protobuf(text));
            p.out
        };
        let int = |value: i64, scale: i32, s: &str, format: &str| {
            format!(
                "{{i:(resource.int64Amount){{value:(int64){value} scale:(resource.Scale){scale}}} d:(resource.infDecAmount){{Dec:(*inf.Dec)<nil>}} \
                 s:(string){s} Format:(resource.Format){format}}}"
            )
        };
        assert_eq!(spew("0.5"), int(500, -3, "500m", "DecimalSI"));
        assert_eq!(spew("1000m"), int(1, 0, "1", "DecimalSI"));
        assert_eq!(spew("512Mi"), int(536870912, 0, "", "BinarySI"));
        assert_eq!(spew("1.5Gi"), int(1610612736, 0, "", "BinarySI"));
        assert_eq!(spew("128974848"), int(128974848, 0, "128974848", "DecimalSI"));
        assert_eq!(spew("1e3"), int(1, 3, "1e3", "DecimalExponent"));
        assert_eq!(spew("0"), int(0, 0, "0", "DecimalSI"));
        assert_eq!(
            spew("1Ei"),
            "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int)\
             {neg:(bool)false abs:(big.nat)[0 62500000]} scale:(inf.Scale)9}} s:(string) Format:(resource.Format)BinarySI}"
        );
    }

    #[test]
    fn fnv32a_and_safe_encode() {
        let sum = |bytes: &[u8]| {
            let mut h = Fnv32a::new();
            h.write(bytes);
            h.sum()
        };
        assert_eq!(sum(b""), 0x811c_9dc5);
        assert_eq!(sum(b"a"), 0xe40c_292c);
        assert_eq!(sum(b"foobar"), 0xbf9c_f968);
        // '0'..'9' are code points 48..57; 48 % 27 = 21 -> '4'.
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for q in [
            "",
            "garbage",
            "1.5.5",
            "-",
            ".",
            "1e99999999999",
            "1e-2147483648",
            "1234567890123456789e200000",
            "1234567890123456789e-200000",
            "99Ei",
            " 1 ",
        ] {
            let t = template(&format!(r#"{{"spec": {{"containers": [{{"name": "c", "resources": {{"limits": {{"cpu": "{q}"}}}}}}]}}}}"#));
            assert!(!pod_template_hash(&t, Some(-1)).is_empty(), "quantity {q:?}");
        }
        let t = template(r#"{"metadata": {"creationTimestamp": "0001-01-01T00:00:00Z"}, "spec": {"containers": []}}"#);
        assert!(!pod_template_hash(&t, None).is_empty());
    }

    /// Fixtures and the hashes upstream's code gives them for collision
    /// counts None, 0, 1 and i32::MAX (see the module docs).
    const FIXTURES: &[(&str, &str, [&str; 4])] = &[
        ("minimal", MINIMAL, ["7876586d", "89595f568", "645d5d599c", "7c76978dfb"]),
        ("nginx_defaulted", NGINX_DEFAULTED, ["6c5f67b5f7", "5c649576f", "6f4479b5f6", "6d86f9d86f"]),
        ("resources", RESOURCES, ["dfd5676f8", "8469c9bb7d", "56fc895cc9", "7d96b845db"]),
        ("env", ENV, ["8595cbc58f", "7595b995d5", "59d8ff6c8d", "77dc8df445"]),
        ("probes", PROBES, ["586c56c576", "7dc95f9b56", "558bdf4c8f", "55597f55b4"]),
        ("volumes", VOLUMES, ["77f4df989c", "9f8d6685", "6cdccdc548", "6c747df785"]),
        ("affinity", AFFINITY, ["6d6c87b797", "54f964c44f", "7d67955dc6", "5b9d6547b9"]),
        ("tolerations_spread", TOLERATIONS_SPREAD, ["5c944c876", "7f6d899556", "564459468f", "65f9fd5c76"]),
        ("metadata", METADATA, ["f9dc8975c", "776d4f4c9c", "5cb586d768", "659b5d67bf"]),
        ("init_security", INIT_SECURITY, ["7b7665cd7b", "7466d6cb6d", "6f8966cb9", "69c94bf444"]),
        ("kitchen_sink", KITCHEN_SINK, ["7b5b46fb45", "5d4bcf477c", "68456cf48", "6fbcdd85df"]),
        ("odd_quantities", ODD_QUANTITIES, ["64fc74b747", "76b4b947ff", "5bf7fdcfbb", "6b55cd58ff"]),
        ("timestamps", TIMESTAMPS, ["697969b8f7", "6c94dfbc5c", "55d86786d8", "8b6b7d8f"]),
    ];

    const MINIMAL: &str = r#"
    {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}
"#;

    const NGINX_DEFAULTED: &str = r#"
    {
      "metadata": {"labels": {"app": "nginx"}},
      "spec": {
        "containers": [
          {
            "name": "nginx",
            "image": "nginx:1.14.2",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"
          }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler"
      }
    }
"#;

    // A JSON decode without the protobuf round trip would give 7d7d9c66b4.
    const RESOURCES: &str = r#"
    {
      "metadata": {"labels": {"app": "web"}},
      "spec": {
        "containers": [
          {
            "name": "app",
            "image": "registry.example.com/app:v2",
            "resources": {
              "requests": {"cpu": "100m", "memory": "128974848", "ephemeral-storage": "1Gi"},
              "limits": {"cpu": "0.5", "memory": "1Gi", "example.com/widgets": "1e3", "hugepages-2Mi": "512Mi"}
            },
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "Always"
          },
          {
            "name": "sidecar",
            "image": "busybox",
            "resources": {
              "requests": {"cpu": "1000m", "memory": "1.5Gi"},
              "limits": {"cpu": "2", "memory": "64Mi"}
            }
          }
        ],
        "overhead": {"cpu": "250m", "memory": "120Mi"},
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler"
      }
    }
"#;

    // A JSON decode without the protobuf round trip would give 7c558756c8.
    const ENV: &str = r#"
    {
      "metadata": {"labels": {"app": "env"}},
      "spec": {
        "containers": [
          {
            "name": "app",
            "image": "app:1",
            "envFrom": [
              {"configMapRef": {"name": "app-config"}},
              {"prefix": "DB_", "secretRef": {"name": "db", "optional": true}}
            ],
            "env": [
              {"name": "PLAIN", "value": "hello world"},
              {"name": "EMPTY", "value": ""},
              {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
              {"name": "CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}}},
              {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory"}}},
              {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "mode", "optional": false}}},
              {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
            ]
          }
        ]
      }
    }
"#;

    const PROBES: &str = r#"
    {
      "spec": {
        "containers": [
          {
            "name": "web",
            "image": "web:3",
            "ports": [
              {"name": "http", "containerPort": 8080, "protocol": "TCP"},
              {"name": "metrics", "containerPort": 9090, "hostPort": 19090, "protocol": "TCP"},
              {"containerPort": 53, "protocol": "UDP"}
            ],
            "livenessProbe": {
              "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP", "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
              "initialDelaySeconds": 5, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
            },
            "readinessProbe": {
              "tcpSocket": {"port": "http"},
              "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3
            },
            "startupProbe": {
              "exec": {"command": ["cat", "/tmp/ready"]},
              "failureThreshold": 30, "periodSeconds": 2, "terminationGracePeriodSeconds": 10
            },
            "lifecycle": {
              "postStart": {"httpGet": {"path": "/started", "port": "http", "host": "localhost"}},
              "preStop": {"sleep": {"seconds": 5}},
              "stopSignal": "SIGTERM"
            }
          },
          {
            "name": "grpc",
            "image": "grpc:1",
            "livenessProbe": {"grpc": {"port": 50051, "service": "health"}}
          }
        ]
      }
    }
"#;

    // A JSON decode without the protobuf round trip would give 6dc7cf5984.
    const VOLUMES: &str = r#"
    {
      "spec": {
        "volumes": [
          {"name": "config", "configMap": {"name": "app-config", "items": [{"key": "app.yaml", "path": "app.yaml", "mode": 420}], "defaultMode": 420}},
          {"name": "secret", "secret": {"secretName": "tls", "defaultMode": 256, "optional": true}},
          {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
          {"name": "cache", "emptyDir": {}},
          {"name": "data", "persistentVolumeClaim": {"claimName": "data-pvc", "readOnly": true}},
          {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
          {"name": "projected", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"audience": "vault", "expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
                                       {"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}}]}},
            {"secret": {"name": "extra"}}
          ]}},
          {"name": "ephemeral", "ephemeral": {"volumeClaimTemplate": {"metadata": {"labels": {"type": "scratch"}}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "volumeMode": "Filesystem",
            "resources": {"requests": {"storage": "10Gi"}}}}}},
          {"name": "nfs", "nfs": {"server": "nfs.example.com", "path": "/exports", "readOnly": true}},
          {"name": "img", "image": {"reference": "registry.example.com/data:1", "pullPolicy": "IfNotPresent"}}
        ],
        "containers": [
          {
            "name": "app",
            "image": "app:1",
            "volumeMounts": [
              {"name": "config", "mountPath": "/etc/app", "readOnly": true},
              {"name": "data", "mountPath": "/data", "subPath": "app", "mountPropagation": "HostToContainer"},
              {"name": "scratch", "mountPath": "/tmp", "recursiveReadOnly": "Disabled"}
            ],
            "volumeDevices": [{"name": "raw", "devicePath": "/dev/xvda"}]
          }
        ]
      }
    }
"#;

    const AFFINITY: &str = r#"
    {
      "metadata": {"labels": {"app": "store"}},
      "spec": {
        "containers": [{"name": "store", "image": "redis:7"}],
        "affinity": {
          "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
              {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]},
              {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-a", "node-b"]}]}
            ]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
              {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}}
            ]
          },
          "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
              {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname", "namespaces": ["default"]}
            ]
          },
          "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
              {"weight": 100, "podAffinityTerm": {
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["store"]}]},
                "topologyKey": "topology.kubernetes.io/zone",
                "namespaceSelector": {},
                "matchLabelKeys": ["pod-template-hash"]
              }}
            ]
          }
        }
      }
    }
"#;

    const TOLERATIONS_SPREAD: &str = r#"
    {
      "metadata": {"labels": {"app": "spread", "tier": "backend"}},
      "spec": {
        "containers": [{"name": "app", "image": "app:2"}],
        "nodeSelector": {"kubernetes.io/arch": "amd64", "disktype": "ssd"},
        "tolerations": [
          {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
          {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
          {"operator": "Exists"}
        ],
        "topologySpreadConstraints": [
          {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
           "labelSelector": {"matchLabels": {"app": "spread"}}, "minDomains": 2,
           "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Ignore", "matchLabelKeys": ["pod-template-hash"]},
          {"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}
        ],
        "priorityClassName": "high",
        "priority": 1000000,
        "preemptionPolicy": "PreemptLowerPriority"
      }
    }
"#;

    const METADATA: &str = r#"
    {
      "metadata": {
        "labels": {"app": "meta", "app.kubernetes.io/name": "meta", "Z": "last", "a": "", "version": "v1"},
        "annotations": {"prometheus.io/scrape": "true", "kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z", "note": "multi word value, with: colons"},
        "name": "ignored-name",
        "namespace": "ns1"
      },
      "spec": {"containers": [{"name": "c", "image": "c:1"}]}
    }
"#;

    const INIT_SECURITY: &str = r#"
    {
      "spec": {
        "securityContext": {
          "runAsUser": 1000, "runAsGroup": 3000, "runAsNonRoot": true, "fsGroup": 2000,
          "fsGroupChangePolicy": "OnRootMismatch", "supplementalGroups": [4000, 5000],
          "supplementalGroupsPolicy": "Strict",
          "seccompProfile": {"type": "RuntimeDefault"},
          "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
          "seLinuxOptions": {"level": "s0:c123,c456"}
        },
        "initContainers": [
          {"name": "migrate", "image": "app:1", "command": ["/bin/migrate"], "args": ["--all"],
           "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                               "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}},
          {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always",
           "securityContext": {"privileged": true, "procMount": "Default", "appArmorProfile": {"type": "Localhost", "localhostProfile": "p1"}}}
        ],
        "containers": [
          {"name": "app", "image": "app:1", "workingDir": "/srv", "stdin": true, "tty": true,
           "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/app.json"},
                               "windowsOptions": {"gmsaCredentialSpecName": "spec", "runAsUserName": "ContainerUser", "hostProcess": false}}}
        ],
        "serviceAccountName": "app",
        "automountServiceAccountToken": false,
        "hostNetwork": true,
        "enableServiceLinks": false,
        "hostUsers": false
      }
    }
"#;

    // A JSON decode without the protobuf round trip would give 5fffbcb75c.
    const KITCHEN_SINK: &str = r#"
    {
      "metadata": {
        "name": "tmpl",
        "generateName": "tmpl-",
        "namespace": "prod",
        "uid": "0c9a3b9e-6f3e-4a5e-9d7e-1b2c3d4e5f60",
        "resourceVersion": "42",
        "generation": 7,
        "deletionGracePeriodSeconds": 30,
        "labels": {"app": "sink", "track": "stable", "app.kubernetes.io/part-of": "everything"},
        "annotations": {"a": "1", "b": "two words", "checksum/config": "d41d8cd98f00b204e9800998ecf8427e"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "sink", "uid": "11111111-2222-3333-4444-555555555555", "controller": true, "blockOwnerDeletion": true}],
        "finalizers": ["example.com/cleanup", "example.com/other"]
      },
      "spec": {
        "volumes": [
          {"name": "cm", "configMap": {"name": "cm", "items": [{"key": "k", "path": "p", "mode": 384}], "defaultMode": 420, "optional": true}},
          {"name": "sec", "secret": {"secretName": "s", "items": [{"key": "tls.crt", "path": "tls.crt"}], "defaultMode": 256}},
          {"name": "empty", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
          {"name": "pvc", "persistentVolumeClaim": {"claimName": "pvc-1"}},
          {"name": "dapi", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}], "defaultMode": 420}},
          {"name": "csi", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true, "fsType": "ext4", "volumeAttributes": {"secretProviderClass": "vault", "b": "2"}, "nodePublishSecretRef": {"name": "creds"}}},
          {"name": "proj", "projected": {"sources": [
            {"clusterTrustBundle": {"signerName": "example.com/signer", "labelSelector": {"matchLabels": {"trust": "yes"}}, "optional": true, "path": "bundle.pem"}},
            {"podCertificate": {"signerName": "example.com/pod", "keyType": "ECDSAP256", "maxExpirationSeconds": 86400, "credentialBundlePath": "creds.pem", "userAnnotations": {"x": "y"}}},
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 600}}
          ]}},
          {"name": "hp", "hostPath": {"path": "/dev/shm", "type": ""}},
          {"name": "iscsi", "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.2001-04.com.example:storage", "lun": 0, "portals": ["10.0.0.2:3260"], "chapAuthSession": true, "secretRef": {"name": "chap"}, "initiatorName": "iqn.1994-05.com.redhat:node"}},
          {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOncePod"], "resources": {"requests": {"storage": "5Gi"}, "limits": {"storage": "10Gi"}},
            "selector": {"matchLabels": {"disk": "fast"}}, "dataSourceRef": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap", "namespace": "other"},
            "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap"}, "volumeAttributesClassName": "gold"}}}}
        ],
        "initContainers": [
          {"name": "init", "image": "busybox:1.36", "command": ["sh", "-c"], "args": ["echo init && sleep 1"],
           "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
           "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "FallbackToLogsOnError", "imagePullPolicy": "IfNotPresent"},
          {"name": "sidecar", "image": "envoy:1", "restartPolicy": "Always",
           "restartPolicyRules": [{"action": "Restart", "exitCodes": {"operator": "In", "values": [42, 43]}}],
           "startupProbe": {"httpGet": {"path": "/ready", "port": 15021}, "periodSeconds": 1}}
        ],
        "containers": [
          {
            "name": "main",
            "image": "registry.example.com/main@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "command": ["/main"],
            "args": ["--port=8080", "--verbose", ""],
            "workingDir": "/work",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"name": "dns", "containerPort": 53, "hostPort": 53, "hostIP": "0.0.0.0", "protocol": "UDP"}],
            "envFrom": [{"configMapRef": {"name": "cm", "optional": true}}, {"prefix": "S_", "secretRef": {"name": "s"}}],
            "env": [
              {"name": "A", "value": "1"},
              {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
              {"name": "LIM", "valueFrom": {"resourceFieldRef": {"containerName": "main", "resource": "limits.memory", "divisor": "1Mi"}}},
              {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k", "optional": true}}},
              {"name": "SEC", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
              {"name": "FILE", "valueFrom": {"fileKeyRef": {"volumeName": "empty", "path": "env", "key": "FILE", "optional": false}}}
            ],
            "resources": {
              "limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1", "ephemeral-storage": "20G"},
              "requests": {"cpu": "1500m", "memory": "3.5Gi", "nvidia.com/gpu": "1", "ephemeral-storage": "10e9"},
              "claims": [{"name": "gpu", "request": "big"}]
            },
            "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}, {"resourceName": "memory", "restartPolicy": "RestartContainer"}],
            "volumeMounts": [{"name": "cm", "mountPath": "/etc/cm", "readOnly": true, "recursiveReadOnly": "IfPossible"}, {"name": "pvc", "mountPath": "/data", "subPathExpr": "$(NODE)", "mountPropagation": "None"}],
            "volumeDevices": [{"name": "blk", "devicePath": "/dev/blk"}],
            "livenessProbe": {"httpGet": {"path": "/live", "port": "http", "host": "127.0.0.1", "scheme": "HTTPS", "httpHeaders": [{"name": "Authorization", "value": "Bearer x"}]},
                              "initialDelaySeconds": 10, "timeoutSeconds": 2, "periodSeconds": 15, "successThreshold": 1, "failureThreshold": 5, "terminationGracePeriodSeconds": 60},
            "readinessProbe": {"exec": {"command": ["/bin/check", "--ready"]}, "periodSeconds": 3},
            "startupProbe": {"tcpSocket": {"port": 8080, "host": "localhost"}, "failureThreshold": 60},
            "lifecycle": {"postStart": {"exec": {"command": ["/bin/warm"]}}, "preStop": {"tcpSocket": {"port": "http"}}, "stopSignal": "SIGQUIT"},
            "terminationMessagePath": "/tmp/term",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "Always",
            "securityContext": {
              "capabilities": {"add": ["SYS_TIME"], "drop": ["ALL"]},
              "privileged": false,
              "seLinuxOptions": {"user": "system_u", "role": "system_r", "type": "container_t", "level": "s0"},
              "runAsUser": 1001, "runAsGroup": 1001, "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
              "procMount": "Unmasked", "seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "RuntimeDefault"}
            },
            "stdin": false,
            "stdinOnce": true,
            "tty": false
          },
          {"name": "second", "image": "second:2", "resources": {"limits": {"cpu": "0.25", "memory": "100M"}}, "livenessProbe": {"grpc": {"port": 9000}}}
        ],
        "ephemeralContainers": [
          {"name": "debug", "image": "busybox", "targetContainerName": "main", "stdin": true, "tty": true, "command": ["sh"]}
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 45,
        "activeDeadlineSeconds": 3600,
        "dnsPolicy": "None",
        "nodeSelector": {"pool": "general"},
        "serviceAccountName": "sink-sa",
        "serviceAccount": "sink-sa",
        "automountServiceAccountToken": true,
        "nodeName": "",
        "hostNetwork": false,
        "hostPID": true,
        "hostIPC": true,
        "shareProcessNamespace": true,
        "securityContext": {
          "seLinuxOptions": {"type": "spc_t"},
          "windowsOptions": {"gmsaCredentialSpecName": "gmsa", "gmsaCredentialSpec": "{}", "runAsUserName": "NT AUTHORITY\\SYSTEM", "hostProcess": true},
          "runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": false, "supplementalGroups": [1, 2, 3], "supplementalGroupsPolicy": "Merge",
          "fsGroup": 65534, "sysctls": [{"name": "kernel.shm_rmid_forced", "value": "0"}], "fsGroupChangePolicy": "Always",
          "seccompProfile": {"type": "RuntimeDefault"}, "appArmorProfile": {"type": "Unconfined"}, "seLinuxChangePolicy": "MountOption"
        },
        "imagePullSecrets": [{"name": "regcred"}, {"name": ""}],
        "hostname": "sink-host",
        "subdomain": "sinks",
        "affinity": {
          "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "gpu", "operator": "Gt", "values": ["0"]}]}]}},
          "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "zone", "mismatchLabelKeys": ["track"]}}]},
          "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["sink"]}]}, "topologyKey": "kubernetes.io/hostname", "namespaceSelector": {"matchLabels": {"team": "a"}}}]}
        },
        "schedulerName": "custom-scheduler",
        "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "PreferNoSchedule"}, {"key": "t", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}],
        "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}, {"ip": "::1"}],
        "priorityClassName": "system-cluster-critical",
        "priority": 2000000000,
        "dnsConfig": {"nameservers": ["1.1.1.1", "8.8.8.8"], "searches": ["svc.cluster.local"], "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]},
        "readinessGates": [{"conditionType": "example.com/ready"}],
        "runtimeClassName": "gvisor",
        "enableServiceLinks": true,
        "preemptionPolicy": "Never",
        "overhead": {"cpu": "100m", "memory": "64Mi"},
        "topologySpreadConstraints": [{"maxSkew": 3, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "sink"}}, "nodeTaintsPolicy": "Honor"}],
        "setHostnameAsFQDN": true,
        "os": {"name": "linux"},
        "hostUsers": true,
        "schedulingGates": [{"name": "example.com/gate"}],
        "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "gpu-template"}, {"name": "shared", "resourceClaimName": "shared-claim"}],
        "resources": {"limits": {"cpu": "4", "memory": "8Gi"}, "requests": {"cpu": "3", "memory": "6Gi"}},
        "hostnameOverride": "sink-override",
        "schedulingGroup": {"podGroupName": "group-a"}
      }
    }
"#;

    // A JSON decode without the protobuf round trip would give d5b965ccc.
    const ODD_QUANTITIES: &str = r#"
    {
      "spec": {
        "containers": [
          {"name": "q", "image": "q:1", "resources": {
            "limits": {"a": "1Ei", "b": "1.5Pi", "c": "12345678901234567890123", "d": "0.0000000001", "e": "1000E", "f": "-1.5Gi", "g": "01", "h": "+1Gi", "i": "1.000", "j": "0.1Ki"},
            "requests": {"a": "16Ei", "b": "9223372036854775807", "c": "1e-12", "d": "5e2", "e": "1.5e-3", "f": "0", "g": "0.0", "h": "100000000000000000000000000Ki"}
          }}
        ]
      }
    }
"#;

    // A JSON decode without the protobuf round trip would give 77f996f5d4.
    const TIMESTAMPS: &str = r#"
    {
      "metadata": {
        "creationTimestamp": "2024-03-01T12:34:56Z",
        "deletionTimestamp": "2025-01-02T03:04:05.678Z",
        "labels": {"app": "ts"},
        "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": "2024-03-01T12:34:56Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}}]
      },
      "spec": {"containers": [{"name": "c", "image": "c:1"}]}
    }
"#;
}
