//! `intstr.GetScaledValueFromIntOrPercent` (k8s.io/apimachinery), with
//! upstream's error texts: how maxSurge and maxUnavailable of Deployments and
//! DaemonSets become numbers.

use std::num::{IntErrorKind, ParseIntError};

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::field::go_quote;

fn go_atoi_error(s: &str, e: &ParseIntError) -> String {
    let what = match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
        _ => "invalid syntax",
    };
    format!("strconv.Atoi: parsing {}: {what}", go_quote(s))
}

/// An int as is, a percentage of `total` rounded up or down (`"x%"` only;
/// anything else is an error, as is a missing value).
pub fn scaled_value_from_int_or_percent(value: Option<&IntOrString>, total: i32, round_up: bool) -> Result<i32, String> {
    let Some(value) = value else {
        return Err("nil value for IntOrString".to_string());
    };
    match value {
        IntOrString::Int(i) => Ok(*i),
        IntOrString::String(s) => {
            let Some(number) = s.strip_suffix('%') else {
                return Err("invalid value for IntOrString: invalid type: string is not a percentage".to_string());
            };
            let v: i64 = number
                .parse()
                .map_err(|e| format!("invalid value for IntOrString: invalid value {}: {}", go_quote(s), go_atoi_error(number, &e)))?;
            let scaled = v as f64 * f64::from(total) / 100.0;
            let scaled = if round_up { scaled.ceil() } else { scaled.floor() };
            // Go: int(float64) then int32(int), which wraps.
            Ok((scaled as i64) as i32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_as_asked_and_errors_read_like_upstream() {
        let pct = |s: &str| IntOrString::String(s.into());
        assert_eq!(scaled_value_from_int_or_percent(Some(&pct("25%")), 10, true), Ok(3));
        assert_eq!(scaled_value_from_int_or_percent(Some(&pct("25%")), 10, false), Ok(2));
        assert_eq!(scaled_value_from_int_or_percent(Some(&IntOrString::Int(4)), 10, false), Ok(4));
        assert_eq!(scaled_value_from_int_or_percent(None, 10, true), Err("nil value for IntOrString".into()));
        assert_eq!(
            scaled_value_from_int_or_percent(Some(&pct("x%")), 1, true),
            Err("invalid value for IntOrString: invalid value \"x%\": strconv.Atoi: parsing \"x\": invalid syntax".into())
        );
    }
}
