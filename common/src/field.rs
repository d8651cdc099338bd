//! Field errors and field paths as upstream's `k8s.io/apimachinery/pkg/util/validation/field`:
//! what an API server puts into the causes of a 422 Invalid Status, and what
//! a webhook or a controller reports for a malformed object.
//!
//! Messages reproduce upstream's wording, because clients match on them.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

/// The kind of a [`FieldError`] (upstream `field.ErrorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorType {
    /// `FieldValueNotFound`, "Not found".
    NotFound,
    /// A required value that is missing (`FieldValueRequired`, "Required value").
    Required,
    /// `FieldValueDuplicate`, "Duplicate value".
    Duplicate,
    /// A malformed value (`FieldValueInvalid`, "Invalid value").
    Invalid,
    /// A value outside an enumeration (`FieldValueNotSupported`, "Unsupported value").
    NotSupported,
    /// A value that is not allowed here (`FieldValueForbidden`, "Forbidden").
    Forbidden,
    /// `FieldValueTooLong`, "Too long".
    TooLong,
    /// `FieldValueTooMany`, "Too many".
    TooMany,
    /// `InternalError`, "Internal error".
    Internal,
    /// `FieldValueTypeInvalid`, "Invalid value".
    TypeInvalid,
}

impl FieldErrorType {
    /// The machine readable reason, as used for `StatusCause.reason`
    /// (for example `FieldValueInvalid`).
    pub fn reason(self) -> &'static str {
        match self {
            FieldErrorType::NotFound => "FieldValueNotFound",
            FieldErrorType::Required => "FieldValueRequired",
            FieldErrorType::Duplicate => "FieldValueDuplicate",
            FieldErrorType::Invalid => "FieldValueInvalid",
            FieldErrorType::NotSupported => "FieldValueNotSupported",
            FieldErrorType::Forbidden => "FieldValueForbidden",
            FieldErrorType::TooLong => "FieldValueTooLong",
            FieldErrorType::TooMany => "FieldValueTooMany",
            FieldErrorType::Internal => "InternalError",
            FieldErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The human readable form used in messages (for example `Invalid value`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldErrorType::NotFound => "Not found",
            FieldErrorType::Required => "Required value",
            FieldErrorType::Duplicate => "Duplicate value",
            FieldErrorType::Invalid | FieldErrorType::TypeInvalid => "Invalid value",
            FieldErrorType::NotSupported => "Unsupported value",
            FieldErrorType::Forbidden => "Forbidden",
            FieldErrorType::TooLong => "Too long",
            FieldErrorType::TooMany => "Too many",
            FieldErrorType::Internal => "Internal error",
        }
    }

    /// Whether upstream's message shows the offending value.
    fn shows_value(self) -> bool {
        !matches!(self, FieldErrorType::Required | FieldErrorType::Forbidden | FieldErrorType::TooLong | FieldErrorType::Internal)
    }
}

impl fmt::Display for FieldErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value as upstream prints it in a field error: strings Go-quoted
/// (`%q`), numbers and booleans plain, anything else already rendered.
pub trait BadValue {
    /// The printed form.
    fn render(&self) -> String;
}

impl BadValue for str {
    fn render(&self) -> String {
        go_quote(self)
    }
}

impl BadValue for String {
    fn render(&self) -> String {
        go_quote(self)
    }
}

impl<T: BadValue + ?Sized> BadValue for &T {
    fn render(&self) -> String {
        (**self).render()
    }
}

macro_rules! plain_bad_value {
    ($($t:ty),*) => {$(
        impl BadValue for $t {
            fn render(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
plain_bad_value!(i32, i64, u32, u64, usize, f64, bool);

/// A value rendered by the caller, printed as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered(pub String);

impl BadValue for Rendered {
    fn render(&self) -> String {
        self.0.clone()
    }
}

/// A validation error attached to a field path (upstream `field.Error`).
///
/// `Display` renders `<field>: <body>`, exactly like upstream's `Error()`;
/// [`FieldError::body`] is upstream's `ErrorBody()`, which is what an API
/// server puts into `StatusCause.message` (with `field` in
/// `StatusCause.field` and [`FieldErrorType::reason`] in `StatusCause.reason`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldError {
    /// The path of the offending field, e.g. `spec.selector.matchLabels`.
    pub field: String,
    /// What kind of error this is.
    pub error_type: FieldErrorType,
    /// The offending value, already rendered the way upstream prints it,
    /// or `None` when there is none to print.
    pub bad_value: Option<String>,
    /// Free-form detail, may be empty.
    pub detail: String,
}

impl FieldError {
    fn new(error_type: FieldErrorType, field: impl Into<String>, bad_value: Option<String>, detail: impl Into<String>) -> Self {
        FieldError { field: field.into(), error_type, bad_value, detail: detail.into() }
    }

    /// An `Invalid value` error.
    pub fn invalid(field: impl Into<String>, value: impl BadValue, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::Invalid, field, Some(value.render()), detail)
    }

    /// A `Required value` error.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::Required, field, None, detail)
    }

    /// A `Forbidden` error.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::Forbidden, field, None, detail)
    }

    /// A `Duplicate value` error.
    pub fn duplicate(field: impl Into<String>, value: impl BadValue) -> Self {
        Self::new(FieldErrorType::Duplicate, field, Some(value.render()), "")
    }

    /// A `Not found` error.
    pub fn not_found(field: impl Into<String>, value: impl BadValue) -> Self {
        Self::new(FieldErrorType::NotFound, field, Some(value.render()), "")
    }

    /// An `Unsupported value` error; `valid` lists the supported values,
    /// printed quoted as upstream does.
    pub fn not_supported(field: impl Into<String>, value: impl BadValue, valid: &[&str]) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", valid.iter().map(|v| go_quote(v)).collect::<Vec<_>>().join(", "))
        };
        Self::new(FieldErrorType::NotSupported, field, Some(value.render()), detail)
    }

    /// A `Too long` error: a string or list longer than `max`.
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::new(FieldErrorType::TooLong, field, None, format!("may not be more than {max} bytes"))
    }

    /// A `Too many` error: `actual` items where at most `max` are allowed.
    pub fn too_many(field: impl Into<String>, actual: usize, max: usize) -> Self {
        Self::new(FieldErrorType::TooMany, field, Some(actual.to_string()), format!("must have at most {max} items"))
    }

    /// An `Internal error`.
    pub fn internal(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::Internal, field, None, detail)
    }

    /// The message without the field name (upstream `ErrorBody()`), e.g.
    /// `Invalid value: "a b": a valid label must be ...`.
    pub fn body(&self) -> String {
        let mut s = String::from(self.error_type.as_str());
        if self.error_type.shows_value()
            && let Some(v) = &self.bad_value
        {
            s.push_str(": ");
            s.push_str(v);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// Renders a list of field errors the way upstream's aggregate error does:
/// duplicates removed, a single message as is, several as `[a, b]`.
pub fn aggregate_message(errs: &[FieldError]) -> String {
    let mut seen = BTreeSet::new();
    let mut msgs = Vec::new();
    for e in errs {
        let m = e.to_string();
        if seen.insert(m.clone()) {
            msgs.push(m);
        }
    }
    match msgs.len() {
        0 => String::new(),
        1 => msgs.pop().unwrap_or_default(),
        _ => format!("[{}]", msgs.join(", ")),
    }
}

/// A field path as upstream's `*field.Path`; `None` is the nil path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(Option<String>);

impl FieldPath {
    /// A path starting at `name`; an empty name is the nil path.
    pub fn root(name: &str) -> Self {
        if name.is_empty() { FieldPath(None) } else { FieldPath(Some(name.to_string())) }
    }

    /// `path.name`.
    pub fn child(&self, name: &str) -> Self {
        match &self.0 {
            None => FieldPath(Some(name.to_string())),
            Some(p) => FieldPath(Some(format!("{p}.{name}"))),
        }
    }

    /// `path[key]`.
    pub fn key(&self, key: &str) -> Self {
        match &self.0 {
            None => FieldPath(Some(format!("[{key}]"))),
            Some(p) => FieldPath(Some(format!("{p}[{key}]"))),
        }
    }

    /// `path[i]`.
    pub fn index(&self, i: usize) -> Self {
        self.key(&i.to_string())
    }

    /// The printed path (`<nil>` for the nil path).
    pub fn render(&self) -> String {
        match &self.0 {
            None => "<nil>".to_string(),
            Some(p) => p.clone(),
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl From<&FieldPath> for String {
    fn from(p: &FieldPath) -> String {
        p.render()
    }
}

impl From<FieldPath> for String {
    fn from(p: FieldPath) -> String {
        p.render()
    }
}

// ---------------------------------------------------------------------------
// Value rendering (Go %q and encoding/json)
// ---------------------------------------------------------------------------

/// Approximates Go's `unicode.IsPrint` (exact for ASCII).
fn go_is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    // Format characters and private use areas are not printable in Go.
    !matches!(u,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x206F
        | 0xE000..=0xF8FF
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0xFFFE..=0xFFFF
        | 0xF0000..=0x10FFFF)
}

/// Quotes a string like Go's `%q` / `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if go_is_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Encodes a string like Go's `encoding/json` (HTML escaping on).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Encodes a string list like Go's `encoding/json`; `None` is a nil slice.
pub fn json_string_list(values: Option<&[String]>) -> String {
    match values {
        None => "null".to_string(),
        Some(vs) => {
            let items: Vec<String> = vs.iter().map(|v| json_string(v)).collect();
            format!("[{}]", items.join(","))
        }
    }
}
