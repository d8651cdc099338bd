//! How a proposed replica count becomes the one written to the target, as
//! upstream's HPA controller decides it (`normalizeDesiredReplicas`,
//! `normalizeDesiredReplicasWithBehaviors`, the stabilization of
//! recommendations, the scale-up and scale-down rate limits of
//! `spec.behavior`, and the scale events they count), without I/O. See
//! `UPSTREAM.md` §4. Each function returns the count with the reason and
//! message of the condition it decides.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::autoscaling::v2::HPAScalingRules;

/// One recommendation an HPA made (upstream `timestampedRecommendation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    pub replicas: i32,
    pub timestamp: Timestamp,
}

/// One rescale (upstream `timestampedScaleEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    pub change: i32,
    pub timestamp: Timestamp,
    pub outdated: bool,
}

/// A condition's reason and message.
pub type Why = (&'static str, &'static str);

pub const SCALE_UP_LIMIT: Why = ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate");
pub const SCALE_DOWN_LIMIT: Why = ("ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate");
pub const TOO_MANY: Why = ("TooManyReplicas", "the desired replica count is more than the maximum replica count");
pub const TOO_FEW: Why = ("TooFewReplicas", "the desired replica count is less than the minimum replica count");
pub const WITHIN_RANGE: Why = ("DesiredWithinRange", "the desired count is within the acceptable range");
pub const DOWN_STABILIZED: Why =
    ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation");
pub const UP_STABILIZED: Why =
    ("ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation");
pub const READY_FOR_NEW_SCALE: Why = ("ReadyForNewScale", "recommended size matches current size");

fn minus(t: Timestamp, secs: i64) -> Timestamp {
    t.checked_sub(SignedDuration::from_secs(secs)).unwrap_or(t)
}

/// Records `{desired, now}`, reusing the last slot `old` marks, else appending.
fn record(recs: &mut Vec<Recommendation>, old: Option<usize>, desired: i32, now: Timestamp) {
    let r = Recommendation { replicas: desired, timestamp: now };
    match old {
        Some(i) => recs[i] = r,
        None => recs.push(r),
    }
}

/// Upstream `stabilizeRecommendation` (no behavior): the highest
/// recommendation of the last `window` seconds (the downscale
/// stabilization flag), the new one included; then the stabilization
/// condition.
pub fn stabilize_legacy(recs: &mut Vec<Recommendation>, desired: i32, window_secs: i64, now: Timestamp) -> (i32, Why) {
    let cutoff = minus(now, window_secs);
    let mut max = desired;
    let mut old = None;
    for (i, r) in recs.iter().enumerate() {
        if r.timestamp < cutoff {
            old = Some(i);
        } else {
            max = max.max(r.replicas);
        }
    }
    record(recs, old, desired, now);
    (max, if max != desired { DOWN_STABILIZED } else { READY_FOR_NEW_SCALE })
}

/// Upstream `convertDesiredReplicasWithRules` (no behavior): within
/// [min, max], and at most twice the current count (or 4) at once.
pub fn legacy_rules(current: i32, desired: i32, min: i32, max: i32) -> (i32, Why) {
    let limit = (2.0 * f64::from(current)).max(4.0) as i32;
    let (max_allowed, why_max) = if max > limit { (limit, SCALE_UP_LIMIT) } else { (max, TOO_MANY) };
    if desired < min {
        (min, TOO_FEW)
    } else if desired > max_allowed {
        (max_allowed, why_max)
    } else {
        (desired, WITHIN_RANGE)
    }
}

/// Upstream `stabilizeRecommendationWithBehaviors`: the current count kept
/// within [the lowest recommendation of the scale-up window, the highest of
/// the scale-down window] (each window including `desired`); then the
/// stabilization condition.
pub fn stabilize_with_behaviors(
    recs: &mut Vec<Recommendation>,
    current: i32,
    desired: i32,
    up_window_secs: i64,
    down_window_secs: i64,
    now: Timestamp,
) -> (i32, Why) {
    let (up_cutoff, down_cutoff) = (minus(now, up_window_secs), minus(now, down_window_secs));
    let (mut up, mut down) = (desired, desired);
    let mut old = None;
    for (i, r) in recs.iter().enumerate() {
        if r.timestamp > up_cutoff {
            up = up.min(r.replicas);
        }
        if r.timestamp > down_cutoff {
            down = down.max(r.replicas);
        }
        if r.timestamp < up_cutoff && r.timestamp < down_cutoff {
            old = Some(i);
        }
    }
    let mut result = current;
    if result < up {
        result = up;
    }
    if result > down {
        result = down;
    }
    record(recs, old, desired, now);
    let why = if result == desired {
        READY_FOR_NEW_SCALE
    } else if desired >= current {
        UP_STABILIZED
    } else {
        DOWN_STABILIZED
    };
    (result, why)
}

fn changes_since(events: &[ScaleEvent], now: Timestamp, period: i32) -> i32 {
    let cutoff = minus(now, i64::from(period));
    events.iter().filter(|e| e.timestamp > cutoff).map(|e| e.change).sum()
}

fn select(rules: &HPAScalingRules) -> &str {
    rules.select_policy.as_deref().unwrap_or("Max")
}

/// Upstream `calculateScaleUpLimitWithScalingRules`: per policy, from the
/// count at the start of its period, `+value` pods or `+value%` (rounded
/// up); the largest (Max) or smallest (Min) of them; Disabled: `current`.
pub fn scale_up_limit(current: i32, up: &[ScaleEvent], down: &[ScaleEvent], rules: &HPAScalingRules, now: Timestamp) -> i32 {
    if select(rules) == "Disabled" {
        return current;
    }
    let min_policy = select(rules) == "Min";
    let mut result = if min_policy { i32::MAX } else { i32::MIN };
    for p in rules.policies.iter().flatten() {
        let start = current - changes_since(up, now, p.period_seconds) + changes_since(down, now, p.period_seconds);
        let proposed = match p.type_.as_str() {
            "Pods" => start + p.value,
            _ => (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32,
        };
        result = if min_policy { result.min(proposed) } else { result.max(proposed) };
    }
    result
}

/// Upstream `calculateScaleDownLimitWithBehaviors`: per policy, from the
/// count at the start of its period, `-value` pods or `-value%` (truncated);
/// Max keeps the smallest limit (most change), Min the largest; Disabled:
/// `current`.
pub fn scale_down_limit(current: i32, up: &[ScaleEvent], down: &[ScaleEvent], rules: &HPAScalingRules, now: Timestamp) -> i32 {
    if select(rules) == "Disabled" {
        return current;
    }
    let min_policy = select(rules) == "Min";
    let mut result = if min_policy { i32::MIN } else { i32::MAX };
    for p in rules.policies.iter().flatten() {
        let start = current - changes_since(up, now, p.period_seconds) + changes_since(down, now, p.period_seconds);
        let proposed = match p.type_.as_str() {
            "Pods" => start - p.value,
            _ => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
        };
        result = if min_policy { result.max(proposed) } else { result.min(proposed) };
    }
    result
}

/// The bounds and rates a behavior allows.
pub struct Rates<'a> {
    pub min: i32,
    pub max: i32,
    pub scale_up: &'a HPAScalingRules,
    pub scale_down: &'a HPAScalingRules,
    pub up_events: &'a [ScaleEvent],
    pub down_events: &'a [ScaleEvent],
}

/// Upstream `convertDesiredReplicasWithBehaviorRate`: a scale-up within the
/// scale-up rate and max, a scale-down within the scale-down rate and min;
/// the count as is when it does not change.
pub fn behavior_rate(current: i32, desired: i32, r: &Rates<'_>, now: Timestamp) -> (i32, Why) {
    if desired > current {
        let limit = scale_up_limit(current, r.up_events, r.down_events, r.scale_up, now).max(current);
        let (max_allowed, why) = if r.max > limit { (limit, SCALE_UP_LIMIT) } else { (r.max, TOO_MANY) };
        if desired > max_allowed {
            return (max_allowed, why);
        }
    } else if desired < current {
        let limit = scale_down_limit(current, r.up_events, r.down_events, r.scale_down, now).min(current);
        let (min_allowed, why) = if r.min < limit { (limit, SCALE_DOWN_LIMIT) } else { (r.min, TOO_FEW) };
        if desired < min_allowed {
            return (min_allowed, why);
        }
    }
    (desired, WITHIN_RANGE)
}

/// Upstream `storeScaleEvent`: after a rescale from `prev` to `new`, the
/// event in the list of its direction; events older than the direction's
/// longest policy period are marked outdated, and the last outdated slot is
/// reused.
pub fn store_scale_event(events: &mut Vec<ScaleEvent>, rules: &HPAScalingRules, prev: i32, new: i32, now: Timestamp) {
    let longest = rules.policies.iter().flatten().map(|p| p.period_seconds).max().unwrap_or(0);
    let cutoff = minus(now, i64::from(longest));
    let mut slot = None;
    for (i, e) in events.iter_mut().enumerate() {
        if e.timestamp < cutoff {
            e.outdated = true;
        }
        if e.outdated {
            slot = Some(i);
        }
    }
    let event = ScaleEvent { change: (new - prev).abs(), timestamp: now, outdated: false };
    match slot {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}

/// The behavior defaults of the API server (`SetDefaults_HorizontalPodAutoscaler`)
/// for a direction the HPA leaves out, and the scale-down window the
/// controller fills from `--horizontal-pod-autoscaler-downscale-stabilization`.
pub fn default_rules(up: bool) -> HPAScalingRules {
    use k8s_openapi::api::autoscaling::v2::HPAScalingPolicy;
    let policy = |type_: &str, value: i32| HPAScalingPolicy { type_: type_.into(), value, period_seconds: 15 };
    if up {
        HPAScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy: Some("Max".into()),
            policies: Some(vec![policy("Pods", 4), policy("Percent", 100)]),
            ..Default::default()
        }
    } else {
        HPAScalingRules { select_policy: Some("Max".into()), policies: Some(vec![policy("Percent", 100)]), ..Default::default() }
    }
}

/// An HPA's memory between syncs (upstream's per-key recommendations and
/// scale events).
#[derive(Debug, Clone, Default)]
pub struct History {
    pub recommendations: Vec<Recommendation>,
    pub up_events: Vec<ScaleEvent>,
    pub down_events: Vec<ScaleEvent>,
}

/// What normalization decided: the count, and the AbleToScale and
/// ScalingLimited reasons (ScalingLimited True when the count is not the
/// stabilized one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    pub replicas: i32,
    pub able_to_scale: Why,
    pub scaling_limited: (bool, Why),
}

/// Upstream `normalizeDesiredReplicas` (no behavior: the downscale
/// stabilization flag, the legacy rules) or
/// `normalizeDesiredReplicasWithBehaviors` (the behavior's windows and
/// rates, a missing scale-down window taken from the flag).
pub fn normalize(
    behavior: Option<&k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior>,
    history: &mut History,
    current: i32,
    desired: i32,
    (min, max): (i32, i32),
    downscale_stabilization_secs: i64,
    now: Timestamp,
) -> Normalized {
    let Some(b) = behavior else {
        let (stabilized, able) = stabilize_legacy(&mut history.recommendations, desired, downscale_stabilization_secs, now);
        let (replicas, why) = legacy_rules(current, stabilized, min, max);
        return Normalized { replicas, able_to_scale: able, scaling_limited: (replicas != stabilized, why) };
    };
    let up = b.scale_up.clone().unwrap_or_else(|| default_rules(true));
    let down = b.scale_down.clone().unwrap_or_else(|| default_rules(false));
    let up_window = i64::from(up.stabilization_window_seconds.unwrap_or(0));
    let down_window = down.stabilization_window_seconds.map_or(downscale_stabilization_secs, i64::from);
    let (stabilized, able) = stabilize_with_behaviors(&mut history.recommendations, current, desired, up_window, down_window, now);
    let rates = Rates { min, max, scale_up: &up, scale_down: &down, up_events: &history.up_events, down_events: &history.down_events };
    let (replicas, why) = behavior_rate(current, stabilized, &rates, now);
    Normalized { replicas, able_to_scale: able, scaling_limited: (replicas != stabilized, why) }
}

/// Upstream `storeScaleEvent` for an HPA with a behavior, after a rescale.
pub fn record_rescale(
    behavior: Option<&k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior>,
    history: &mut History,
    prev: i32,
    new: i32,
    now: Timestamp,
) {
    let Some(b) = behavior else { return };
    if new > prev {
        let rules = b.scale_up.clone().unwrap_or_else(|| default_rules(true));
        store_scale_event(&mut history.up_events, &rules, prev, new, now);
    } else {
        let rules = b.scale_down.clone().unwrap_or_else(|| default_rules(false));
        store_scale_event(&mut history.down_events, &rules, prev, new, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::autoscaling::v2::HPAScalingPolicy;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn rules(select: &str, policies: &[(&str, i32, i32)]) -> HPAScalingRules {
        HPAScalingRules {
            select_policy: Some(select.into()),
            policies: Some(
                policies.iter().map(|(ty, v, p)| HPAScalingPolicy { type_: ty.to_string(), value: *v, period_seconds: *p }).collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn legacy_rules_double_at_most_and_stay_in_bounds() {
        assert_eq!(legacy_rules(3, 20, 1, 50), (6, SCALE_UP_LIMIT));
        assert_eq!(legacy_rules(3, 20, 1, 5), (5, TOO_MANY));
        assert_eq!(legacy_rules(3, 0, 1, 5), (1, TOO_FEW));
        assert_eq!(legacy_rules(3, 4, 1, 5), (4, WITHIN_RANGE));
        assert_eq!(legacy_rules(1, 4, 1, 50), (4, WITHIN_RANGE), "at least 4 at once");
    }

    #[test]
    fn legacy_stabilization_keeps_the_highest_recent_recommendation() {
        let mut recs = vec![Recommendation { replicas: 10, timestamp: t(0) }];
        assert_eq!(stabilize_legacy(&mut recs, 4, 300, t(15)), (10, DOWN_STABILIZED));
        assert_eq!(stabilize_legacy(&mut recs, 4, 300, t(300)).0, 10, "exactly at the cutoff: still in the window");
        assert_eq!(stabilize_legacy(&mut recs, 4, 300, t(315)), (4, READY_FOR_NEW_SCALE));
        assert_eq!(recs.len(), 3, "the old slot is reused");
        assert_eq!(stabilize_legacy(&mut recs, 12, 300, t(330)), (12, READY_FOR_NEW_SCALE), "scale-up at once");
    }

    #[test]
    fn default_scale_up_policies_limit_each_period() {
        let up = default_rules(true);
        let down = default_rules(false);
        let mut events = Vec::new();
        let rates = |events: &[ScaleEvent]| -> (i32, Why) {
            let r = Rates { min: 1, max: 50, scale_up: &up, scale_down: &down, up_events: events, down_events: &[] };
            behavior_rate(1, 10, &r, t(0))
        };
        assert_eq!(rates(&events), (5, SCALE_UP_LIMIT));
        store_scale_event(&mut events, &up, 1, 5, t(0));
        // 10 s later the event still counts: the period started at 1.
        let r = Rates { min: 1, max: 50, scale_up: &up, scale_down: &down, up_events: &events, down_events: &[] };
        assert_eq!(behavior_rate(5, 10, &r, t(10)), (5, SCALE_UP_LIMIT));
        // 15 s later it does not: from 5, +100% allows 10.
        assert_eq!(behavior_rate(5, 10, &r, t(15)), (10, WITHIN_RANGE));
    }

    #[test]
    fn conservative_scale_down_with_select_min() {
        let down = rules("Min", &[("Pods", 1, 60), ("Percent", 10, 60)]);
        let up = default_rules(true);
        let r = Rates { min: 1, max: 50, scale_up: &up, scale_down: &down, up_events: &[], down_events: &[] };
        assert_eq!(behavior_rate(20, 5, &r, t(0)), (19, SCALE_DOWN_LIMIT));
        let mut events = Vec::new();
        store_scale_event(&mut events, &down, 20, 19, t(0));
        let r = Rates { down_events: &events, ..r };
        assert_eq!(behavior_rate(19, 5, &r, t(30)), (19, SCALE_DOWN_LIMIT), "the period started at 20: one pod already went");
        // Disabled: nothing moves that way.
        let off = rules("Disabled", &[]);
        let r = Rates { scale_down: &off, down_events: &[], ..r };
        assert_eq!(behavior_rate(19, 5, &r, t(30)), (19, SCALE_DOWN_LIMIT));
        // The default scale-down (100% per 15 s) stops only at min.
        let down = default_rules(false);
        let r = Rates { scale_down: &down, ..r };
        assert_eq!(behavior_rate(10, 2, &r, t(0)), (2, WITHIN_RANGE));
        assert_eq!(behavior_rate(10, 0, &r, t(0)), (1, TOO_FEW));
    }

    #[test]
    fn stabilization_windows_per_direction() {
        // Scale-up window 60 s: recommendations 8 and 12 in it, 10 now, current 5 → 8.
        let mut recs = vec![Recommendation { replicas: 8, timestamp: t(-45) }, Recommendation { replicas: 12, timestamp: t(-30) }];
        assert_eq!(stabilize_with_behaviors(&mut recs, 5, 10, 60, 300, t(0)), (8, UP_STABILIZED));
        // Scale-down: the highest of the window holds.
        let mut recs = vec![Recommendation { replicas: 10, timestamp: t(-100) }];
        assert_eq!(stabilize_with_behaviors(&mut recs, 10, 2, 0, 300, t(0)), (10, DOWN_STABILIZED));
        let mut recs = vec![Recommendation { replicas: 10, timestamp: t(-301) }];
        assert_eq!(stabilize_with_behaviors(&mut recs, 10, 2, 0, 300, t(0)), (2, READY_FOR_NEW_SCALE));
        assert_eq!(recs.len(), 1, "the old slot is reused");
    }

    #[test]
    fn outdated_events_are_reused() {
        let up = default_rules(true);
        let mut events = Vec::new();
        store_scale_event(&mut events, &up, 1, 5, t(0));
        store_scale_event(&mut events, &up, 5, 10, t(10));
        store_scale_event(&mut events, &up, 10, 20, t(40));
        assert_eq!(events.len(), 2, "the 15 s old events are outdated, the last one's slot reused");
        assert_eq!(events[1], ScaleEvent { change: 10, timestamp: t(40), outdated: false });
        assert!(events[0].outdated);
    }

    #[test]
    fn normalize_without_and_with_behavior() {
        let mut h = History { recommendations: vec![Recommendation { replicas: 10, timestamp: t(0) }], ..Default::default() };
        let n = normalize(None, &mut h, 10, 4, (1, 50), 300, t(15));
        assert_eq!(n, Normalized { replicas: 10, able_to_scale: DOWN_STABILIZED, scaling_limited: (false, WITHIN_RANGE) });
        let mut h = History::default();
        let n = normalize(None, &mut h, 3, 20, (1, 50), 300, t(0));
        assert_eq!(n, Normalized { replicas: 6, able_to_scale: READY_FOR_NEW_SCALE, scaling_limited: (true, SCALE_UP_LIMIT) });
        // With a behavior (defaults): +4 pods or +100% per 15 s.
        let b =
            k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior { scale_up: Some(default_rules(true)), scale_down: None };
        let mut h = History::default();
        let n = normalize(Some(&b), &mut h, 1, 10, (1, 50), 300, t(0));
        assert_eq!(n.replicas, 5);
        record_rescale(Some(&b), &mut h, 1, 5, t(0));
        assert_eq!(h.up_events.len(), 1);
        assert_eq!(normalize(Some(&b), &mut h, 5, 10, (1, 50), 300, t(15)).replicas, 10);
    }
}
