//! `DynamicResources` (upstream `pkg/scheduler/framework/plugins/dynamicresources`),
//! as far as Rudder has it: dynamic resource allocation is on by default in
//! v1.36, so every unschedulable pod's message carries this plugin's
//! PostFilter part. Allocating devices to ResourceClaims is not implemented.

use crate::framework::{PodInfo, Status};

/// The upstream plugin name.
pub const NAME: &str = "DynamicResources";

/// PostFilter's answer for a pod without claims: there is nothing it could
/// deallocate to make room.
pub const NO_CLAIMS_TO_DEALLOCATE: &str = "no new claims to deallocate";

/// Whether the pod references ResourceClaims (`spec.resourceClaims`).
pub fn has_claims(pod: &PodInfo) -> bool {
    pod.pod.spec.as_ref().and_then(|s| s.resource_claims.as_ref()).is_some_and(|c| !c.is_empty())
}

/// PostFilter, for a pod that fits nowhere.
pub fn post_filter(_pod: &PodInfo) -> Status {
    Status::unschedulable(NO_CLAIMS_TO_DEALLOCATE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_pod_without_claims_has_nothing_to_deallocate() {
        let pod = PodInfo::new(Arc::new(serde_json::from_value(serde_json::json!({"spec": {"containers": []}})).unwrap()));
        assert!(!has_claims(&pod));
        let st = post_filter(&pod);
        assert_eq!((st.code, st.reasons), (crate::framework::Code::Unschedulable, vec![NO_CLAIMS_TO_DEALLOCATE.to_string()]));
    }
}
