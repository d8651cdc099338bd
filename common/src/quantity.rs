//! Resource quantities (upstream `k8s.io/apimachinery/pkg/api/resource`):
//! parsing with upstream's errors, exact arithmetic on `mantissa ×
//! 10^scale`, comparison, upstream's canonical string form, and the
//! integer views controllers and the scheduler compute with
//! ([`Qty::milli_value`], [`Qty::value`], both rounding up as upstream's
//! `MilliValue()` and `Value()` do).

use std::cmp::Ordering;
use std::fmt;

pub const FORMAT_ERR: &str = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX_ERR: &str = "unable to parse quantity's suffix";
const NUMERIC_ERR: &str = "unable to parse quantity's numeric part";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// `±mant × 10^scale`, remembering the suffix family it was written in.
#[derive(Clone, Copy, Debug)]
pub struct Qty {
    pub neg: bool,
    pub mant: u128,
    pub scale: i32,
    pub format: Format,
}

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

impl Format {
    /// Its name in Go (`resource.Format`).
    pub fn name(self) -> &'static str {
        match self {
            Format::DecimalExponent => "DecimalExponent",
            Format::BinarySI => "BinarySI",
            Format::DecimalSI => "DecimalSI",
        }
    }
}

/// Upstream's `quantitySuffixer.interpret`: (base, exponent, format). An
/// exponent is read as Go's `ParseInt(_, 10, 64)` and truncated to int32,
/// as upstream does (`1e4294967296` is 1).
pub fn interpret_suffix(s: &str) -> Option<(u32, i32, Format)> {
    let dec = |e| Some((10, e, Format::DecimalSI));
    let bin = |e| Some((2, e, Format::BinarySI));
    match s {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            let digits = &s[1..];
            let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let exponent: i64 = digits.parse().ok()?;
            Some((10, exponent as i32, Format::DecimalExponent))
        }
        _ => None,
    }
}

/// The pieces upstream's `parseQuantityString` splits a quantity into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts<'a> {
    pub positive: bool,
    /// The number as written, sign included, suffix excluded.
    pub value: &'a str,
    /// Integer digits, leading zeros dropped (`"0"` if none).
    pub num: &'a str,
    /// Fraction digits.
    pub denom: &'a str,
    pub suffix: &'a str,
}

/// Upstream's `parseQuantityString`.
pub fn split(s: &str) -> Result<Parts<'_>, &'static str> {
    let b = s.as_bytes();
    let end = b.len();
    let mut parts = Parts { positive: true, value: s, num: "0", denom: "", suffix: "" };
    let mut pos = 0;
    if pos < end {
        match b[0] {
            b'-' => {
                parts.positive = false;
                pos += 1
            }
            b'+' => pos += 1,
            _ => {}
        }
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        parts.value = "0";
        return Ok(parts);
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos > num_start {
        parts.num = &s[num_start..pos];
    }
    if pos >= end {
        return Ok(parts);
    }
    if b[pos] == b'.' {
        pos += 1;
        let d = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        parts.denom = &s[d..pos];
        if pos >= end {
            return Ok(parts);
        }
    }
    parts.value = &s[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(FORMAT_ERR);
    }
    parts.suffix = &s[suffix_start..];
    Ok(parts)
}

pub fn parse(s: &str) -> Result<Qty, &'static str> {
    if s.is_empty() {
        return Err(FORMAT_ERR);
    }
    let Parts { positive, num, denom, suffix, .. } = split(s)?;
    let (base, exp, format) = interpret_suffix(suffix).ok_or(SUFFIX_ERR)?;
    let digits = format!("{num}{denom}");
    let digits = digits.trim_start_matches('0');
    let mut mant: u128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| NUMERIC_ERR)? };
    let mut scale = -i32::try_from(denom.len()).map_err(|_| NUMERIC_ERR)?;
    if base == 10 {
        scale = scale.checked_add(exp).ok_or(NUMERIC_ERR)?;
    } else {
        mant = mant.checked_mul(1u128.checked_shl(exp as u32).ok_or(NUMERIC_ERR)?).ok_or(NUMERIC_ERR)?;
    }
    let q = Qty { neg: !positive && mant != 0, mant, scale, format };
    // Anything finer than nano units rounds up to 1n.
    Ok(q.round_up(-9))
}

impl Qty {
    /// The value in units of `10^scale`, rounded away from zero and
    /// saturated to i64 (upstream `ScaledValue`): `scaled_value(-3)` of
    /// `"1.5m"` is 2.
    pub fn scaled_value(&self, scale: i32) -> i64 {
        let shift = self.scale - scale;
        let magnitude: Option<u128> = if shift >= 0 {
            pow10(shift as u32).and_then(|p| self.mant.checked_mul(p))
        } else {
            match pow10((-shift) as u32) {
                Some(d) => Some(self.mant.div_ceil(d)),
                None => Some(u128::from(self.mant != 0)),
            }
        };
        let magnitude = magnitude.map_or(i64::MAX, |m| i64::try_from(m).unwrap_or(i64::MAX));
        if self.neg { -magnitude } else { magnitude }
    }

    /// Thousandths (millicores for CPU), rounded up (upstream `MilliValue`).
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    /// Whole units (bytes for memory), rounded up (upstream `Value`).
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    pub fn is_zero(&self) -> bool {
        self.mant == 0
    }

    pub fn sign(&self) -> i32 {
        if self.mant == 0 {
            0
        } else if self.neg {
            -1
        } else {
            1
        }
    }

    /// Rounds away from zero to at most `scale` (e.g. -3 for milli units).
    pub fn round_up(mut self, scale: i32) -> Qty {
        if self.scale >= scale || self.mant == 0 {
            return self;
        }
        let shift = (scale - self.scale) as u32;
        match pow10(shift) {
            Some(div) => {
                let (q, r) = (self.mant / div, self.mant % div);
                self.mant = if r != 0 { q + 1 } else { q };
            }
            None => self.mant = 1,
        }
        self.scale = scale;
        self
    }

    /// The value at a common scale, for comparisons.
    fn aligned(&self, other: &Qty) -> Option<(i128, i128)> {
        let s = self.scale.min(other.scale);
        let a = self.mant.checked_mul(pow10((self.scale - s) as u32)?)?;
        let b = other.mant.checked_mul(pow10((other.scale - s) as u32)?)?;
        let a = i128::try_from(a).ok()?;
        let b = i128::try_from(b).ok()?;
        Some((if self.neg { -a } else { a }, if other.neg { -b } else { b }))
    }

    pub fn to_f64(self) -> f64 {
        let v = self.mant as f64 * 10f64.powi(self.scale);
        if self.neg { -v } else { v }
    }

    pub fn cmp_value(&self, other: &Qty) -> Ordering {
        match self.aligned(other) {
            Some((a, b)) => a.cmp(&b),
            None => self.to_f64().partial_cmp(&other.to_f64()).unwrap_or(Ordering::Equal),
        }
    }

    pub fn add(&self, other: &Qty) -> Option<Qty> {
        let (a, b) = self.aligned(other)?;
        let sum = a.checked_add(b)?;
        let format = if self.is_zero() { other.format } else { self.format };
        Some(Qty { neg: sum < 0, mant: sum.unsigned_abs(), scale: self.scale.min(other.scale), format })
    }

    /// Whether the value, rounded up to milli units, is a whole number.
    pub fn is_integer(&self) -> bool {
        let r = self.round_up(-3);
        if r.scale >= 0 {
            return true;
        }
        match pow10((-r.scale) as u32) {
            Some(d) => r.mant.is_multiple_of(d),
            None => r.mant == 0,
        }
    }

    /// The integer value if the quantity is a whole number.
    fn as_integer(&self) -> Option<u128> {
        if self.scale >= 0 {
            self.mant.checked_mul(pow10(self.scale as u32)?)
        } else {
            let d = pow10((-self.scale) as u32)?;
            self.mant.is_multiple_of(d).then_some(self.mant / d)
        }
    }
}

impl fmt::Display for Qty {
    /// Upstream's canonical form (`Quantity.String()`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mant == 0 {
            return f.write_str("0");
        }
        let sign = if self.neg { "-" } else { "" };
        let mut format = self.format;
        if format == Format::BinarySI {
            let small = self.as_integer().is_some_and(|v| v < 1024)
                || self.cmp_value(&Qty { neg: false, mant: 1024, scale: 0, format }) == Ordering::Less;
            match self.as_integer() {
                Some(v) if !small => {
                    let mut v = v;
                    let mut k = 0;
                    while v >= 1024 && v % 1024 == 0 && k < 6 {
                        v /= 1024;
                        k += 1;
                    }
                    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][k];
                    return write!(f, "{sign}{v}{suffix}");
                }
                _ => format = Format::DecimalSI,
            }
        }
        let mut mant = self.mant;
        let mut exp = self.scale;
        while mant >= 10 && mant.is_multiple_of(10) {
            mant /= 10;
            exp += 1;
        }
        match exp.rem_euclid(3) {
            1 => {
                mant *= 10;
                exp -= 1;
            }
            2 => {
                mant *= 100;
                exp -= 2;
            }
            _ => {}
        }
        let suffix = match format {
            Format::DecimalExponent => {
                if exp == 0 {
                    String::new()
                } else {
                    format!("e{exp}")
                }
            }
            _ => match exp {
                -9 => "n".into(),
                -6 => "u".into(),
                -3 => "m".into(),
                0 => String::new(),
                3 => "k".into(),
                6 => "M".into(),
                9 => "G".into(),
                12 => "T".into(),
                15 => "P".into(),
                18 => "E".into(),
                e => format!("e{e}"),
            },
        };
        write!(f, "{sign}{mant}{suffix}")
    }
}

/// Parses a `Quantity` field; `None` when malformed (the API server rejects
/// those, so a stored object never has one).
pub fn of(q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Option<Qty> {
    parse(q.0.trim()).ok()
}

#[cfg(test)]
mod integer_tests {
    use super::*;

    #[test]
    fn exponents_are_go_int64_truncated_to_int32_and_never_overflow() {
        // 4294967296 = 2^32: int32(...) is 0, so upstream reads 1e0.
        assert_eq!(parse("1e4294967296").unwrap().value(), 1);
        assert_eq!(parse("2E+4294967297").unwrap().value(), 20);
        assert_eq!(interpret_suffix("e-3"), Some((10, -3, Format::DecimalExponent)));
        assert_eq!(interpret_suffix("e"), None);
        assert_eq!(interpret_suffix("e+"), None);
        assert_eq!(interpret_suffix("e99999999999999999999"), None);
        // The scale would leave int32: an error, not a panic.
        assert_eq!(parse("1.5e-2147483648").unwrap_err(), NUMERIC_ERR);
    }

    #[test]
    fn split_gives_upstreams_pieces() {
        let p = |s| split(s).unwrap();
        assert_eq!(p("-007.50Mi"), Parts { positive: false, value: "-007.50", num: "7", denom: "50", suffix: "Mi" });
        assert_eq!(p("000"), Parts { positive: true, value: "0", num: "0", denom: "", suffix: "" });
        assert_eq!(p(".5"), Parts { positive: true, value: ".5", num: "0", denom: "5", suffix: "" });
        assert_eq!(p("12e-3"), Parts { positive: true, value: "12", num: "12", denom: "", suffix: "e-3" });
        assert_eq!(split("1x").unwrap_err(), FORMAT_ERR);
        assert_eq!(split("1e3x").unwrap_err(), FORMAT_ERR);
    }

    #[test]
    fn milli_and_whole_values_round_up() {
        let m = |s: &str| parse(s).unwrap().milli_value();
        let v = |s: &str| parse(s).unwrap().value();
        assert_eq!(m("100m"), 100);
        assert_eq!(m("1.5m"), 2);
        assert_eq!(m("2"), 2000);
        assert_eq!(m("0.1"), 100);
        assert_eq!(m("1n"), 1);
        assert_eq!(m("-1.5m"), -2);
        assert_eq!(v("1Ki"), 1024);
        assert_eq!(v("1.5"), 2);
        assert_eq!(v("128Mi"), 134_217_728);
        assert_eq!(v("1k"), 1000);
        assert_eq!(v("100m"), 1);
        assert_eq!(v("0"), 0);
        assert_eq!(v("9E18"), 9_000_000_000_000_000_000);
        assert_eq!(v("1E20"), i64::MAX);
    }
}
