//! Label and field selectors with the semantics of upstream Kubernetes
//! (`k8s.io/apimachinery` v0.36, i.e. Kubernetes v1.36).
//!
//! * [`Selector`] is a label selector: a conjunction of [`Requirement`]s. It is
//!   built from the string form with [`Selector::parse`] (upstream
//!   `labels.Parse`), from the typed API object with
//!   [`Selector::from_label_selector`] (upstream
//!   `metav1.LabelSelectorAsSelector`), or from a plain label map with
//!   [`Selector::from_set`].
//! * [`FieldSelector`] is a field selector (upstream `fields.ParseSelector`).
//! * [`validate_label_selector`] reports the field errors the API server
//!   returns for an invalid `LabelSelector` (upstream
//!   `metav1validation.ValidateLabelSelector`), as [`FieldError`]s that map
//!   one-to-one onto `StatusCause`s of a 422 response.
//!
//! Error messages reproduce upstream's wording byte for byte where that is
//! practical, because clients (kubectl, controllers, tests) match on them.
//! Nothing in this module panics, whatever the input.

#![warn(missing_docs)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

pub use crate::field::{FieldError, FieldErrorType};
use crate::field::{FieldPath, Rendered, aggregate_message, go_quote, json_string, json_string_list};

/// The error returned when a selector cannot be parsed or built.
///
/// `Display` is upstream's error string. When the error stems from
/// requirement validation, [`SelectorError::field_errors`] holds the
/// individual field errors it was made of.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SelectorError {
    message: String,
    field_errors: Vec<FieldError>,
}

impl SelectorError {
    fn msg(message: impl Into<String>) -> Self {
        SelectorError { message: message.into(), field_errors: Vec::new() }
    }

    fn from_field_errors(errs: Vec<FieldError>) -> Self {
        SelectorError { message: aggregate_message(&errs), field_errors: errs }
    }

    fn wrap(self, prefix: &str) -> Self {
        SelectorError { message: format!("{prefix}{}", self.message), field_errors: self.field_errors }
    }

    /// The full error message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The field errors behind this error, if it came from requirement
    /// validation; empty for pure syntax errors.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.field_errors
    }
}

// ---------------------------------------------------------------------------
// Label key / value syntax
// ---------------------------------------------------------------------------

const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_KEY_MAX_LENGTH: usize = 63;
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// The maximum length of a label value, in bytes.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} bytes")
}

fn empty_error() -> &'static str {
    "must be non-empty"
}

fn regex_error(msg: &str, re: &str, examples: &[&str]) -> String {
    let mut out = String::from(msg);
    if examples.is_empty() {
        out.push_str(" (regex used for validation is '");
    } else {
        out.push_str(" (e.g. ");
        for (i, ex) in examples.iter().enumerate() {
            if i > 0 {
                out.push_str(" or ");
            }
            out.push('\'');
            out.push_str(ex);
            out.push_str("', ");
        }
        out.push_str("regex used for validation is '");
    }
    out.push_str(re);
    out.push_str("')");
    out
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn is_label_name_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
fn is_dns1123_subdomain_syntax(s: &str) -> bool {
    s.split('.').all(|label| {
        let b = label.as_bytes();
        let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        match (b.first(), b.last()) {
            (Some(first), Some(last)) => edge(first) && edge(last) && b.iter().all(|c| edge(c) || *c == b'-'),
            _ => false,
        }
    })
}

/// Checks a DNS (RFC 1123) subdomain, returning upstream's messages for
/// every problem found (upstream `content.IsDNS1123Subdomain`); empty means
/// valid.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !is_dns1123_subdomain_syntax(value) {
        errs.push(regex_error(DNS1123_SUBDOMAIN_ERR_MSG, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    errs
}

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
/// The maximum length of a DNS label, in bytes.
pub const DNS_LABEL_MAX_LENGTH: usize = 63;

fn is_dns_label_syntax(s: &str, first_alpha: bool) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            (if first_alpha { first.is_ascii_lowercase() } else { edge(first) }) && edge(last) && b.iter().all(|c| edge(c) || *c == b'-')
        }
        _ => false,
    }
}

/// Checks a DNS (RFC 1123) label, returning upstream's messages for every
/// problem found (upstream `content.IsDNS1123Label`); empty means valid.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS_LABEL_MAX_LENGTH));
    }
    if !is_dns_label_syntax(value, false) {
        errs.push(regex_error(DNS1123_LABEL_ERR_MSG, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
    }
    errs
}

/// Checks a DNS-1035 label (a DNS label that starts with a letter), as
/// upstream `content.IsDNS1035Label`; empty means valid.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS_LABEL_MAX_LENGTH));
    }
    if !is_dns_label_syntax(value, true) {
        errs.push(regex_error(DNS1035_LABEL_ERR_MSG, DNS1035_LABEL_FMT, &["my-name", "abc-123"]));
    }
    errs
}

/// Checks a label key (a "qualified name": an optional DNS subdomain prefix
/// and `/`, then a name of at most 63 characters), returning upstream's
/// messages for every problem found (upstream `content.IsLabelKey`); empty
/// means valid.
pub fn is_label_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > LABEL_KEY_MAX_LENGTH {
        errs.push(format!("name part {}", max_len_error(LABEL_KEY_MAX_LENGTH)));
    }
    if !is_label_name_syntax(name) {
        errs.push(format!("name part {}", regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])));
    }
    errs
}

/// Checks a label value (empty, or at most 63 characters of
/// `[-A-Za-z0-9_.]` starting and ending with an alphanumeric), returning
/// upstream's messages for every problem found (upstream
/// `content.IsLabelValue`); empty means valid.
pub fn is_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !is_label_name_syntax(value) {
        errs.push(regex_error(LABEL_VALUE_ERR_MSG, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    errs
}

// ---------------------------------------------------------------------------
// Label requirements
// ---------------------------------------------------------------------------

/// A label selector operator (upstream `selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `key=value`: the label exists and equals the value.
    Equals,
    /// `key==value`: same as [`Operator::Equals`], kept apart only so that
    /// the string form round-trips.
    DoubleEquals,
    /// `key!=value`: the label is absent or differs from the value.
    NotEquals,
    /// `key in (a,b)`: the label exists and is one of the values.
    In,
    /// `key notin (a,b)`: the label is absent or none of the values.
    NotIn,
    /// `key`: the label exists.
    Exists,
    /// `!key`: the label does not exist.
    DoesNotExist,
    /// `key>n`: the label exists, is an integer, and is greater than `n`.
    GreaterThan,
    /// `key<n`: the label exists, is an integer, and is less than `n`.
    LessThan,
}

impl Operator {
    /// Upstream's `selection.Operator` string: `=`, `==`, `!=`, `in`,
    /// `notin`, `exists`, `!`, `gt`, `lt`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operator {
    type Err = SelectorError;

    /// Parses upstream's `selection.Operator` strings (see
    /// [`Operator::as_str`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "=" => Operator::Equals,
            "==" => Operator::DoubleEquals,
            "!=" => Operator::NotEquals,
            "in" => Operator::In,
            "notin" => Operator::NotIn,
            "exists" => Operator::Exists,
            "!" => Operator::DoesNotExist,
            "gt" => Operator::GreaterThan,
            "lt" => Operator::LessThan,
            other => {
                let supported = BINARY_OPERATORS.iter().chain(UNARY_OPERATORS.iter()).map(|o| go_quote(o)).collect::<Vec<_>>().join(", ");
                return Err(SelectorError::from_field_errors(vec![FieldError {
                    field: "operator".to_string(),
                    error_type: FieldErrorType::NotSupported,
                    bad_value: Some(json_string(other)),
                    detail: format!("supported values: {supported}"),
                }]));
            }
        })
    }
}

const BINARY_OPERATORS: [&str; 7] = ["in", "notin", "=", "==", "!=", "gt", "lt"];
const UNARY_OPERATORS: [&str; 2] = ["exists", "!"];

/// Something labels can be looked up in.
pub trait Labels {
    /// The value of the label `key`, if present.
    fn get_label(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<S: BuildHasher> Labels for HashMap<String, String, S> {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

/// One term of a label selector: a key, an operator and values
/// (upstream `labels.Requirement`).
///
/// Build validated requirements with [`Requirement::new`]; the fields are
/// public for inspection, and a hand-built invalid requirement never
/// panics, it just matches what upstream's would.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// The operator relating the key to the values.
    pub operator: Operator,
    /// The values (one for the exact-match and comparison operators, none
    /// for `Exists`/`DoesNotExist`, at least one for `In`/`NotIn`).
    pub values: Vec<String>,
}

impl Requirement {
    /// Builds a requirement, validating it like upstream `NewRequirement`:
    /// the key must be a valid label key, `In`/`NotIn` need at least one
    /// value, `=`/`==`/`!=` exactly one, `Exists`/`DoesNotExist` none,
    /// `gt`/`lt` exactly one integer, and every value must be a valid label
    /// value. The values are kept in the given order.
    pub fn new(key: impl Into<String>, operator: Operator, values: Vec<String>) -> Result<Requirement, SelectorError> {
        new_requirement(key.into(), operator, values, false, &FieldPath::default())
    }

    /// Reports whether the requirement matches the labels.
    ///
    /// `In`, `=`, `==`: the key exists with one of the values. `NotIn`,
    /// `!=`: the key is absent or has none of the values. `Exists`,
    /// `DoesNotExist`: presence. `gt`, `lt`: the key exists, both the label
    /// and the single requirement value parse as 64-bit integers, and the
    /// comparison holds.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_labels(labels)
    }

    /// Like [`Requirement::matches`], for any [`Labels`] implementation.
    pub fn matches_labels<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let has_value = |v: &str| self.values.iter().any(|x| x == v);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => labels.get_label(&self.key).is_some_and(has_value),
            Operator::NotIn | Operator::NotEquals => labels.get_label(&self.key).is_none_or(|v| !has_value(v)),
            Operator::Exists => labels.get_label(&self.key).is_some(),
            Operator::DoesNotExist => labels.get_label(&self.key).is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(label_value) = labels.get_label(&self.key) else {
                    return false;
                };
                let Ok(label_value) = label_value.parse::<i64>() else {
                    return false;
                };
                let [wanted] = self.values.as_slice() else {
                    return false;
                };
                let Ok(wanted) = wanted.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan { label_value > wanted } else { label_value < wanted }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Upstream's string form: `!k`, `k`, `k=v`, `k==v`, `k!=v`, `k>v`,
    /// `k<v`, `k in (a,b)`, `k notin (a,b)`; several values are printed
    /// sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        if let [only] = self.values.as_slice() {
            f.write_str(only)?;
        } else {
            let mut sorted: Vec<&str> = self.values.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            f.write_str(&sorted.join(","))?;
        }
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Upstream `NewRequirement`. `values_nil` renders an empty value list as
/// JSON `null` (a nil Go slice) instead of `[]`.
fn new_requirement(
    key: String,
    operator: Operator,
    values: Vec<String>,
    values_nil: bool,
    path: &FieldPath,
) -> Result<Requirement, SelectorError> {
    let mut errs = Vec::new();
    let key_errs = is_label_key(&key);
    if !key_errs.is_empty() {
        errs.push(FieldError::invalid(path.child("key").render(), &key, key_errs.join("; ")));
    }
    let value_path = path.child("values");
    let rendered_values = || {
        if values.is_empty() && values_nil { json_string_list(None) } else { json_string_list(Some(&values)) }
    };
    match operator {
        Operator::In | Operator::NotIn => {
            if values.is_empty() {
                errs.push(FieldError::invalid(
                    value_path.render(),
                    Rendered(rendered_values()),
                    "for 'in', 'notin' operators, values set can't be empty",
                ));
            }
        }
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
            if values.len() != 1 {
                errs.push(FieldError::invalid(
                    value_path.render(),
                    Rendered(rendered_values()),
                    "exact-match compatibility requires one single value",
                ));
            }
        }
        Operator::Exists | Operator::DoesNotExist => {
            if !values.is_empty() {
                errs.push(FieldError::invalid(
                    value_path.render(),
                    Rendered(rendered_values()),
                    "values set must be empty for exists and does not exist",
                ));
            }
        }
        Operator::GreaterThan | Operator::LessThan => {
            if values.len() != 1 {
                errs.push(FieldError::invalid(
                    value_path.render(),
                    Rendered(rendered_values()),
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                ));
            }
            for (i, v) in values.iter().enumerate() {
                if v.parse::<i64>().is_err() {
                    errs.push(FieldError::invalid(
                        value_path.index(i).render(),
                        v,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    ));
                }
            }
        }
    }
    for (i, v) in values.iter().enumerate() {
        let value_errs = is_label_value(v);
        if !value_errs.is_empty() {
            errs.push(FieldError::invalid(value_path.index(i).key(&key).render(), v, value_errs.join("; ")));
        }
    }
    if !errs.is_empty() {
        // Upstream's ToAggregate drops errors with identical messages.
        let mut seen = BTreeSet::new();
        errs.retain(|e| seen.insert(e.to_string()));
        return Err(SelectorError::from_field_errors(errs));
    }
    Ok(Requirement { key, operator, values })
}

// ---------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------

/// A label selector: the conjunction of its [`Requirement`]s, kept sorted
/// by key (upstream `labels.Selector`).
///
/// The default value is [`Selector::everything`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// A selector without requirements, which matches every label set
    /// (upstream `labels.Everything()`).
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// A selector that matches no label set at all (upstream
    /// `labels.Nothing()`); this is what a nil `LabelSelector` converts to.
    /// It renders as the empty string and is not [`Selector::is_empty`].
    pub fn nothing() -> Selector {
        Selector { requirements: Vec::new(), nothing: true }
    }

    /// Builds a selector from requirements, sorting them by key (stable for
    /// equal keys).
    pub fn from_requirements(requirements: impl IntoIterator<Item = Requirement>) -> Selector {
        let mut requirements: Vec<Requirement> = requirements.into_iter().collect();
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector { requirements, nothing: false }
    }

    /// A selector requiring every `key=value` of the set, without
    /// validating them (upstream `SelectorFromSet`); an empty set gives
    /// [`Selector::everything`].
    pub fn from_set(set: &BTreeMap<String, String>) -> Selector {
        Selector::from_requirements(set.iter().map(|(k, v)| Requirement {
            key: k.clone(),
            operator: Operator::Equals,
            values: vec![v.clone()],
        }))
    }

    /// Like [`Selector::from_set`] but validating keys and values
    /// (upstream `ValidatedSelectorFromSet`).
    pub fn from_set_validated(set: &BTreeMap<String, String>) -> Result<Selector, SelectorError> {
        let mut reqs = Vec::with_capacity(set.len());
        for (k, v) in set {
            reqs.push(Requirement::new(k.clone(), Operator::Equals, vec![v.clone()])?);
        }
        Ok(Selector::from_requirements(reqs))
    }

    /// Parses the string form of a label selector (upstream
    /// `labels.Parse`), e.g. `x in (foo,,baz),y,z notin (),!w,v=1,u!=2`.
    ///
    /// The empty string (or only whitespace) gives
    /// [`Selector::everything`]. Requirements are sorted by key. Errors carry
    /// upstream's messages, e.g. `unable to parse requirement: found 'IN',
    /// expected: in, notin, =, ==, !=, gt, lt`.
    pub fn parse(selector: &str) -> Result<Selector, SelectorError> {
        let requirements = Parser::new(selector).parse()?;
        Ok(Selector::from_requirements(requirements))
    }

    /// Converts the typed API `LabelSelector` (upstream
    /// `metav1.LabelSelectorAsSelector`): `None` matches nothing, a selector
    /// with neither `matchLabels` nor `matchExpressions` matches
    /// everything; otherwise every `matchLabels` entry becomes `key=value`
    /// and every expression `In`/`NotIn`/`Exists`/`DoesNotExist` becomes the
    /// matching requirement, validated like [`Requirement::new`].
    pub fn from_label_selector(selector: Option<&LabelSelector>) -> Result<Selector, SelectorError> {
        let Some(ls) = selector else {
            return Ok(Selector::nothing());
        };
        let match_labels = ls.match_labels.as_ref();
        let match_expressions = ls.match_expressions.as_deref().unwrap_or_default();
        if match_labels.is_none_or(BTreeMap::is_empty) && match_expressions.is_empty() {
            return Ok(Selector::everything());
        }
        let mut reqs = Vec::new();
        for (k, v) in match_labels.into_iter().flatten() {
            reqs.push(new_requirement(k.clone(), Operator::Equals, vec![v.clone()], false, &FieldPath::default())?);
        }
        for expr in match_expressions {
            let op = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError::msg(format!("{} is not a valid label selector operator", go_quote(other))));
                }
            };
            reqs.push(new_requirement(expr.key.clone(), op, expr.values.clone().unwrap_or_default(), true, &FieldPath::default())?);
        }
        Ok(Selector::from_requirements(reqs))
    }

    /// Returns a new selector with the extra requirements, re-sorted by key
    /// (upstream `Add`). Adding to [`Selector::nothing`] gives nothing.
    pub fn add(&self, requirements: impl IntoIterator<Item = Requirement>) -> Selector {
        if self.nothing {
            return self.clone();
        }
        Selector::from_requirements(self.requirements.iter().cloned().chain(requirements))
    }

    /// True when the selector does not restrict anything (no requirements).
    /// [`Selector::nothing`] is not empty.
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// True only for [`Selector::nothing`] (upstream `MatchesNothing`); it
    /// does not detect contradictory requirements such as `a,!a`.
    pub fn matches_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, sorted by key; empty for both
    /// [`Selector::everything`] and [`Selector::nothing`].
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Reports whether every requirement matches the labels.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_labels(labels)
    }

    /// Like [`Selector::matches`], for any [`Labels`] implementation.
    pub fn matches_labels<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches_labels(labels))
    }

    /// If the first requirement on `label` pins it to a single value (`=`,
    /// `==`, or `in` with one value), returns that value (upstream
    /// `RequiresExactMatch`).
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [only]) => Some(only),
            _ => None,
        }
    }
}

impl fmt::Display for Selector {
    /// The requirements' string forms joined by `,`; the empty string for
    /// both everything and nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

// ---------------------------------------------------------------------------
// Label selector lexer and parser (mirrors upstream's state machine)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn literal_token(s: &str) -> Option<Token> {
    Some(match s {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "in" => Token::In,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "notin" => Token::NotIn,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(ch: u8) -> bool {
    matches!(ch, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(ch: u8) -> bool {
    matches!(ch, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Byte-oriented lexer. Like upstream, a NUL byte reads as end of input
/// wherever a token may start, and ends an identifier.
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn read(&mut self) -> u8 {
        match self.s.as_bytes().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.s.get(start..end).unwrap_or_default()
    }

    fn scan_id_or_keyword(&mut self) -> (Token, String) {
        let start = self.pos;
        let mut end = start;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special_symbol(ch) || is_whitespace(ch) {
                self.unread();
                break;
            }
            end = self.pos;
        }
        let lit = self.slice(start, end);
        match literal_token(lit) {
            Some(tok) => (tok, lit.to_string()),
            None => (Token::Identifier, lit.to_string()),
        }
    }

    fn scan_special_symbol(&mut self) -> (Token, String) {
        let start = self.pos;
        let mut last: Option<(Token, usize)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special_symbol(ch) {
                self.unread();
                break;
            }
            match literal_token(self.slice(start, self.pos)) {
                Some(tok) => last = Some((tok, self.pos)),
                None if last.is_some() => {
                    self.unread();
                    break;
                }
                None => {}
            }
        }
        match last {
            Some((tok, end)) => (tok, self.slice(start, end).to_string()),
            None => (Token::Error, format!("error expected: keyword found '{}'", self.slice(start, self.pos))),
        }
    }

    fn lex(&mut self) -> (Token, String) {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return (Token::EndOfString, String::new());
        }
        self.unread();
        if is_special_symbol(ch) { self.scan_special_symbol() } else { self.scan_id_or_keyword() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

impl Parser {
    fn new(s: &str) -> Parser {
        let mut lexer = Lexer { s, pos: 0 };
        let mut items = Vec::new();
        loop {
            let (tok, lit) = lexer.lex();
            let done = tok == Token::EndOfString;
            items.push((tok, lit));
            if done {
                break;
            }
        }
        Parser { items, position: 0 }
    }

    fn at(&self, idx: usize, ctx: Context) -> (Token, String) {
        let (tok, lit) = match self.items.get(idx) {
            Some((tok, lit)) => (*tok, lit.clone()),
            None => (Token::EndOfString, String::new()),
        };
        let tok = match (ctx, tok) {
            (Context::Values, Token::In | Token::NotIn) => Token::Identifier,
            _ => tok,
        };
        (tok, lit)
    }

    fn lookahead(&self, ctx: Context) -> (Token, String) {
        self.at(self.position, ctx)
    }

    fn consume(&mut self, ctx: Context) -> (Token, String) {
        let item = self.at(self.position, ctx);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self.parse_requirement().map_err(|e| e.wrap("unable to parse requirement: "))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(SelectorError::msg(format!("found '{l2}', expected: identifier after ','")));
                            }
                        }
                        _ => {
                            return Err(SelectorError::msg(format!("found '{l}', expected: ',' or 'end of string'")));
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(SelectorError::msg(format!("found '{lit}', expected: !, identifier, or 'end of string'")));
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, SelectorError> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = inferred {
            return new_requirement(key, op, Vec::new(), false, &FieldPath::default());
        }
        let op = self.parse_operator()?;
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        new_requirement(key, op, values.into_iter().collect(), false, &FieldPath::default())
    }

    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), SelectorError> {
        let mut op = None;
        let (mut tok, mut lit) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            op = Some(Operator::DoesNotExist);
            (tok, lit) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(SelectorError::msg(format!("found '{lit}', expected: identifier")));
        }
        let key_errs = is_label_key(&lit);
        if !key_errs.is_empty() {
            return Err(SelectorError::from_field_errors(vec![FieldError::invalid(
                FieldPath::default().render(),
                &lit,
                key_errs.join("; "),
            )]));
        }
        let (t, _) = self.lookahead(Context::Values);
        if (t == Token::EndOfString || t == Token::Comma) && op != Some(Operator::DoesNotExist) {
            op = Some(Operator::Exists);
        }
        Ok((lit, op))
    }

    fn parse_operator(&mut self) -> Result<Operator, SelectorError> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                return Err(SelectorError::msg(format!("found '{lit}', expected: {}", BINARY_OPERATORS.join(", "))));
            }
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            return Err(SelectorError::msg(format!("found '{lit}' expected: '('")));
        }
        let (tok, lit) = self.lookahead(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let s = self.parse_identifiers_list()?;
                let (tok, _) = self.consume(Context::Values);
                if tok != Token::ClosedPar {
                    return Err(SelectorError::msg(format!("found '{lit}', expected: ')'")));
                }
                Ok(s)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(SelectorError::msg(format!("found '{lit}', expected: ',', ')' or identifier"))),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let mut s = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    s.insert(lit);
                    let (tok2, lit2) = self.lookahead(Context::Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(s),
                        _ => {
                            return Err(SelectorError::msg(format!("found '{lit2}', expected: ',' or ')'")));
                        }
                    }
                }
                Token::Comma => {
                    if s.is_empty() {
                        s.insert(String::new());
                    }
                    let (tok2, _) = self.lookahead(Context::Values);
                    if tok2 == Token::ClosedPar {
                        s.insert(String::new());
                        return Ok(s);
                    }
                    if tok2 == Token::Comma {
                        s.insert(String::new());
                    }
                }
                _ => {
                    return Err(SelectorError::msg(format!("found '{lit}', expected: ',', or identifier")));
                }
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let (tok, _) = self.lookahead(Context::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier {
            return Ok(BTreeSet::from([lit]));
        }
        Err(SelectorError::msg(format!("found '{lit}', expected: identifier")))
    }
}

// ---------------------------------------------------------------------------
// LabelSelector validation
// ---------------------------------------------------------------------------

/// Options for [`validate_label_selector_with_options`] (upstream
/// `LabelSelectorValidationOptions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LabelSelectorValidationOptions {
    /// Accept invalid label values in `matchExpressions` values; only meant
    /// for updates of objects that already hold such values.
    pub allow_invalid_label_value_in_selector: bool,
    /// Accept operators other than `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub allow_unknown_operator_in_requirement: bool,
}

/// Validates a `LabelSelector` as the API server does (upstream
/// `ValidateLabelSelector` with default options), reporting errors under
/// `field_path` (e.g. `spec.selector`):
///
/// * `<path>.matchLabels`: invalid keys or values (reported at the map
///   itself, like upstream);
/// * `<path>.matchExpressions[i].values`: `Required value: must be specified
///   when `operator` is 'In' or 'NotIn'`, or `Forbidden: may not be specified
///   when `operator` is 'Exists' or 'DoesNotExist'`;
/// * `<path>.matchExpressions[i].operator`: `Invalid value: "Foo": not a
///   valid selector operator`;
/// * `<path>.matchExpressions[i].key` and `.values[j]`: invalid key/value.
///
/// Entries of `matchLabels` are visited in key order. An empty
/// `field_path` reports paths without a prefix (`matchLabels`, ...).
pub fn validate_label_selector(selector: &LabelSelector, field_path: &str) -> Vec<FieldError> {
    validate_label_selector_with_options(selector, LabelSelectorValidationOptions::default(), field_path)
}

/// [`validate_label_selector`] with explicit options.
pub fn validate_label_selector_with_options(
    selector: &LabelSelector,
    options: LabelSelectorValidationOptions,
    field_path: &str,
) -> Vec<FieldError> {
    let path = FieldPath::root(field_path);
    let mut errs = Vec::new();
    if let Some(labels) = &selector.match_labels {
        errs.extend(validate_labels_at(labels, &path.child("matchLabels")));
    }
    let expressions_path = path.child("matchExpressions");
    for (i, expr) in selector.match_expressions.as_deref().unwrap_or_default().iter().enumerate() {
        errs.extend(validate_requirement_at(expr, options, &expressions_path.index(i)));
    }
    errs
}

fn validate_requirement_at(req: &LabelSelectorRequirement, options: LabelSelectorValidationOptions, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let values = req.values.as_deref().unwrap_or_default();
    let values_path = path.child("values");
    match req.operator.as_str() {
        "In" | "NotIn" => {
            if values.is_empty() {
                errs.push(FieldError::required(values_path.render(), "must be specified when `operator` is 'In' or 'NotIn'"));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(FieldError::forbidden(
                    values_path.render(),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        other => {
            if !options.allow_unknown_operator_in_requirement {
                errs.push(FieldError::invalid(
                    path.child("operator").render(),
                    Rendered(json_string(other)),
                    "not a valid selector operator",
                ));
            }
        }
    }
    let key_path = path.child("key").render();
    for msg in is_label_key(&req.key) {
        errs.push(FieldError::invalid(key_path.clone(), req.key.as_str(), msg));
    }
    if !options.allow_invalid_label_value_in_selector {
        for (i, v) in values.iter().enumerate() {
            for msg in is_label_value(v) {
                errs.push(FieldError::invalid(values_path.index(i).render(), v, msg));
            }
        }
    }
    errs
}

fn validate_labels_at(labels: &BTreeMap<String, String>, path: &FieldPath) -> Vec<FieldError> {
    let field = path.render();
    let mut errs = Vec::new();
    for (k, v) in labels {
        for msg in is_label_key(k) {
            errs.push(FieldError::invalid(field.clone(), k, msg));
        }
        for msg in is_label_value(v) {
            errs.push(FieldError::invalid(field.clone(), v, msg));
        }
    }
    errs
}

/// Validates a label map such as `metadata.labels` (upstream
/// `ValidateLabels`): one error per problem, all reported at `field_path`
/// itself, in key order.
pub fn validate_labels(labels: &BTreeMap<String, String>, field_path: &str) -> Vec<FieldError> {
    validate_labels_at(labels, &FieldPath::root(field_path))
}

/// True when some `matchExpressions` value is not a valid label value
/// (upstream `LabelSelectorHasInvalidLabelValue`); use it to decide whether
/// an update may keep such values via
/// [`LabelSelectorValidationOptions::allow_invalid_label_value_in_selector`].
pub fn label_selector_has_invalid_label_value(selector: Option<&LabelSelector>) -> bool {
    selector
        .and_then(|s| s.match_expressions.as_deref())
        .unwrap_or_default()
        .iter()
        .flat_map(|e| e.values.as_deref().unwrap_or_default())
        .any(|v| !is_label_value(v).is_empty())
}

// ---------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------

/// A field selector operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldOperator {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

impl FieldOperator {
    /// `=` or `!=`, as rendered in the string form.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        }
    }
}

impl fmt::Display for FieldOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One term of a field selector (upstream `fields.Requirement`). The value
/// is unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    /// The field name, e.g. `metadata.name` (not validated here).
    pub field: String,
    /// How the field relates to the value.
    pub operator: FieldOperator,
    /// The literal (unescaped) value.
    pub value: String,
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.field, self.operator, escape_value(&self.value))
    }
}

/// A field selector: the conjunction of its [`FieldRequirement`]s
/// (upstream `fields.Selector`). The default value is
/// [`FieldSelector::everything`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
    nothing: bool,
}

/// Escapes `\`, `,` and `=` with a backslash so that an arbitrary string
/// can be used as a field selector value (upstream `fields.EscapeValue`).
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses [`escape_value`] (upstream `fields.UnescapeValue`). Errors on
/// an unknown escape sequence (`invalid field selector: invalid escape
/// sequence: \a`), a trailing lone backslash, or an unescaped `,`/`=`
/// (`invalid field selector: unescaped character in value: 61`, the code
/// point in decimal, as upstream prints it).
pub fn unescape_value(s: &str) -> Result<String, SelectorError> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if matches!(c, '\\' | ',' | '=') {
                out.push(c);
            } else {
                return Err(SelectorError::msg(format!("invalid field selector: invalid escape sequence: \\{c}")));
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(SelectorError::msg(format!("invalid field selector: unescaped character in value: {}", c as u32)));
            }
            c => out.push(c),
        }
    }
    if in_slash {
        return Err(SelectorError::msg("invalid field selector: invalid escape sequence: \\"));
    }
    Ok(out)
}

/// Splits at unescaped commas, keeping escapes in the terms.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(selector.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    terms.push(selector.get(start..).unwrap_or_default());
    terms
}

/// Splits a term at the first operator (`!=`, then `==`, then `=` at each
/// position); the left side is not unescaped.
fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    for (i, _) in term.char_indices() {
        let rest = term.get(i..).unwrap_or_default();
        for op in ["!=", "==", "="] {
            if rest.starts_with(op) {
                let lhs = term.get(..i).unwrap_or_default();
                let rhs = term.get(i + op.len()..).unwrap_or_default();
                return Some((lhs, op, rhs));
            }
        }
    }
    None
}

impl FieldSelector {
    /// A selector that matches everything (upstream `fields.Everything()`).
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// A selector that matches nothing (upstream `fields.Nothing()`); it
    /// renders as the empty string and is not [`FieldSelector::is_empty`].
    pub fn nothing() -> FieldSelector {
        FieldSelector { requirements: Vec::new(), nothing: true }
    }

    /// A selector with the single term `field=value`.
    pub fn one_term_equal(field: impl Into<String>, value: impl Into<String>) -> FieldSelector {
        FieldSelector {
            requirements: vec![FieldRequirement { field: field.into(), operator: FieldOperator::Equals, value: value.into() }],
            nothing: false,
        }
    }

    /// A selector with the single term `field!=value`.
    pub fn one_term_not_equal(field: impl Into<String>, value: impl Into<String>) -> FieldSelector {
        FieldSelector {
            requirements: vec![FieldRequirement { field: field.into(), operator: FieldOperator::NotEquals, value: value.into() }],
            nothing: false,
        }
    }

    /// A selector requiring `field=value` for every entry of the set, in
    /// key order (upstream `fields.SelectorFromSet`).
    pub fn from_set(set: &BTreeMap<String, String>) -> FieldSelector {
        FieldSelector {
            requirements: set
                .iter()
                .map(|(f, v)| FieldRequirement { field: f.clone(), operator: FieldOperator::Equals, value: v.clone() })
                .collect(),
            nothing: false,
        }
    }

    /// Parses a field selector (upstream `fields.ParseSelector`):
    /// comma-separated `field=value`, `field==value` or `field!=value`
    /// terms, where `\,`, `\=` and `\\` escape the special characters in
    /// values. Terms are sorted by their text, empty terms are skipped, the
    /// field name is taken literally (no trimming), and a term whose field
    /// and value are both empty is dropped. The empty string gives
    /// [`FieldSelector::everything`].
    pub fn parse(selector: &str) -> Result<FieldSelector, SelectorError> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut requirements = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(SelectorError::msg(format!("invalid selector: '{selector}'; can't understand '{part}'")));
            };
            let value = unescape_value(rhs)?;
            let operator = if op == "!=" { FieldOperator::NotEquals } else { FieldOperator::Equals };
            if lhs.is_empty() && value.is_empty() {
                continue;
            }
            requirements.push(FieldRequirement { field: lhs.to_string(), operator, value });
        }
        Ok(FieldSelector { requirements, nothing: false })
    }

    /// The terms, in order; empty for everything and nothing.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// True when the selector does not restrict anything.
    /// [`FieldSelector::nothing`] is not empty.
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// True only for [`FieldSelector::nothing`].
    pub fn matches_nothing(&self) -> bool {
        self.nothing
    }

    /// Reports whether the object matches. `get` returns the value of a
    /// field for the object; a missing field (`None`) counts as the empty
    /// string, as upstream's `fields.Set` does, so `f=` matches an absent
    /// field and `f!=x` matches too.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        if self.nothing {
            return false;
        }
        self.requirements.iter().all(|r| {
            let actual = get(&r.field).unwrap_or_default();
            match r.operator {
                FieldOperator::Equals => actual == r.value,
                FieldOperator::NotEquals => actual != r.value,
            }
        })
    }

    /// [`FieldSelector::matches`] against a map of field values.
    pub fn matches_set(&self, fields: &BTreeMap<String, String>) -> bool {
        self.matches(|f| fields.get(f).cloned())
    }

    /// The value of the first `field=value` term on `field`, if any
    /// (upstream `RequiresExactMatch`).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements.iter().find(|r| r.operator == FieldOperator::Equals && r.field == field).map(|r| r.value.as_str())
    }

    /// Rewrites every term's field and value with `f` (upstream
    /// `Transform`); a term rewritten to an empty field and empty value is
    /// dropped. The first error aborts.
    pub fn transform<E, F>(&self, mut f: F) -> Result<FieldSelector, E>
    where
        F: FnMut(&str, &str) -> Result<(String, String), E>,
    {
        if self.nothing {
            return Ok(self.clone());
        }
        let mut requirements = Vec::with_capacity(self.requirements.len());
        for r in &self.requirements {
            let (field, value) = f(&r.field, &r.value)?;
            if field.is_empty() && value.is_empty() {
                continue;
            }
            requirements.push(FieldRequirement { field, operator: r.operator, value });
        }
        Ok(FieldSelector { requirements, nothing: false })
    }
}

impl fmt::Display for FieldSelector {
    /// Terms joined by `,`, values escaped, `==` rendered as `=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldSelector::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME_REGEX_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const VALUE_REGEX_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    const SUBDOMAIN_REGEX_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A valid requirement, with the values sorted and deduplicated like
    /// upstream's `sets.String.List()`.
    fn req(key: &str, op: Operator, vals: &[&str]) -> Requirement {
        let sorted: BTreeSet<String> = vals.iter().map(|v| v.to_string()).collect();
        match Requirement::new(key, op, sorted.into_iter().collect()) {
            Ok(r) => r,
            Err(e) => panic!("requirement {key} {op} {vals:?} should be valid: {e}"),
        }
    }

    fn parse_ok(s: &str) -> Selector {
        match Selector::parse(s) {
            Ok(sel) => sel,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn parse_err(s: &str) -> SelectorError {
        match Selector::parse(s) {
            Ok(sel) => panic!("{s:?} should not parse, got {sel:?}"),
            Err(e) => e,
        }
    }

    // ----- label selector parsing (TestSelectorParse & co) -----

    #[test]
    fn selector_parse_good_and_bad() {
        let good = ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"];
        for s in good {
            let sel = parse_ok(s);
            assert_eq!(sel.to_string(), s.replace(' ', ""), "restring of {s:?}");
        }
        for s in ["x=a||y=b", "x==a==b", "!x=a", "x<a"] {
            parse_err(s);
        }
    }

    #[test]
    fn deterministic_parse() {
        assert_eq!(parse_ok("x=a,a=x").to_string(), parse_ok("a=x,x=a").to_string());
        assert_eq!(parse_ok("x=a,a=x").to_string(), "a=x,x=a");
    }

    #[test]
    fn selector_matches() {
        let matching: &[(&str, &[(&str, &str)])] = &[
            ("", &[("x", "y")]),
            ("x=y", &[("x", "y")]),
            ("x=y,z=w", &[("x", "y"), ("z", "w")]),
            ("x!=y,z!=w", &[("x", "z"), ("z", "a")]),
            ("notin=in", &[("notin", "in")]),
            ("x", &[("x", "z")]),
            ("!x", &[("y", "z")]),
            ("x>1", &[("x", "2")]),
            ("x<1", &[("x", "0")]),
            ("x!=y", &[]),
            ("x notin (y)", &[]),
            ("x in (a,b)", &[("x", "b")]),
            ("x==y", &[("x", "y")]),
            ("x=", &[("x", "")]),
            ("x in ()", &[("x", "")]),
        ];
        for (s, labels) in matching {
            assert!(parse_ok(s).matches(&set(labels)), "{s:?} should match {labels:?}");
        }
        let not_matching: &[(&str, &[(&str, &str)])] = &[
            ("x=z", &[]),
            ("x=y", &[("x", "z")]),
            ("x=y,z=w", &[("x", "w"), ("z", "w")]),
            ("x!=y,z!=w", &[("x", "z"), ("z", "w")]),
            ("x", &[("y", "z")]),
            ("!x", &[("x", "z")]),
            ("x>1", &[("x", "0")]),
            ("x<1", &[("x", "2")]),
            ("x>1", &[]),
            ("x>1", &[("x", "two")]),
            ("x in (a,b)", &[]),
            ("x notin (a,b)", &[("x", "a")]),
            ("x=", &[]),
        ];
        for (s, labels) in not_matching {
            assert!(!parse_ok(s).matches(&set(labels)), "{s:?} should not match {labels:?}");
        }

        let labelset = set(&[("foo", "bar"), ("baz", "blah")]);
        assert!(parse_ok("foo=bar").matches(&labelset));
        assert!(parse_ok("baz=blah").matches(&labelset));
        assert!(parse_ok("foo=bar,baz=blah").matches(&labelset));
        assert!(!parse_ok("foo=blah").matches(&labelset));
        assert!(!parse_ok("baz=bar").matches(&labelset));
        assert!(!parse_ok("foo=bar,foobar=bar,baz=blah").matches(&labelset));

        // Any `Labels` implementation works.
        let hashed: HashMap<String, String> = labelset.clone().into_iter().collect();
        assert!(parse_ok("foo=bar,!x").matches_labels(&hashed));
    }

    #[test]
    fn everything_and_nothing() {
        let all = Selector::everything();
        assert!(all.matches(&set(&[("x", "y")])));
        assert!(all.matches(&BTreeMap::new()));
        assert!(all.is_empty());
        assert!(!all.matches_nothing());
        assert_eq!(all.to_string(), "");
        assert_eq!(Selector::default(), all);

        let none = Selector::nothing();
        assert!(!none.matches(&set(&[("x", "y")])));
        assert!(!none.matches(&BTreeMap::new()));
        assert!(!none.is_empty());
        assert!(none.matches_nothing());
        assert_eq!(none.to_string(), "");
        assert!(none.requirements().is_empty());
        assert!(none.add([req("a", Operator::Exists, &[])]).matches_nothing());

        assert!(parse_ok("").is_empty());
        assert!(parse_ok(" \t\r\n").is_empty());
        assert!(!parse_ok("a").is_empty());
    }

    #[test]
    fn set_matches() {
        let labelset = set(&[("foo", "bar"), ("baz", "blah")]);
        for sel in [set(&[]), set(&[("foo", "bar")]), set(&[("baz", "blah")]), set(&[("foo", "bar"), ("baz", "blah")])] {
            assert!(Selector::from_set(&sel).matches(&labelset), "{sel:?}");
        }
        for sel in [set(&[("foo", "=blah")]), set(&[("baz", "=bar")]), set(&[("foo", "=bar"), ("foobar", "bar"), ("baz", "blah")])] {
            assert!(!Selector::from_set(&sel).matches(&labelset), "{sel:?}");
        }
        assert!(Selector::from_set(&set(&[])).is_empty());
        assert_eq!(Selector::from_set(&set(&[("app", "foo"), ("a", "b")])).to_string(), "a=b,app=foo");
    }

    #[test]
    fn validated_selector_from_set() {
        let sel = Selector::from_set_validated(&set(&[("key", "val")])).unwrap();
        assert_eq!(sel.requirements(), &[req("key", Operator::Equals, &["val"])]);

        let long = "axahm2EJ8Phiephe2eixohbee9eGeiyees1thuozi1xoh0GiuH3diewi8iem7Nui";
        let err = Selector::from_set_validated(&set(&[("Key", long)])).unwrap_err();
        assert_eq!(err.field_errors().len(), 1);
        assert_eq!(err.field_errors()[0].field, "values[0][Key]");
        assert_eq!(err.to_string(), format!("values[0][Key]: Invalid value: \"{long}\": must be no more than 63 bytes"));
    }

    // ----- lexer and parser internals (TestLexer, TestLexerSequence, ...) -----

    fn lex_all(s: &str) -> Vec<(Token, String)> {
        let mut lexer = Lexer { s, pos: 0 };
        let mut out = Vec::new();
        loop {
            let (tok, lit) = lexer.lex();
            if tok == Token::EndOfString {
                return out;
            }
            out.push((tok, lit));
        }
    }

    #[test]
    fn lexer_single_tokens() {
        let cases = [
            ("", Token::EndOfString),
            (",", Token::Comma),
            ("notin", Token::NotIn),
            ("in", Token::In),
            ("=", Token::Equals),
            ("==", Token::DoubleEquals),
            (">", Token::GreaterThan),
            ("<", Token::LessThan),
            ("!", Token::DoesNotExist),
            ("!=", Token::NotEquals),
            ("(", Token::OpenPar),
            (")", Token::ClosedPar),
            ("~", Token::Identifier),
            ("||", Token::Identifier),
        ];
        for (s, want) in cases {
            let mut lexer = Lexer { s, pos: 0 };
            let (tok, lit) = lexer.lex();
            assert_eq!(tok, want, "token of {s:?}");
            assert_eq!(lit, s, "literal of {s:?}");
        }
    }

    #[test]
    fn lexer_sequences() {
        use Token::*;
        let cases: &[(&str, &[Token])] = &[
            ("key in ( value )", &[Identifier, In, OpenPar, Identifier, ClosedPar]),
            ("key notin ( value )", &[Identifier, NotIn, OpenPar, Identifier, ClosedPar]),
            ("key in ( value1, value2 )", &[Identifier, In, OpenPar, Identifier, Comma, Identifier, ClosedPar]),
            ("key", &[Identifier]),
            ("!key", &[DoesNotExist, Identifier]),
            ("()", &[OpenPar, ClosedPar]),
            ("x in (),y", &[Identifier, In, OpenPar, ClosedPar, Comma, Identifier]),
            ("== != (), = notin", &[DoubleEquals, NotEquals, OpenPar, ClosedPar, Comma, Equals, NotIn]),
            ("key>2", &[Identifier, GreaterThan, Identifier]),
            ("key<1", &[Identifier, LessThan, Identifier]),
            ("a===b", &[Identifier, DoubleEquals, Equals, Identifier]),
            ("a!!=b", &[Identifier, DoesNotExist, NotEquals, Identifier]),
            ("a>=b", &[Identifier, GreaterThan, Equals, Identifier]),
        ];
        for (s, want) in cases {
            let got: Vec<Token> = lex_all(s).into_iter().map(|(t, _)| t).collect();
            assert_eq!(&got, want, "tokens of {s:?}");
        }
        // Literals are kept, multi-byte identifiers included.
        let lits: Vec<String> = lex_all("ké=vé ,x").into_iter().map(|(_, l)| l).collect();
        assert_eq!(lits, ["ké", "=", "vé", ",", "x"]);
        // A NUL byte ends an identifier, and ends the input where a token starts.
        let lits: Vec<String> = lex_all("a\0b").into_iter().map(|(_, l)| l).collect();
        assert_eq!(lits, ["a", "b"]);
        assert!(lex_all("\0a").is_empty());
    }

    #[test]
    fn parser_lookahead_and_consume() {
        let mut p = Parser::new("key in ( value )");
        assert_eq!(p.items.len(), 6);
        assert_eq!(p.lookahead(Context::KeyAndOperator).0, Token::Identifier);
        p.consume(Context::KeyAndOperator);
        assert_eq!(p.lookahead(Context::KeyAndOperator).0, Token::In);
        assert_eq!(p.lookahead(Context::Values).0, Token::Identifier);
        for _ in 0..10 {
            p.consume(Context::Values);
        }
        // Past the end the parser keeps answering end of string.
        assert_eq!(p.lookahead(Context::Values), (Token::EndOfString, String::new()));
        assert_eq!(Parser::new("").items, [(Token::EndOfString, String::new())]);
    }

    #[test]
    fn parse_operator_errors() {
        let expected = "in, notin, =, ==, !=, gt, lt";
        for ok in ["in", "=", "==", ">", "<", "notin", "!="] {
            assert!(Parser::new(ok).parse_operator().is_ok(), "{ok}");
        }
        for (tok, lit) in [("!", "!"), ("exists", "exists"), ("(", "(")] {
            let err = Parser::new(tok).parse_operator().unwrap_err();
            assert_eq!(err.to_string(), format!("found '{lit}', expected: {expected}"));
        }
    }

    // ----- requirements (TestRequirementConstructor, TestToString, ...) -----

    #[test]
    fn requirement_constructor() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let a254 = "a".repeat(254);
        // (key, op, values, expected (field, rendered bad value) per error)
        type Case<'a> = (&'a str, Operator, Vec<String>, Vec<(&'a str, &'a str)>);
        let cases: Vec<Case> = vec![
            ("x1", Operator::In, vec![], vec![("values", "[]")]),
            ("x2", Operator::NotIn, vec![], vec![("values", "[]")]),
            ("x3", Operator::In, s(&["foo"]), vec![]),
            ("x4", Operator::NotIn, s(&["foo"]), vec![]),
            ("x5", Operator::Equals, s(&["bar", "foo"]), vec![("values", "[\"bar\",\"foo\"]")]),
            ("x6", Operator::Exists, vec![], vec![]),
            ("x7", Operator::DoesNotExist, vec![], vec![]),
            ("x8", Operator::Exists, s(&["foo"]), vec![("values", "[\"foo\"]")]),
            ("x9", Operator::In, s(&["bar"]), vec![]),
            ("1foo", Operator::In, s(&["bar"]), vec![]),
            ("1234", Operator::In, s(&["bar"]), vec![]),
            ("x11", Operator::GreaterThan, s(&["1"]), vec![]),
            ("x12", Operator::LessThan, s(&["6"]), vec![]),
            ("x13", Operator::GreaterThan, vec![], vec![("values", "[]")]),
            ("x14", Operator::GreaterThan, s(&["bar"]), vec![("values[0]", "\"bar\"")]),
            ("x15", Operator::LessThan, s(&["bar"]), vec![("values[0]", "\"bar\"")]),
            (&a254, Operator::Exists, vec![], vec![("key", "")]),
            ("x16", Operator::Equals, s(&[&a254]), vec![("values[0][x16]", "")]),
            ("x17", Operator::Equals, s(&["a b"]), vec![("values[0][x17]", "\"a b\"")]),
        ];
        for (key, op, vals, want) in cases {
            let got = Requirement::new(key, op, vals.clone());
            match (got, want.is_empty()) {
                (Ok(r), true) => {
                    assert_eq!((r.key.as_str(), r.operator, &r.values), (key, op, &vals));
                }
                (Ok(r), false) => panic!("{key}: expected errors {want:?}, got {r:?}"),
                (Err(e), true) => panic!("{key}: unexpected error {e}"),
                (Err(e), false) => {
                    let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
                    let wanted: Vec<&str> = want.iter().map(|(f, _)| *f).collect();
                    assert_eq!(fields, wanted, "{key}: {e}");
                    for (fe, (_, bad)) in e.field_errors().iter().zip(&want) {
                        assert_eq!(fe.error_type, FieldErrorType::Invalid);
                        if !bad.is_empty() {
                            assert_eq!(fe.bad_value.as_deref(), Some(*bad), "{key}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn requirement_constructor_messages() {
        let err = Requirement::new("x", Operator::In, vec![]).unwrap_err();
        assert_eq!(err.to_string(), "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
        let err = Requirement::new("x", Operator::Equals, vec!["a".into(), "b".into()]).unwrap_err();
        assert_eq!(err.to_string(), "values: Invalid value: [\"a\",\"b\"]: exact-match compatibility requires one single value");
        let err = Requirement::new("x", Operator::DoesNotExist, vec!["a".into()]).unwrap_err();
        assert_eq!(err.to_string(), "values: Invalid value: [\"a\"]: values set must be empty for exists and does not exist");
        let err = Requirement::new("x", Operator::LessThan, vec![]).unwrap_err();
        assert_eq!(err.to_string(), "values: Invalid value: []: for 'Gt', 'Lt' operators, exactly one value is required");
        let err = Requirement::new("x", Operator::GreaterThan, vec!["b".into()]).unwrap_err();
        assert_eq!(err.to_string(), "values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer");
        // Several errors aggregate as [a, b].
        let err = Requirement::new("-x", Operator::GreaterThan, vec!["b c".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "[key: Invalid value: \"-x\": {NAME_REGEX_MSG}, values[0]: Invalid value: \"b c\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][-x]: Invalid value: \"b c\": {VALUE_REGEX_MSG}]"
            )
        );
        assert_eq!(err.field_errors().len(), 3);
        // Duplicate messages are reported once.
        let err = Requirement::new("x", Operator::In, vec!["-".into(), "-".into()]).unwrap_err();
        assert_eq!(err.field_errors().len(), 2);
        assert_eq!(
            err.to_string(),
            format!("[values[0][x]: Invalid value: \"-\": {VALUE_REGEX_MSG}, values[1][x]: Invalid value: \"-\": {VALUE_REGEX_MSG}]")
        );
        // Non-printable characters are Go-quoted.
        let err = Requirement::new("x", Operator::Equals, vec!["\u{1}ā\"\\\n".into()]).unwrap_err();
        assert!(err.to_string().starts_with("values[0][x]: Invalid value: \"\\x01ā\\\"\\\\\\n\": "), "{err}");
    }

    #[test]
    fn unsupported_operator_string() {
        assert_eq!("gt".parse::<Operator>().unwrap(), Operator::GreaterThan);
        for op in [
            Operator::Equals,
            Operator::DoubleEquals,
            Operator::NotEquals,
            Operator::In,
            Operator::NotIn,
            Operator::Exists,
            Operator::DoesNotExist,
            Operator::GreaterThan,
            Operator::LessThan,
        ] {
            assert_eq!(op.as_str().parse::<Operator>().unwrap(), op);
        }
        let err = "unsupportedOp".parse::<Operator>().unwrap_err();
        assert_eq!(err.field_errors()[0].field, "operator");
        assert_eq!(err.field_errors()[0].error_type, FieldErrorType::NotSupported);
        assert_eq!(
            err.to_string(),
            "operator: Unsupported value: \"unsupportedOp\": supported values: \"in\", \"notin\", \"=\", \"==\", \"!=\", \"gt\", \"lt\", \"exists\", \"!\""
        );
    }

    #[test]
    fn requirement_to_string() {
        let cases = [
            (
                vec![req("x", Operator::In, &["abc", "def"]), req("y", Operator::NotIn, &["jkl"]), req("z", Operator::Exists, &[])],
                "x in (abc,def),y notin (jkl),z",
            ),
            (
                vec![
                    req("x", Operator::NotIn, &["abc", "def"]),
                    req("y", Operator::NotEquals, &["jkl"]),
                    req("z", Operator::DoesNotExist, &[]),
                ],
                "x notin (abc,def),y!=jkl,!z",
            ),
            (
                vec![req("x", Operator::NotIn, &["abc"]), req("y", Operator::In, &["jkl", "mno"]), req("z", Operator::NotIn, &[""])],
                "x notin (abc),y in (jkl,mno),z notin ()",
            ),
            (
                vec![
                    req("x", Operator::Equals, &["abc"]),
                    req("y", Operator::DoubleEquals, &["jkl"]),
                    req("z", Operator::NotEquals, &["a"]),
                    req("z", Operator::Exists, &[]),
                ],
                "x=abc,y==jkl,z!=a,z",
            ),
            (
                vec![req("x", Operator::GreaterThan, &["2"]), req("y", Operator::LessThan, &["8"]), req("z", Operator::Exists, &[])],
                "x>2,y<8,z",
            ),
        ];
        for (reqs, want) in cases {
            assert_eq!(Selector::from_requirements(reqs).to_string(), want);
        }
        // Values are printed sorted without touching the requirement.
        let r = Requirement::new("x", Operator::In, vec!["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(r.to_string(), "x in (a,b,b)");
        assert_eq!(r.values, ["b", "a", "b"]);
        assert_eq!(Requirement::new("environment", Operator::NotIn, vec!["dev".into()]).unwrap().to_string(), "environment notin (dev)");
    }

    #[test]
    fn requirement_selector_matching() {
        let cases: Vec<(BTreeMap<String, String>, Vec<Requirement>, bool)> = vec![
            (set(&[("x", "foo"), ("y", "baz")]), vec![req("x", Operator::In, &["foo"]), req("y", Operator::NotIn, &["alpha"])], true),
            (set(&[("x", "foo"), ("y", "baz")]), vec![req("x", Operator::In, &["foo"]), req("y", Operator::In, &["alpha"])], false),
            (set(&[("y", "")]), vec![req("x", Operator::NotIn, &[""]), req("y", Operator::Exists, &[])], true),
            (set(&[("y", "")]), vec![req("x", Operator::DoesNotExist, &[]), req("y", Operator::Exists, &[])], true),
            (set(&[("y", "")]), vec![req("x", Operator::NotIn, &[""]), req("y", Operator::DoesNotExist, &[])], false),
            (set(&[("y", "baz")]), vec![req("x", Operator::In, &[""])], false),
            (set(&[("z", "2")]), vec![req("z", Operator::GreaterThan, &["1"])], true),
            (set(&[("z", "v2")]), vec![req("z", Operator::GreaterThan, &["1"])], false),
            (set(&[("z", "+2")]), vec![req("z", Operator::GreaterThan, &["1"])], true),
            (set(&[("z", "-2")]), vec![req("z", Operator::LessThan, &["1"])], true),
            (set(&[("z", "99999999999999999999")]), vec![req("z", Operator::GreaterThan, &["1"])], false),
        ];
        for (labels, reqs, want) in cases {
            let sel = Selector::from_requirements(reqs);
            assert_eq!(sel.matches(&labels), want, "{sel} on {labels:?}");
        }
        // Hand-built requirements that NewRequirement would reject never
        // panic and never match where upstream's would not.
        let bad_gt = Requirement { key: "z".into(), operator: Operator::GreaterThan, values: vec!["1".into(), "2".into()] };
        assert!(!bad_gt.matches(&set(&[("z", "5")])));
        let bad_gt = Requirement { key: "z".into(), operator: Operator::GreaterThan, values: vec!["x".into()] };
        assert!(!bad_gt.matches(&set(&[("z", "5")])));
        let empty_in = Requirement { key: "z".into(), operator: Operator::In, values: vec![] };
        assert!(!empty_in.matches(&set(&[("z", "5")])));
        assert_eq!(empty_in.to_string(), "z in ()");
    }

    #[test]
    fn set_selector_parser() {
        use Operator::*;
        // (input, expected requirements or None for a parse error)
        let cases: Vec<(&str, Option<Vec<Requirement>>)> = vec![
            ("", Some(vec![])),
            ("\rx", Some(vec![req("x", Exists, &[])])),
            ("this-is-a-dns.domain.com/key-with-dash", Some(vec![req("this-is-a-dns.domain.com/key-with-dash", Exists, &[])])),
            (
                "this-is-another-dns.domain.com/key-with-dash in (so,what)",
                Some(vec![req("this-is-another-dns.domain.com/key-with-dash", In, &["so", "what"])]),
            ),
            (
                "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
                Some(vec![req("0.1.2.domain/99", NotIn, &["10.10.100.1", "tick.tack.clock"])]),
            ),
            ("foo  in\t (abc)", Some(vec![req("foo", In, &["abc"])])),
            ("x notin\n (abc)", Some(vec![req("x", NotIn, &["abc"])])),
            ("x  notin\t\t\t(abc,def)", Some(vec![req("x", NotIn, &["abc", "def"])])),
            ("x in (abc,def)", Some(vec![req("x", In, &["abc", "def"])])),
            ("x in (abc,)", Some(vec![req("x", In, &["abc", ""])])),
            ("x in (abc,abc)", Some(vec![req("x", In, &["abc"])])),
            ("x in ()", Some(vec![req("x", In, &[""])])),
            ("x in (a,,)", Some(vec![req("x", In, &["a", ""])])),
            ("x in (a,,,)", Some(vec![req("x", In, &["a", ""])])),
            ("x in (a,,,,,,)", Some(vec![req("x", In, &["a", ""])])),
            ("x in (a,,a,,a,,a,,)", Some(vec![req("x", In, &["a", ""])])),
            (
                "x notin (abc,,def),bar,z in (),w",
                Some(vec![req("bar", Exists, &[]), req("w", Exists, &[]), req("x", NotIn, &["abc", "", "def"]), req("z", In, &[""])]),
            ),
            ("x,y in (a)", Some(vec![req("x", Exists, &[]), req("y", In, &["a"])])),
            ("x=a", Some(vec![req("x", Equals, &["a"])])),
            ("x==a", Some(vec![req("x", DoubleEquals, &["a"])])),
            ("x>1", Some(vec![req("x", GreaterThan, &["1"])])),
            ("x<7", Some(vec![req("x", LessThan, &["7"])])),
            ("x=a,y!=b", Some(vec![req("x", Equals, &["a"]), req("y", NotEquals, &["b"])])),
            ("x=a,y!=b,z in (h,i,j)", Some(vec![req("x", Equals, &["a"]), req("y", NotEquals, &["b"]), req("z", In, &["h", "i", "j"])])),
            ("x=a||y=b", None),
            ("x,,y", None),
            (",x,y", None),
            ("x nott in (y)", None),
            ("x notin ( )", Some(vec![req("x", NotIn, &[""])])),
            ("x notin (, a)", Some(vec![req("x", NotIn, &["", "a"])])),
            ("a in (xyz),", None),
            ("a in (xyz)b notin ()", None),
            ("a ", Some(vec![req("a", Exists, &[])])),
            ("a in (x,y,notin, z,in)", Some(vec![req("a", In, &["in", "notin", "x", "y", "z"])])),
            ("a in (xyz abc)", None),
            ("a notin(", None),
            ("a (", None),
            ("(", None),
            // keywords are plain identifiers where a key or value is expected
            ("in", Some(vec![req("in", Exists, &[])])),
            ("!notin", Some(vec![req("notin", DoesNotExist, &[])])),
            ("notin=in", Some(vec![req("notin", Equals, &["in"])])),
            ("in in (in)", Some(vec![req("in", In, &["in"])])),
        ];
        for (input, want) in cases {
            match (Selector::parse(input), want) {
                (Ok(sel), Some(want)) => {
                    assert_eq!(sel.requirements(), want.as_slice(), "{input:?}")
                }
                (Err(e), None) => assert!(!e.to_string().is_empty()),
                (Ok(sel), None) => panic!("{input:?} should fail, got {sel}"),
                (Err(e), Some(_)) => panic!("{input:?} should parse: {e}"),
            }
        }
    }

    #[test]
    fn parse_error_messages() {
        let cases = [
            ("x==a==b", "found '==', expected: ',' or 'end of string'".to_string()),
            ("!x=a", "found '=', expected: ',' or 'end of string'".to_string()),
            ("!x in (a)", "found 'in', expected: ',' or 'end of string'".to_string()),
            (
                "x<a",
                "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
                    .to_string(),
            ),
            ("x=a||y=b", format!("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {VALUE_REGEX_MSG}")),
            (",x,y", "found ',', expected: !, identifier, or 'end of string'".to_string()),
            ("x,,y", "found ',', expected: identifier after ','".to_string()),
            ("a in (xyz),", "found '', expected: identifier after ','".to_string()),
            ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'".to_string()),
            ("x nott in (y)", "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt".to_string()),
            ("env IN (a)", "unable to parse requirement: found 'IN', expected: in, notin, =, ==, !=, gt, lt".to_string()),
            ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'".to_string()),
            ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier".to_string()),
            ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier".to_string()),
            ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier".to_string()),
            ("a in x", "unable to parse requirement: found 'x' expected: '('".to_string()),
            ("a in", "unable to parse requirement: found '' expected: '('".to_string()),
            ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt".to_string()),
            ("a=(", "unable to parse requirement: found '(', expected: identifier".to_string()),
            ("!", "unable to parse requirement: found '', expected: identifier".to_string()),
            ("!=a", "found '!=', expected: !, identifier, or 'end of string'".to_string()),
            ("! =a", "unable to parse requirement: found '=', expected: identifier".to_string()),
            ("(", "found '(', expected: !, identifier, or 'end of string'".to_string()),
            (")", "found ')', expected: !, identifier, or 'end of string'".to_string()),
            ("a:", format!("unable to parse requirement: <nil>: Invalid value: \"a:\": {NAME_REGEX_MSG}")),
            ("a\"b", format!("unable to parse requirement: <nil>: Invalid value: \"a\\\"b\": {NAME_REGEX_MSG}")),
            (
                "example.com/",
                format!(
                    "unable to parse requirement: <nil>: Invalid value: \"example.com/\": name part must be non-empty; {NAME_REGEX_MSG}"
                ),
            ),
            (
                "Example.com/x",
                format!("unable to parse requirement: <nil>: Invalid value: \"Example.com/x\": prefix part {SUBDOMAIN_REGEX_MSG}"),
            ),
            ("/x", "unable to parse requirement: <nil>: Invalid value: \"/x\": prefix part must be non-empty".to_string()),
            ("x>-1", format!("unable to parse requirement: values[0][x]: Invalid value: \"-1\": {VALUE_REGEX_MSG}")),
        ];
        for (input, want) in cases {
            assert_eq!(parse_err(input).to_string(), want, "{input:?}");
        }
        // The field errors behind a wrapped message stay available.
        let err = parse_err("a:");
        assert_eq!(err.field_errors().len(), 1);
        assert_eq!(err.field_errors()[0].field, "<nil>");
        assert!(parse_err("x==a==b").field_errors().is_empty());
    }

    #[test]
    fn add_requirements() {
        let sel = Selector::everything().add([req("key", Operator::In, &["value"])]);
        assert_eq!(sel.requirements(), &[req("key", Operator::In, &["value"])]);
        let sel = sel.add([req("key2", Operator::Equals, &["value2"])]);
        assert_eq!(sel.requirements(), &[req("key", Operator::In, &["value"]), req("key2", Operator::Equals, &["value2"])]);
        let sel = sel.add([req("a", Operator::Exists, &[])]);
        assert_eq!(sel.to_string(), "a,key in (value),key2=value2");
    }

    #[test]
    fn requires_exact_match() {
        let r =
            |k: &str, op, v: &[&str]| Requirement { key: k.to_string(), operator: op, values: v.iter().map(|x| x.to_string()).collect() };
        let cases = [
            (vec![r("key", Operator::In, &["value"])], "key", Some("value")),
            (vec![r("key", Operator::In, &["value", "value2"])], "key", None),
            (vec![r("key", Operator::In, &["value", "value1"]), r("key2", Operator::In, &["value2"])], "key2", Some("value2")),
            (vec![r("key", Operator::Equals, &["value"])], "key", Some("value")),
            (vec![r("key", Operator::DoubleEquals, &["value"])], "key", Some("value")),
            (vec![r("key", Operator::NotEquals, &["value"])], "key", None),
            (vec![r("key", Operator::In, &["value"]), r("key2", Operator::In, &["value2"])], "key", Some("value")),
            (vec![r("key", Operator::Exists, &[])], "key", None),
            (vec![], "key", None),
        ];
        for (reqs, label, want) in cases {
            let sel = Selector::from_requirements(reqs);
            assert_eq!(sel.requires_exact_match(label), want, "{sel}");
        }
    }

    #[test]
    fn matches_nothing() {
        assert!(Selector::nothing().matches_nothing());
        assert!(!Selector::everything().matches_nothing());
        assert!(!Selector::from_set(&set(&[])).matches_nothing());
        assert!(!Selector::from_set(&set(&[("key", "value")])).matches_nothing());
        for s in ["", "a", "!a", "a=b", "a!=b", "a in (b)", "a notin (b)", "a,!a", "a=b,a!=b", "a in (b),a notin (b)"] {
            assert!(!parse_ok(s).matches_nothing(), "{s:?}");
        }
    }

    #[test]
    fn from_str_impl() {
        let sel: Selector = "b=c,a".parse().unwrap();
        assert_eq!(sel.to_string(), "a,b=c");
        assert!("a=(".parse::<Selector>().is_err());
    }

    /// Every short string over an alphabet of interesting characters parses
    /// or fails without panicking, and what parses renders to a string that
    /// parses back to the same selector.
    #[test]
    fn label_parser_is_total_and_round_trips() {
        let alphabet = ['a', '=', '!', '(', ')', ',', ' ', 'i', 'n', '<', '1', '\0', 'é', '/'];
        let mut inputs = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &frontier {
                for c in alphabet {
                    let mut t = s.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            inputs.extend(next.iter().cloned());
            frontier = next;
        }
        let mut parsed = 0;
        for input in &inputs {
            if let Ok(sel) = Selector::parse(input) {
                parsed += 1;
                let shown = sel.to_string();
                let again = Selector::parse(&shown).unwrap_or_else(|e| panic!("{input:?} rendered as {shown:?} which fails: {e}"));
                assert_eq!(again.to_string(), shown, "{input:?}");
                assert_eq!(again.requirements(), sel.requirements(), "{input:?}");
            }
        }
        assert!(parsed > 100, "only {parsed} inputs parsed");
    }

    // ----- LabelSelector conversion (TestLabelSelectorAsSelector) -----

    fn expr(key: &str, op: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_string(),
            operator: op.to_string(),
            values: values.map(|v| v.iter().map(|x| x.to_string()).collect()),
        }
    }

    #[test]
    fn label_selector_as_selector() {
        let match_labels = Some(set(&[("foo", "bar")]));
        let match_expressions = Some(vec![expr("baz", "In", Some(&["qux", "norf"]))]);

        let sel = Selector::from_label_selector(None).unwrap();
        assert!(sel.matches_nothing());
        assert!(!sel.matches(&BTreeMap::new()));

        for empty in [LabelSelector::default(), LabelSelector { match_labels: Some(BTreeMap::new()), match_expressions: Some(vec![]) }] {
            let sel = Selector::from_label_selector(Some(&empty)).unwrap();
            assert!(sel.is_empty());
            assert!(sel.matches(&set(&[("any", "thing")])));
        }

        let cases = [
            (LabelSelector { match_labels: match_labels.clone(), match_expressions: None }, "foo=bar"),
            (LabelSelector { match_labels: None, match_expressions: match_expressions.clone() }, "baz in (norf,qux)"),
            (
                LabelSelector { match_labels: match_labels.clone(), match_expressions: match_expressions.clone() },
                "baz in (norf,qux),foo=bar",
            ),
            (
                LabelSelector {
                    match_labels: Some(set(&[("b", "1"), ("a", "2")])),
                    match_expressions: Some(vec![
                        expr("c", "NotIn", Some(&["x"])),
                        expr("d", "Exists", None),
                        expr("e", "DoesNotExist", Some(&[])),
                    ]),
                },
                "a=2,b=1,c notin (x),d,!e",
            ),
        ];
        for (ls, want) in cases {
            let sel = Selector::from_label_selector(Some(&ls)).unwrap();
            assert_eq!(sel.to_string(), want);
            assert_eq!(sel.to_string(), parse_ok(want).to_string());
        }

        let sel = Selector::from_label_selector(Some(&LabelSelector { match_labels, match_expressions })).unwrap();
        assert!(sel.matches(&set(&[("foo", "bar"), ("baz", "qux")])));
        assert!(!sel.matches(&set(&[("foo", "bar"), ("baz", "other")])));
        assert!(!sel.matches(&set(&[("foo", "bar")])));
    }

    #[test]
    fn label_selector_as_selector_errors() {
        let ls = |labels: Option<BTreeMap<String, String>>, exprs: Vec<LabelSelectorRequirement>| LabelSelector {
            match_labels: labels,
            match_expressions: Some(exprs),
        };
        let cases = [
            (
                ls(None, vec![expr("baz", "Exists", Some(&["qux", "norf"]))]),
                "values: Invalid value: [\"qux\",\"norf\"]: values set must be empty for exists and does not exist".to_string(),
            ),
            (
                ls(None, vec![expr("baz", "In", None)]),
                "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty".to_string(),
            ),
            (
                ls(None, vec![expr("baz", "NotIn", Some(&[]))]),
                "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty".to_string(),
            ),
            (
                ls(None, vec![expr("baz", "Foo", Some(&["a"]))]),
                "\"Foo\" is not a valid label selector operator".to_string(),
            ),
            (
                ls(None, vec![expr("baz", "in", Some(&["a"]))]),
                "\"in\" is not a valid label selector operator".to_string(),
            ),
            (
                ls(None, vec![expr("-baz", "In", Some(&["a"]))]),
                format!("key: Invalid value: \"-baz\": {NAME_REGEX_MSG}"),
            ),
            (
                ls(None, vec![expr("baz", "In", Some(&["ok", "not ok"]))]),
                format!("values[1][baz]: Invalid value: \"not ok\": {VALUE_REGEX_MSG}"),
            ),
            (
                ls(Some(set(&[("foo", "b a r")])), vec![]),
                format!("values[0][foo]: Invalid value: \"b a r\": {VALUE_REGEX_MSG}"),
            ),
            (
                ls(Some(set(&[("a/b/c", "x")])), vec![]),
                "key: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string(),
            ),
        ];
        for (ls, want) in cases {
            let err = Selector::from_label_selector(Some(&ls)).unwrap_err();
            assert_eq!(err.to_string(), want, "{ls:?}");
        }
    }

    // ----- LabelSelector validation (ValidateLabelSelector) -----

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn validate_label_selector_cases() {
        let ls = |labels: Option<BTreeMap<String, String>>, exprs: Vec<LabelSelectorRequirement>| LabelSelector {
            match_labels: labels,
            match_expressions: Some(exprs),
        };
        let p = "spec.selector";
        let cases: Vec<(LabelSelector, Vec<String>)> = vec![
            (LabelSelector::default(), vec![]),
            (ls(None, vec![expr("key", "In", Some(&["value"]))]), vec![]),
            (ls(Some(set(&[("app", "web")])), vec![expr("key", "Exists", None)]), vec![]),
            (
                ls(None, vec![expr("key", "In", None)]),
                vec![format!("{p}.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'")],
            ),
            (
                ls(None, vec![expr("key", "In", Some(&["a"])), expr("key", "NotIn", Some(&[]))]),
                vec![format!("{p}.matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'")],
            ),
            (
                ls(None, vec![expr("key", "DoesNotExist", Some(&["a"]))]),
                vec![format!(
                    "{p}.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                )],
            ),
            (
                ls(None, vec![expr("key", "abc", Some(&["value"]))]),
                vec![format!("{p}.matchExpressions[0].operator: Invalid value: \"abc\": not a valid selector operator")],
            ),
            (
                ls(None, vec![expr("key", "<x>", None)]),
                vec![format!("{p}.matchExpressions[0].operator: Invalid value: \"\\u003cx\\u003e\": not a valid selector operator")],
            ),
            (
                ls(None, vec![expr("-key", "In", Some(&["value"]))]),
                vec![format!("{p}.matchExpressions[0].key: Invalid value: \"-key\": {NAME_REGEX_MSG}")],
            ),
            (
                ls(None, vec![expr("key", "In", Some(&["ok", "-value"]))]),
                vec![format!("{p}.matchExpressions[0].values[1]: Invalid value: \"-value\": {VALUE_REGEX_MSG}")],
            ),
            (
                ls(Some(set(&[("a/b/c", "x y")])), vec![]),
                vec![
                    format!(
                        "{p}.matchLabels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
                    ),
                    format!("{p}.matchLabels: Invalid value: \"x y\": {VALUE_REGEX_MSG}"),
                ],
            ),
            (
                ls(None, vec![expr("", "Bogus", Some(&[&"a".repeat(64)]))]),
                vec![
                    format!("{p}.matchExpressions[0].operator: Invalid value: \"Bogus\": not a valid selector operator"),
                    format!("{p}.matchExpressions[0].key: Invalid value: \"\": name part must be non-empty"),
                    format!("{p}.matchExpressions[0].key: Invalid value: \"\": {NAME_REGEX_MSG}"),
                    format!("{p}.matchExpressions[0].values[0]: Invalid value: \"{}\": must be no more than 63 bytes", "a".repeat(64)),
                ],
            ),
        ];
        for (sel, want) in cases {
            let errs = validate_label_selector(&sel, p);
            assert_eq!(messages(&errs), want, "{sel:?}");
        }
    }

    #[test]
    fn validate_label_selector_error_structure() {
        let sel = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![expr("key", "In", None), expr("key", "Exists", Some(&["a"])), expr("key", "Nope", None)]),
        };
        let errs = validate_label_selector(&sel, "spec.selector");
        assert_eq!(errs.len(), 3);
        assert_eq!(errs[0].field, "spec.selector.matchExpressions[0].values");
        assert_eq!(errs[0].error_type.reason(), "FieldValueRequired");
        assert_eq!(errs[0].body(), "Required value: must be specified when `operator` is 'In' or 'NotIn'");
        assert_eq!(errs[1].error_type.reason(), "FieldValueForbidden");
        assert_eq!(errs[2].error_type.reason(), "FieldValueInvalid");
        assert_eq!(errs[2].bad_value.as_deref(), Some("\"Nope\""));
        assert_eq!(errs[2].field, "spec.selector.matchExpressions[2].operator");

        // An empty path reports fields without prefix.
        let errs = validate_label_selector(&sel, "");
        assert_eq!(errs[0].field, "matchExpressions[0].values");
    }

    #[test]
    fn validate_label_selector_options() {
        let sel = LabelSelector { match_labels: None, match_expressions: Some(vec![expr("key", "Weird", Some(&["-bad"]))]) };
        assert_eq!(validate_label_selector(&sel, "s").len(), 2);
        let relaxed =
            LabelSelectorValidationOptions { allow_invalid_label_value_in_selector: true, allow_unknown_operator_in_requirement: true };
        assert!(validate_label_selector_with_options(&sel, relaxed, "s").is_empty());
        assert!(label_selector_has_invalid_label_value(Some(&sel)));
        assert!(!label_selector_has_invalid_label_value(None));
        assert!(!label_selector_has_invalid_label_value(Some(&LabelSelector::default())));
    }

    #[test]
    fn validate_labels_cases() {
        let good = [
            ("simple", "bar"),
            ("now-with-dashes", "bar"),
            ("1-starts-with-num", "bar"),
            ("1234", "bar"),
            ("simple/simple", "bar"),
            ("now-with-dashes/simple", "bar"),
            ("now-with-dashes/now-with-dashes", "bar"),
            ("now.with.dots/simple", "bar"),
            ("now-with.dashes-and.dots/simple", "bar"),
            ("1-num.2-num/3-num", "bar"),
            ("1234/5678", "bar"),
            ("1.2.3.4/5678", "bar"),
            ("UpperCaseAreOK123", "bar"),
            ("goodvalue", "123_-.BaR"),
        ];
        for (k, v) in good {
            assert!(validate_labels(&set(&[(k, v)]), "field").is_empty(), "{k}={v}");
        }
        let a254 = "a".repeat(254);
        let a64 = "a".repeat(64);
        let bad = [
            ("nospecialchars^=@", "bar", "name part must consist of"),
            ("cantendwithadash-", "bar", "name part must consist of"),
            ("only/one/slash", "bar", "a valid label key must consist of"),
            (a254.as_str(), "bar", "must be no more than"),
            ("toolongvalue", a64.as_str(), "must be no more than"),
            ("backslashesinvalue", "some\\bad\\value", "a valid label must be an empty string or consist of"),
            ("nocommasallowed", "bad,value", "a valid label must be an empty string or consist of"),
            ("strangecharsinvalue", "?#$notsogood", "a valid label must be an empty string or consist of"),
        ];
        for (k, v, want) in bad {
            let errs = validate_labels(&set(&[(k, v)]), "field");
            assert_eq!(errs.len(), 1, "{k}={v}: {errs:?}");
            assert_eq!(errs[0].field, "field");
            assert!(errs[0].detail.contains(want), "{k}={v}: {}", errs[0].detail);
        }
    }

    #[test]
    fn label_key_and_value_syntax() {
        let good_keys = [
            "simple".to_string(),
            "now-with-dashes".into(),
            "1-starts-with-num".into(),
            "1234".into(),
            "simple/simple".into(),
            "now-with-dashes/simple".into(),
            "now-with-dashes/now-with-dashes".into(),
            "now.with.dots/simple".into(),
            "now-with.dashes-and.dots/simple".into(),
            "1-num.2-num/3-num".into(),
            "1234/5678".into(),
            "1.2.3.4/5678".into(),
            "Uppercase_Is_OK_123".into(),
            "example.com/Uppercase_Is_OK_123".into(),
            "requests.storage-foo".into(),
            "a".repeat(63),
            format!("{}/{}", "a".repeat(253), "b".repeat(63)),
        ];
        for k in &good_keys {
            assert!(is_label_key(k).is_empty(), "{k}: {:?}", is_label_key(k));
        }
        let bad_keys = [
            "nospecialchars%^=@".to_string(),
            "cantendwithadash-".into(),
            "-cantstartwithadash-".into(),
            "only/one/slash".into(),
            "Example.com/abc".into(),
            "example_com/abc".into(),
            "example.com/".into(),
            "/simple".into(),
            "a".repeat(64),
            format!("{}/abc", "a".repeat(254)),
            String::new(),
            "ké".into(),
        ];
        for k in &bad_keys {
            assert!(!is_label_key(k).is_empty(), "{k}");
        }
        assert_eq!(is_label_key(&format!("{}/abc", "a".repeat(254))), ["prefix part must be no more than 253 bytes"]);
        assert_eq!(is_label_key(""), ["name part must be non-empty".to_string(), NAME_REGEX_MSG.to_string()]);

        let a63 = "a".repeat(63);
        for v in ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", &a63, ""] {
            assert!(is_label_value(v).is_empty(), "{v}");
        }
        let a64 = "a".repeat(64);
        for v in [
            "nospecialchars%^=@",
            "Tama-nui-te-rā.is.Māori.sun",
            "\\backslashes\\are\\bad",
            "-starts-with-dash",
            "ends-with-dash-",
            ".starts.with.dot",
            "ends.with.dot.",
            "trailing-newline\n",
            &a64,
        ] {
            assert!(!is_label_value(v).is_empty(), "{v}");
        }
        assert_eq!(is_label_value(&format!("-{a63}")), ["must be no more than 63 bytes".to_string(), VALUE_REGEX_MSG.to_string()]);
        assert!(is_dns1123_subdomain("a.b-c.d").is_empty());
        assert_eq!(is_dns1123_subdomain("a..b"), [SUBDOMAIN_REGEX_MSG]);
    }

    #[test]
    fn go_and_json_quoting() {
        assert_eq!(go_quote("plain"), "\"plain\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\u{7}\u{8}\u{c}\n\r\t\u{b}\u{0}\u{7f}"), "\"\\a\\b\\f\\n\\r\\t\\v\\x00\\x7f\"");
        assert_eq!(go_quote("ā€<>&"), "\"ā€<>&\"");
        assert_eq!(go_quote("\u{a0}\u{feff}\u{10ffff}"), "\"\\u00a0\\ufeff\\U0010ffff\"");
        assert_eq!(
            json_string("a\"\\\n\r\t\u{8}\u{c}\u{1}<>&\u{2028}ā"),
            "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u003c\\u003e\\u0026\\u2028ā\""
        );
        assert_eq!(json_string_list(None), "null");
        assert_eq!(json_string_list(Some(&[])), "[]");
        assert_eq!(json_string_list(Some(&["a".to_string(), "b".to_string()])), "[\"a\",\"b\"]");
    }

    // ----- field selectors (fields/selector_test.go) -----

    #[test]
    fn field_split_terms() {
        let cases: &[(&str, &[&str])] = &[
            ("a", &["a"]),
            ("a=avalue", &["a=avalue"]),
            ("a=avalue,b=bvalue", &["a=avalue", "b=bvalue"]),
            ("a=avalue,b==bvalue,c!=cvalue", &["a=avalue", "b==bvalue", "c!=cvalue"]),
            ("", &[]),
            ("a=a,", &["a=a", ""]),
            (",a=a", &["", "a=a"]),
            ("k=\\,,k2=v2", &["k=\\,", "k2=v2"]),
            ("k=\\\\,k2=v2", &["k=\\\\", "k2=v2"]),
            ("k=\\\\\\,,k2=v2", &["k=\\\\\\,", "k2=v2"]),
            ("k=\\a\\b\\", &["k=\\a\\b\\"]),
            ("k=\\", &["k=\\"]),
            ("함=수,목=록", &["함=수", "목=록"]),
            ("k=\\함,x", &["k=\\함", "x"]),
        ];
        for (input, want) in cases {
            assert_eq!(split_terms(input), *want, "{input:?}");
        }
    }

    #[test]
    fn field_split_term() {
        let cases = [
            ("a=value", Some(("a", "=", "value"))),
            ("b==value", Some(("b", "==", "value"))),
            ("c!=value", Some(("c", "!=", "value"))),
            ("", None),
            ("a", None),
            ("k=\\,", Some(("k", "=", "\\,"))),
            ("k=\\=", Some(("k", "=", "\\="))),
            ("k=\\\\\\a\\b\\=\\,\\", Some(("k", "=", "\\\\\\a\\b\\=\\,\\"))),
            ("함=수", Some(("함", "=", "수"))),
            ("=x", Some(("", "=", "x"))),
            ("a!b=c", Some(("a!b", "=", "c"))),
        ];
        for (input, want) in cases {
            assert_eq!(split_term(input), want, "{input:?}");
        }
    }

    #[test]
    fn field_escape_value() {
        let cases = [("", ""), ("a", "a"), ("=", "\\="), (",", "\\,"), ("\\", "\\\\"), ("\\=\\,\\", "\\\\\\=\\\\\\,\\\\")];
        for (raw, escaped) in cases {
            assert_eq!(escape_value(raw), escaped);
            assert_eq!(unescape_value(escaped).unwrap(), raw);
        }
        let invalid = [
            ("\\", "invalid field selector: invalid escape sequence: \\"),
            ("\\\\\\", "invalid field selector: invalid escape sequence: \\"),
            ("\\a", "invalid field selector: invalid escape sequence: \\a"),
            ("\\함", "invalid field selector: invalid escape sequence: \\함"),
            ("a=b", "invalid field selector: unescaped character in value: 61"),
            ("a,b", "invalid field selector: unescaped character in value: 44"),
        ];
        for (input, want) in invalid {
            assert_eq!(unescape_value(input).unwrap_err().to_string(), want, "{input:?}");
        }
    }

    #[test]
    fn field_selector_parse() {
        for s in ["x=a,y=b,z=c", "", "x!=a,y=b", "x=a||y\\=b", "x=a\\=\\=b"] {
            let sel = FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(sel.to_string(), s);
        }
        let bad = [
            ("x=a||y=b", "invalid field selector: unescaped character in value: 61"),
            ("x==a==b", "invalid field selector: unescaped character in value: 61"),
            ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
            ("x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"),
            ("x in (a,b,c)", "invalid selector: 'x in (a,b,c)'; can't understand 'b'"),
            ("x", "invalid selector: 'x'; can't understand 'x'"),
            ("k=\\a", "invalid field selector: invalid escape sequence: \\a"),
        ];
        for (s, want) in bad {
            assert_eq!(FieldSelector::parse(s).unwrap_err().to_string(), want, "{s:?}");
        }
    }

    #[test]
    fn field_selector_details() {
        // Deterministic: terms sorted by their text.
        assert_eq!(FieldSelector::parse("x=a,a=x").unwrap().to_string(), FieldSelector::parse("a=x,x=a").unwrap().to_string());
        // `==` is rendered as `=`, and the requirements expose the operator.
        let sel = FieldSelector::parse("b==2,a!=1").unwrap();
        assert_eq!(sel.to_string(), "a!=1,b=2");
        assert_eq!(
            sel.requirements(),
            &[
                FieldRequirement { field: "a".into(), operator: FieldOperator::NotEquals, value: "1".into() },
                FieldRequirement { field: "b".into(), operator: FieldOperator::Equals, value: "2".into() },
            ]
        );
        // Empty terms are skipped, as are terms with empty field and value.
        let sel = FieldSelector::parse(",a=b,,=,").unwrap();
        assert_eq!(sel.to_string(), "a=b");
        assert!(FieldSelector::parse("=").unwrap().is_empty());
        assert!(FieldSelector::parse(",").unwrap().is_empty());
        // Whitespace is not trimmed.
        let sel = FieldSelector::parse("a = b").unwrap();
        assert_eq!(sel.requirements()[0].field, "a ");
        assert_eq!(sel.requirements()[0].value, " b");
        // An empty field with a value is kept.
        assert_eq!(FieldSelector::parse("=x").unwrap().requirements()[0].field, "");
        let sel: FieldSelector = "metadata.name=foo".parse().unwrap();
        assert_eq!(sel.requires_exact_match("metadata.name"), Some("foo"));
    }

    #[test]
    fn field_selector_matches() {
        let m =
            |s: &str, fields: &[(&str, &str)]| FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).matches_set(&set(fields));
        assert!(m("", &[("x", "y")]));
        assert!(m("x=y", &[("x", "y")]));
        assert!(m("x=y,z=w", &[("x", "y"), ("z", "w")]));
        assert!(m("x!=y,z!=w", &[("x", "z"), ("z", "a")]));
        assert!(m("notin=in", &[("notin", "in")]));
        assert!(!m("x=y", &[("x", "z")]));
        assert!(!m("x=y,z=w", &[("x", "w"), ("z", "w")]));
        assert!(!m("x!=y,z!=w", &[("x", "z"), ("z", "w")]));

        let fieldset = [("foo", "bar"), ("baz", "blah"), ("complex", "=value\\,\\")];
        assert!(m("foo=bar", &fieldset));
        assert!(m("baz=blah", &fieldset));
        assert!(m("foo=bar,baz=blah", &fieldset));
        assert!(m("foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\", &fieldset));
        assert!(!m("foo=blah", &fieldset));
        assert!(!m("baz=bar", &fieldset));
        assert!(!m("foo=bar,foobar=bar,baz=blah", &fieldset));

        // A missing field reads as the empty string.
        assert!(m("spec.nodeName=", &[]));
        assert!(m("spec.nodeName!=node1", &[]));
        assert!(!m("spec.nodeName=node1", &[]));
        assert!(!m("spec.nodeName!=", &[]));

        // The closure form.
        let sel = FieldSelector::parse("metadata.name=web-0,status.phase!=Failed").unwrap();
        let get = |f: &str| match f {
            "metadata.name" => Some("web-0".to_string()),
            "status.phase" => Some("Running".to_string()),
            _ => None,
        };
        assert!(sel.matches(get));
        assert!(!sel.matches(|_| None));
    }

    #[test]
    fn field_selector_constructors() {
        let one = FieldSelector::one_term_equal("x", "y");
        assert!(one.matches_set(&set(&[("x", "y")])));
        assert!(!one.matches_set(&set(&[("x", "z")])));
        let not = FieldSelector::one_term_not_equal("x", "a=b");
        assert_eq!(not.to_string(), "x!=a\\=b");
        assert!(not.matches_set(&set(&[])));

        let labelset = set(&[("foo", "bar"), ("baz", "blah")]);
        for s in [set(&[]), set(&[("foo", "bar")]), set(&[("baz", "blah")]), set(&[("foo", "bar"), ("baz", "blah")])] {
            assert!(FieldSelector::from_set(&s).matches_set(&labelset), "{s:?}");
        }
        for s in [set(&[("foo", "=blah")]), set(&[("baz", "=bar")]), set(&[("foo", "=bar"), ("foobar", "bar"), ("baz", "blah")])] {
            assert!(!FieldSelector::from_set(&s).matches_set(&labelset), "{s:?}");
        }

        assert!(FieldSelector::everything().is_empty());
        assert!(FieldSelector::everything().matches_set(&labelset));
        assert!(FieldSelector::from_set(&set(&[])).is_empty());
        let nothing = FieldSelector::nothing();
        assert!(!nothing.is_empty());
        assert!(nothing.matches_nothing());
        assert!(!nothing.matches_set(&labelset));
        assert_eq!(nothing.to_string(), "");
    }

    #[test]
    fn field_selector_requires_exact_match() {
        let cases = [
            (FieldSelector::from_set(&set(&[])), "test", None),
            (FieldSelector::one_term_equal("", ""), "test", None),
            (FieldSelector::one_term_equal("a", "b"), "test", None),
            (FieldSelector::one_term_equal("test", "b"), "test", Some("b")),
            (FieldSelector::one_term_equal("test", ""), "test", Some("")),
            (FieldSelector::one_term_not_equal("test", "b"), "test", None),
            (FieldSelector::one_term_not_equal("test", ""), "test", None),
            (FieldSelector::parse("test!=a,test=b").unwrap(), "test", Some("b")),
            (FieldSelector::nothing(), "test", None),
        ];
        for (sel, field, want) in cases {
            assert_eq!(sel.requires_exact_match(field), want, "{sel}");
        }
    }

    #[test]
    fn field_selector_transform() {
        type Tf = fn(&str, &str) -> Result<(String, String), String>;
        let identity: Tf = |f, v| Ok((f.to_string(), v.to_string()));
        let cases: Vec<(&str, Tf, &str, bool)> = vec![
            ("", identity, "", true),
            ("a=b,c=d", identity, "a=b,c=d", false),
            (
                "a=b,c=d",
                |f, v| {
                    if f == "a" { Ok(("e".into(), "f".into())) } else { Ok((f.into(), v.into())) }
                },
                "e=f,c=d",
                false,
            ),
            ("a=b", |_, _| Ok((String::new(), String::new())), "", true),
            (
                "a=b,c=d,e=f",
                |f, v| {
                    if f == "c" { Ok((String::new(), String::new())) } else { Ok((f.into(), v.into())) }
                },
                "a=b,e=f",
                false,
            ),
        ];
        for (input, f, want, empty) in cases {
            let sel = FieldSelector::parse(input).unwrap().transform(f).unwrap();
            assert_eq!(sel.to_string(), want, "{input:?}");
            assert_eq!(sel.is_empty(), empty, "{input:?}");
        }
        let err = FieldSelector::parse("a=b")
            .unwrap()
            .transform(|f, _| Err::<(String, String), _>(format!("{f} is not a known field")))
            .unwrap_err();
        assert_eq!(err, "a is not a known field");
        assert!(FieldSelector::nothing().transform(|f, v| Ok::<_, ()>((f.to_string(), v.to_string()))).unwrap().matches_nothing());
    }

    /// Short strings never panic the field selector parser, and what parses
    /// renders to a string that parses to the same terms.
    #[test]
    fn field_parser_is_total_and_round_trips() {
        let alphabet = ['a', '=', '!', ',', '\\', ' ', 'é'];
        let mut frontier = vec![String::new()];
        let mut parsed = 0;
        for _ in 0..5 {
            let mut next = Vec::new();
            for s in &frontier {
                for c in alphabet {
                    let mut t = s.clone();
                    t.push(c);
                    if let Ok(sel) = FieldSelector::parse(&t) {
                        parsed += 1;
                        let shown = sel.to_string();
                        let again = FieldSelector::parse(&shown).unwrap_or_else(|e| panic!("{t:?} rendered as {shown:?} which fails: {e}"));
                        let mut a = again.requirements().to_vec();
                        let mut b = sel.requirements().to_vec();
                        let key = |r: &FieldRequirement| (r.field.clone(), r.operator, r.value.clone());
                        a.sort_by_key(key);
                        b.sort_by_key(key);
                        assert_eq!(a, b, "{t:?} via {shown:?}");
                    }
                    next.push(t);
                }
            }
            frontier = next;
        }
        assert!(parsed > 100, "only {parsed} inputs parsed");
    }
}
