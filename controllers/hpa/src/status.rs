//! An HPA's conditions, as upstream's `setCondition`: found by type (new
//! ones appended), the transition time moved only when the status changes,
//! reason and message always written.

use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Sets one condition of the status.
pub fn set_condition(status: &mut HorizontalPodAutoscalerStatus, type_: &str, value: &str, reason: &str, message: &str, now: Timestamp) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != value {
                c.last_transition_time = Some(Time(now));
            }
            c.status = value.into();
            c.reason = Some(reason.into());
            c.message = Some(message.into());
        }
        None => conditions.push(HorizontalPodAutoscalerCondition {
            type_: type_.into(),
            status: value.into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_transition_time: Some(Time(now)),
        }),
    }
}

/// Removes a condition (upstream `removeCondition`).
pub fn remove_condition(status: &mut HorizontalPodAutoscalerStatus, type_: &str) {
    if let Some(c) = status.conditions.as_mut() {
        c.retain(|c| c.type_ != type_);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_keep_their_order_and_transition_times() {
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let mut st = HorizontalPodAutoscalerStatus::default();
        set_condition(&mut st, "AbleToScale", "True", "SucceededGetScale", "ok", t(0));
        set_condition(&mut st, "ScalingActive", "True", "ValidMetricFound", "fine", t(0));
        set_condition(&mut st, "AbleToScale", "True", "ReadyForNewScale", "same", t(5));
        let c = &st.conditions.as_ref().unwrap()[0];
        assert_eq!((c.reason.as_deref(), c.last_transition_time.clone()), (Some("ReadyForNewScale"), Some(Time(t(0)))));
        set_condition(&mut st, "AbleToScale", "False", "FailedGetScale", "no", t(9));
        assert_eq!(st.conditions.as_ref().unwrap()[0].last_transition_time, Some(Time(t(9))));
        remove_condition(&mut st, "AbleToScale");
        assert_eq!(st.conditions.as_ref().unwrap().len(), 1);
    }
}
