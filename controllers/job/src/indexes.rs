//! Completion indexes of Indexed Jobs, as upstream
//! `pkg/controller/job/indexed_job_utils.go` (Kubernetes v1.36) handles them:
//! the interval sets behind `status.completedIndexes` / `status.failedIndexes`
//! and `successPolicy.rules[].succeededIndexes` (`"1,3-5,7"`), the index of a
//! pod (its `batch.kubernetes.io/job-completion-index` annotation), the
//! per-index failure counters, the first pending indexes to create and the
//! duplicated indexes to remove.
//!
//! Parsing never fails: as upstream, a corrupted interval is skipped, and
//! intervals are cut at `completions`. Unlike upstream, an interval whose end
//! is below its start (`"5-3"`) is skipped too (upstream would keep it and
//! count a negative number of indexes).

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::api::core::v1::Pod;
use rudder_common::pods::sort_active_pods;

/// The annotation (and, since `PodIndexLabel` is GA, the label) holding a
/// pod's completion index.
pub const COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// The annotation counting the failures of an index so far (`backoffLimitPerIndex`).
pub const INDEX_FAILURE_COUNT_ANNOTATION: &str = "batch.kubernetes.io/job-index-failure-count";
/// The annotation counting the failures of an index ignored by the pod failure policy.
pub const INDEX_IGNORED_FAILURE_COUNT_ANNOTATION: &str = "batch.kubernetes.io/job-index-ignored-failure-count";
/// The environment variable exposing the completion index to the containers.
pub const COMPLETION_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// A closed range of indexes `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub first: i64,
    pub last: i64,
}

impl Interval {
    pub const fn new(first: i64, last: i64) -> Interval {
        Interval { first, last }
    }
}

/// Sorted, disjoint, non-adjacent intervals (upstream `orderedIntervals`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderedIntervals(pub Vec<Interval>);

impl OrderedIntervals {
    /// The intervals of `s` below `completions` (upstream
    /// `parseIndexesFromString`): corrupted intervals are skipped, parsing
    /// stops at the first interval starting at or past `completions`, and an
    /// interval ending past it is cut at `completions - 1`. Adjacent
    /// intervals are joined.
    pub fn parse(s: &str, completions: i32) -> OrderedIntervals {
        let completions = i64::from(completions);
        let mut out: Vec<Interval> = Vec::new();
        if s.is_empty() {
            return OrderedIntervals(out);
        }
        for part in s.split(',') {
            let mut limits = part.split('-');
            let Some(first) = limits.next().and_then(go_atoi) else { continue };
            if first >= completions {
                break;
            }
            let last = match limits.next() {
                Some(l) => match go_atoi(l) {
                    Some(l) => l.min(completions - 1),
                    None => continue,
                },
                None => first,
            };
            if last < first {
                continue;
            }
            match out.last_mut() {
                Some(prev) if prev.last == first - 1 => prev.last = last,
                _ => out.push(Interval::new(first, last)),
            }
        }
        OrderedIntervals(out)
    }

    /// Like [`OrderedIntervals::parse`] for an optional field (`None` parses as empty).
    pub fn parse_opt(s: Option<&str>, completions: i32) -> OrderedIntervals {
        s.map(|s| OrderedIntervals::parse(s, completions)).unwrap_or_default()
    }

    /// How many indexes the intervals hold.
    pub fn total(&self) -> i64 {
        self.0.iter().map(|i| i.last - i.first + 1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ix` is in one of the intervals (binary search, as upstream).
    pub fn has(&self, ix: i64) -> bool {
        let pos = self.0.partition_point(|i| i.last < ix);
        self.0.get(pos).is_some_and(|i| i.first <= ix)
    }

    /// A new set with the indexes `new` (in increasing order) added
    /// (upstream `withOrderedIndexes`).
    pub fn with_ordered_indexes(&self, new: impl IntoIterator<Item = i64>) -> OrderedIntervals {
        let new = OrderedIntervals(new.into_iter().map(|i| Interval::new(i, i)).collect());
        self.merge(&new)
    }

    /// The union of two sets (upstream `merge`).
    pub fn merge(&self, other: &OrderedIntervals) -> OrderedIntervals {
        let mut out: Vec<Interval> = Vec::with_capacity(self.0.len() + other.0.len());
        let mut push = |iv: Interval| match out.last_mut() {
            Some(last) if iv.first <= last.last.saturating_add(1) => last.last = last.last.max(iv.last),
            _ => out.push(iv),
        };
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            if self.0[i].first < other.0[j].first {
                push(self.0[i]);
                i += 1;
            } else {
                push(other.0[j]);
                j += 1;
            }
        }
        self.0[i..].iter().chain(&other.0[j..]).for_each(|iv| push(*iv));
        OrderedIntervals(out)
    }
}

impl fmt::Display for OrderedIntervals {
    /// `1,3-5,7`; an interval of two indexes is written `3,4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, iv) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", iv.first)?;
            if iv.last > iv.first {
                let sep = if iv.last == iv.first + 1 { ',' } else { '-' };
                write!(f, "{sep}{}", iv.last)?;
            }
        }
        Ok(())
    }
}

/// Go's `strconv.Atoi` on a 64-bit platform: optional sign, decimal digits.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The pod's completion index from its annotation; `None` when missing,
/// not a number, or negative (upstream `getCompletionIndex` returning
/// `unknownCompletionIndex`).
pub fn completion_index(pod: &Pod) -> Option<i64> {
    annotation(pod, COMPLETION_INDEX_ANNOTATION).and_then(go_atoi).filter(|i| *i >= 0)
}

/// Upstream `parseInt32`: an int32 in `0..=i32::MAX`, else 0.
fn parse_count(v: Option<&str>) -> i32 {
    v.and_then(go_atoi).and_then(|v| i32::try_from(v).ok()).filter(|v| *v >= 0).unwrap_or(0)
}

/// The `job-index-failure-count` annotation (0 when missing or invalid).
pub fn index_failure_count(pod: &Pod) -> i32 {
    parse_count(annotation(pod, INDEX_FAILURE_COUNT_ANNOTATION))
}

/// The `job-index-ignored-failure-count` annotation (0 when missing or invalid).
pub fn index_ignored_failure_count(pod: &Pod) -> i32 {
    parse_count(annotation(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION))
}

/// Counted plus ignored failures of the pod's index (upstream `getIndexAbsoluteFailureCount`).
pub fn index_absolute_failure_count(pod: &Pod) -> i32 {
    index_failure_count(pod).saturating_add(index_ignored_failure_count(pod))
}

/// The set of indexes of the pods (pods without a valid index are left out;
/// upstream `getIndexes`).
pub fn indexes_of<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> BTreeSet<i64> {
    pods.into_iter().filter_map(completion_index).collect()
}

/// The first `count` indexes below `completions` not in `non_pending`
/// (upstream `firstPendingIndexes`, given the union of the succeeded, active,
/// failed and — with `podReplacementPolicy: Failed` — terminating indexes).
pub fn first_pending_indexes(non_pending: &OrderedIntervals, count: usize, completions: i32) -> Vec<i64> {
    let completions = i64::from(completions);
    let mut out = Vec::new();
    if count == 0 {
        return out;
    }
    let mut candidate = 0i64;
    for iv in &non_pending.0 {
        while candidate < completions && out.len() < count && candidate < iv.first {
            out.push(candidate);
            candidate += 1;
        }
        if candidate <= iv.last {
            candidate = iv.last.saturating_add(1);
        }
    }
    while candidate < completions && out.len() < count {
        out.push(candidate);
        candidate += 1;
    }
    out
}

/// Sorts pods by completion index, pods without a valid index first
/// (upstream `byCompletionIndex`; stable here).
pub fn sort_by_completion_index<P: std::borrow::Borrow<Pod>>(pods: &mut [P]) {
    pods.sort_by_key(|p| completion_index(p.borrow()).unwrap_or(-1));
}

/// Splits active pods of an Indexed Job into those to remove and those to
/// keep (upstream `appendDuplicatedIndexPodsForRemoval`): pods without a
/// valid index and pods with an index at or past `completions` are removed;
/// of several pods with the same index, all but the last in the `ActivePods`
/// order (the most advanced one) are removed.
pub fn duplicated_index_pods_for_removal<'a>(pods: &[&'a Pod], completions: i32) -> (Vec<&'a Pod>, Vec<&'a Pod>) {
    let completions = i64::from(completions);
    let mut sorted: Vec<&Pod> = pods.to_vec();
    sort_by_completion_index(&mut sorted);
    let (mut rm, mut left) = (Vec::new(), Vec::new());
    let mut flush = |group: &[&'a Pod], ix: Option<i64>, rm: &mut Vec<&'a Pod>| {
        if group.is_empty() {
            return;
        }
        if ix.is_none() {
            rm.extend_from_slice(group);
            return;
        }
        if group.len() == 1 {
            left.push(group[0]);
            return;
        }
        let mut ordered = sort_active_pods(group.to_vec());
        if let Some(keep) = ordered.pop() {
            rm.extend(ordered);
            left.push(keep);
        }
    };
    let mut last_index: Option<i64> = None;
    let mut group_start = 0;
    let mut looped = 0;
    for (i, p) in sorted.iter().enumerate() {
        let ix = completion_index(p);
        if ix.is_some_and(|ix| ix >= completions) {
            rm.extend_from_slice(&sorted[i..]);
            break;
        }
        if ix != last_index {
            flush(&sorted[group_start..i], last_index, &mut rm);
            group_start = i;
            last_index = ix;
        }
        looped += 1;
    }
    flush(&sorted[group_start..looped], last_index, &mut rm);
    (rm, left)
}

/// The pod name prefix of an index: `<job>-<index>-`, the job name cut so
/// that the prefix fits upstream's `MaxGeneratedNameLength` (58).
pub fn generate_name_with_index(job_name: &str, index: i64) -> String {
    const MAX_GENERATED_NAME_LENGTH: usize = 63 - 5;
    let suffix = format!("-{index}-");
    let mut prefix = format!("{job_name}{suffix}");
    if prefix.len() > MAX_GENERATED_NAME_LENGTH {
        let mut keep = MAX_GENERATED_NAME_LENGTH.saturating_sub(suffix.len()).min(job_name.len());
        while !job_name.is_char_boundary(keep) {
            keep -= 1;
        }
        prefix = format!("{}{suffix}", &job_name[..keep]);
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn iv(v: &[(i64, i64)]) -> OrderedIntervals {
        OrderedIntervals(v.iter().map(|(a, b)| Interval::new(*a, *b)).collect())
    }

    /// Upstream's `hollowPodsWithIndexPhase`: "-" is no index.
    pub(crate) fn hollow(descs: &[(&str, &str)]) -> Vec<Pod> {
        descs
            .iter()
            .map(|(ix, phase)| {
                let mut p: Pod = serde_json::from_value(json!({"status": {"phase": phase}})).unwrap();
                if *ix != "-" {
                    p.metadata.annotations = Some([(COMPLETION_INDEX_ANNOTATION.to_string(), ix.to_string())].into());
                }
                p
            })
            .collect()
    }

    fn index_phases(pods: &[&Pod]) -> Vec<(String, String)> {
        pods.iter()
            .map(|p| {
                let ix = annotation(p, COMPLETION_INDEX_ANNOTATION).unwrap_or("-").to_string();
                (ix, p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn parse_and_format_round_trip() {
        type Case<'a> = (&'a str, i32, &'a [(i64, i64)], &'a str);
        let cases: &[Case] = &[
            ("", 10, &[], ""),
            ("1,3-5,7", 10, &[(1, 1), (3, 5), (7, 7)], "1,3-5,7"),
            ("0,1,2", 10, &[(0, 2)], "0-2"),
            ("3,4", 10, &[(3, 4)], "3,4"),
            ("0-5,8-10", 8, &[(0, 5)], "0-5"),
            ("0-5,8-10", 10, &[(0, 5), (8, 9)], "0-5,8,9"),
            ("0,1-foo,bar", 4, &[(0, 0)], "0"),
            ("invalid-form", 10, &[], ""),
            ("9", 2, &[], ""),
            ("5-3,7", 10, &[(7, 7)], "7"),
            (",,2", 10, &[(2, 2)], "2"),
            ("99999999999999999999", 10, &[], ""),
        ];
        for (s, completions, want, formatted) in cases {
            let got = OrderedIntervals::parse(s, *completions);
            assert_eq!(got, iv(want), "parse({s:?}, {completions})");
            assert_eq!(got.to_string(), *formatted, "format of {s:?}");
        }
    }

    #[test]
    fn intervals_have_index() {
        // Upstream TestIntervalsHaveIndex.
        type Case<'a> = (&'a [(i64, i64)], i64, bool);
        let cases: &[Case] = &[
            (&[], 4, false),
            (&[(2, 4), (5, 7)], 1, false),
            (&[(2, 4), (6, 8)], 9, false),
            (&[(2, 4), (6, 8)], 5, false),
            (&[(2, 4), (6, 8)], 2, true),
            (&[(2, 4), (6, 8)], 8, true),
        ];
        for (ivs, ix, want) in cases {
            assert_eq!(iv(ivs).has(*ix), *want, "{ivs:?} has {ix}");
        }
    }

    #[test]
    fn merge_and_total() {
        let a = iv(&[(0, 0), (4, 5), (10, 12)]);
        let b = a.with_ordered_indexes([2, 7, 8]);
        assert_eq!(b, iv(&[(0, 0), (2, 2), (4, 5), (7, 8), (10, 12)]));
        assert_eq!(b.total(), 9);
        assert_eq!(iv(&[(3, 4), (6, 6)]).with_ordered_indexes([2, 7, 8]), iv(&[(2, 4), (6, 8)]));
        assert_eq!(iv(&[(2, 2), (7, 8)]).with_ordered_indexes([3, 4, 6]), iv(&[(2, 4), (6, 8)]));
        assert_eq!(iv(&[(2, 7)]).with_ordered_indexes([0, 3, 5, 9]), iv(&[(0, 0), (2, 7), (9, 9)]));
        assert_eq!(iv(&[(1, 3)]).merge(&iv(&[(0, 10)])), iv(&[(0, 10)]));
    }

    #[test]
    fn first_pending_indexes_skip_non_pending() {
        // Upstream TestFirstPendingIndexes: (cnt, completions, active, succeeded, failed, want).
        type Case<'a> = (usize, i32, &'a [(&'a str, &'a str)], &'a [(i64, i64)], &'a [(i64, i64)], &'a [i64]);
        let cases: &[Case] = &[
            (5, 3, &[], &[], &[], &[0, 1, 2]),
            (2, 5, &[], &[], &[], &[0, 1]),
            (3, 10, &[("0", "Running"), ("1", "Pending")], &[], &[], &[2, 3, 4]),
            (6, 6, &[("6", "Pending")], &[(4, 5)], &[], &[0, 1, 2, 3]),
            (
                5,
                20,
                &[("3", "Pending"), ("5", "Running"), ("8", "Pending"), ("-", "Running"), ("-3", "Running")],
                &[(2, 4), (9, 9)],
                &[],
                &[0, 1, 6, 7, 10],
            ),
            (5, 20, &[("3", "Pending"), ("9", "Pending")], &[(1, 1), (5, 5), (9, 9)], &[(2, 2), (6, 7)], &[0, 4, 8, 10, 11]),
        ];
        for (cnt, completions, active, succeeded, failed, want) in cases {
            let pods = hollow(active);
            let non_pending = iv(succeeded).with_ordered_indexes(indexes_of(&pods)).merge(&iv(failed));
            assert_eq!(first_pending_indexes(&non_pending, *cnt, *completions), *want);
        }
    }

    #[test]
    fn duplicated_indexes_are_removed() {
        // Upstream TestAppendDuplicatedIndexPodsForRemoval.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            (
                &[("-", "Pending"), ("2", "Pending"), ("5", "Running"), ("6", "Running")],
                &[("-", "Pending"), ("6", "Running")],
                &[("2", "Pending"), ("5", "Running")],
            ),
            (
                &[
                    ("5", "Pending"),
                    ("0", "Running"),
                    ("3", "Pending"),
                    ("0", "Running"),
                    ("3", "Running"),
                    ("0", "Pending"),
                    ("6", "Running"),
                    ("6", "Pending"),
                ],
                &[("0", "Pending"), ("0", "Running"), ("3", "Pending"), ("6", "Running"), ("6", "Pending")],
                &[("0", "Running"), ("3", "Running"), ("5", "Pending")],
            ),
            (
                &[
                    ("-", "Pending"),
                    ("invalid", "Running"),
                    ("-2", "Running"),
                    ("0", "Pending"),
                    ("1", "Pending"),
                    ("1", "Pending"),
                    ("1", "Running"),
                ],
                &[("-", "Pending"), ("invalid", "Running"), ("-2", "Running"), ("1", "Pending"), ("1", "Pending")],
                &[("0", "Pending"), ("1", "Running")],
            ),
        ];
        let owned = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        for (pods, want_rm, want_left) in cases {
            let pods = hollow(pods);
            let refs: Vec<&Pod> = pods.iter().collect();
            let (rm, left) = duplicated_index_pods_for_removal(&refs, 6);
            assert_eq!(index_phases(&rm), owned(want_rm));
            assert_eq!(index_phases(&left), owned(want_left));
        }
    }

    #[test]
    fn generate_name_with_index_fits() {
        // Upstream TestPodGenerateNameWithIndex.
        assert_eq!(generate_name_with_index("indexed-job", 1), "indexed-job-1-");
        assert_eq!(
            generate_name_with_index("hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooo", 1),
            "hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhh-1-"
        );
        assert_eq!(
            generate_name_with_index("hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhoo", 1),
            "hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhh-1-"
        );
    }

    #[test]
    fn index_failure_counts_fall_back_to_zero() {
        // Upstream TestGetIndexFailureCount.
        let pod = |v: Option<&str>| -> Pod {
            let mut p = Pod::default();
            if let Some(v) = v {
                p.metadata.annotations = Some([(INDEX_FAILURE_COUNT_ANNOTATION.to_string(), v.to_string())].into());
            }
            p
        };
        assert_eq!(index_failure_count(&pod(None)), 0);
        assert_eq!(index_failure_count(&pod(Some("2"))), 2);
        assert_eq!(index_failure_count(&pod(Some("2147483647"))), i32::MAX);
        assert_eq!(index_failure_count(&pod(Some("2147483648"))), 0);
        assert_eq!(index_failure_count(&pod(Some("-1"))), 0);
        assert_eq!(index_failure_count(&pod(Some("xyz"))), 0);
    }

    #[test]
    fn completion_index_of_pods() {
        let pods = hollow(&[("3", "Running"), ("-", "Running"), ("-2", "Running"), ("x", "Running"), ("+4", "Running")]);
        let got: Vec<Option<i64>> = pods.iter().map(completion_index).collect();
        assert_eq!(got, [Some(3), None, None, None, Some(4)]);
    }
}
