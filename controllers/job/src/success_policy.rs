//! `spec.successPolicy` of Indexed Jobs, as upstream
//! `pkg/controller/job/success_policy.go` (Kubernetes v1.36, `JobSuccessPolicy` GA).
//!
//! Rules are tried in order; the first one met gives the message
//! `Matched rules at index N` of the `SuccessCriteriaMet` condition (reason
//! `SuccessPolicy`):
//!
//! * `succeededIndexes` (with or without `succeededCount`): the succeeded
//!   indexes contain all the rule's indexes, or at least `succeededCount` of
//!   them; a rule whose indexes parse to nothing is skipped;
//! * `succeededCount` alone: at least that many indexes succeeded.

use k8s_openapi::api::batch::v1::SuccessPolicy;

use crate::indexes::OrderedIntervals;

/// The condition message when a rule of the policy is met by the succeeded
/// indexes (upstream `matchSuccessPolicy`), else `None`.
pub fn match_success_policy(policy: Option<&SuccessPolicy>, completions: i32, succeeded: &OrderedIntervals) -> Option<String> {
    let policy = policy?;
    if succeeded.is_empty() {
        return None;
    }
    for (index, rule) in policy.rules.iter().enumerate() {
        let met = if let Some(indexes) = &rule.succeeded_indexes {
            let required = OrderedIntervals::parse(indexes, completions);
            if required.is_empty() {
                continue;
            }
            matches_succeeded_indexes_rule(&required, succeeded, rule.succeeded_count)
        } else if let Some(count) = rule.succeeded_count {
            succeeded.total() >= i64::from(count)
        } else {
            false
        };
        if met {
            return Some(format!("Matched rules at index {index}"));
        }
    }
    None
}

/// Whether `succeeded` holds all of `rule`'s indexes, or at least
/// `succeeded_count` of them (upstream `matchSucceededIndexesRule`).
fn matches_succeeded_indexes_rule(rule: &OrderedIntervals, succeeded: &OrderedIntervals, succeeded_count: Option<i32>) -> bool {
    let (mut contains, mut r, mut s) = (0i64, 0, 0);
    while r < rule.0.len() && s < succeeded.0.len() {
        let (a, b) = (rule.0[r], succeeded.0[s]);
        let overlap = a.last.min(b.last) - a.first.max(b.first) + 1;
        if overlap > 0 {
            contains += overlap;
        }
        if b.last < a.last {
            s += 1;
        } else if b.last > a.last {
            r += 1;
        } else {
            s += 1;
            r += 1;
        }
    }
    contains == rule.total() || succeeded_count.is_some_and(|c| contains >= i64::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indexes::Interval;
    use serde_json::json;

    fn iv(v: &[(i64, i64)]) -> OrderedIntervals {
        OrderedIntervals(v.iter().map(|(a, b)| Interval::new(*a, *b)).collect())
    }

    fn policy(rules: serde_json::Value) -> SuccessPolicy {
        serde_json::from_value(json!({ "rules": rules })).unwrap()
    }

    #[test]
    fn match_success_policy_cases() {
        // Upstream TestMatchSuccessPolicy (JobSuccessPolicy GA: the
        // "disabled" case is the same as no policy); completions are 10.
        let m0 = Some("Matched rules at index 0");
        type Case<'a> = (&'a str, Option<serde_json::Value>, &'a [(i64, i64)], Option<&'a str>);
        let cases: &[Case] = &[
            ("successPolicy is null", None, &[(0, 0)], None),
            ("any rules are nothing", Some(json!([])), &[(0, 0)], None),
            ("rules.succeededIndexes is invalid format", Some(json!([{"succeededIndexes": "invalid-form"}])), &[(0, 0)], None),
            ("succeededIndexes matched rules", Some(json!([{"succeededIndexes": "0-2"}])), &[(0, 2), (4, 7)], m0),
            ("succeededIndexes didn't match rules", Some(json!([{"succeededIndexes": "3"}])), &[(0, 2)], None),
            ("succeededCount matched rules", Some(json!([{"succeededCount": 2}])), &[(0, 2)], m0),
            ("succeededCount didn't match rules", Some(json!([{"succeededCount": 4}])), &[(0, 2)], None),
            (
                "multiple rules; met one of rules",
                Some(json!([{"succeededIndexes": "9"}, {"succeededIndexes": "4,6"}])),
                &[(0, 2), (4, 7)],
                Some("Matched rules at index 1"),
            ),
            ("multiple rules; met all rules", Some(json!([{"succeededIndexes": "0,1"}, {"succeededIndexes": "5"}])), &[(0, 2), (4, 7)], m0),
            ("indexes and count; met", Some(json!([{"succeededIndexes": "3-6", "succeededCount": 2}])), &[(0, 2), (4, 7)], m0),
            ("indexes and count; not met", Some(json!([{"succeededIndexes": "3-6", "succeededCount": 2}])), &[(0, 2), (6, 7)], None),
            ("succeededIndexes are nothing", Some(json!([{"succeededCount": 4}])), &[], None),
            ("rules is proper subset of succeededIndexes", Some(json!([{"succeededIndexes": "2-4,6-8"}])), &[(1, 5), (6, 9)], m0),
            ("rules equals succeededIndexes", Some(json!([{"succeededIndexes": "2-4,6-9"}])), &[(2, 4), (6, 9)], m0),
            ("rules is subset of succeededIndexes", Some(json!([{"succeededIndexes": "2-4,8-12"}])), &[(2, 5), (7, 15)], m0),
            ("rules is an empty set", Some(json!([{"succeededIndexes": ""}])), &[(1, 3)], None),
            ("succeededIndexes is an empty set", Some(json!([{"succeededIndexes": ""}])), &[], None),
            ("all rule indexes outside succeeded", Some(json!([{"succeededIndexes": "10-12,14-16"}])), &[(1, 3), (5, 7)], None),
            ("rules overlaps succeededIndexes at first", Some(json!([{"succeededIndexes": "1-3,5-7"}])), &[(2, 4), (6, 8)], None),
            ("overlaps at first; count", Some(json!([{"succeededIndexes": "1-3,5-7", "succeededCount": 4}])), &[(2, 4), (6, 8)], m0),
            ("rules overlaps succeededIndexes at last", Some(json!([{"succeededIndexes": "2-4,6-9"}])), &[(1, 3), (5, 7)], None),
            ("overlaps at last; count", Some(json!([{"succeededIndexes": "2-4,6-9", "succeededCount": 4}])), &[(1, 3), (5, 7)], m0),
            ("rules completely overlaps succeededIndexes", Some(json!([{"succeededIndexes": "0-4,6-9"}])), &[(1, 3), (7, 8)], None),
            ("completely overlaps; count", Some(json!([{"succeededIndexes": "0-4,6-9", "succeededCount": 5}])), &[(1, 3), (7, 8)], m0),
            ("overlaps multiple at last", Some(json!([{"succeededIndexes": "0-6,8-9"}])), &[(1, 3), (5, 9)], None),
            (
                "overlaps multiple at last; count",
                Some(json!([{"succeededIndexes": "0-6,8-9", "succeededCount": 7}])),
                &[(1, 3), (5, 9)],
                m0,
            ),
            ("overlaps at first, equal at last", Some(json!([{"succeededIndexes": "0-5,7-9"}])), &[(1, 5), (7, 10)], None),
            (
                "overlaps at first, equal at last; count",
                Some(json!([{"succeededIndexes": "0-5,7-9", "succeededCount": 8}])),
                &[(1, 5), (7, 10)],
                m0,
            ),
            ("first rule overlaps at first", Some(json!([{"succeededIndexes": "0-3,6-9"}])), &[(1, 10)], None),
            ("first rule overlaps at first; count", Some(json!([{"succeededIndexes": "0-3,6-9", "succeededCount": 7}])), &[(1, 10)], m0),
        ];
        for (name, rules, succeeded, want) in cases {
            let p = rules.clone().map(policy);
            assert_eq!(match_success_policy(p.as_ref(), 10, &iv(succeeded)).as_deref(), *want, "{name}");
        }
    }
}
