//! `spec.podFailurePolicy` rule matching, as upstream
//! `pkg/controller/job/pod_failure_policy.go` (Kubernetes v1.36).
//!
//! Rules are tried in order against a failed pod; the first rule that
//! matches decides:
//!
//! * `onExitCodes`: the first terminated container (regular containers
//!   first, then init containers; `containerName` restricts the search)
//!   with a non-zero exit code that is `In` / `NotIn` the values; an unknown
//!   operator never matches;
//! * `onPodConditions`: the first pod condition (in the pod's order) whose
//!   type and status equal one of the patterns (a pattern without status
//!   means `True`, the API default).
//!
//! A matching rule with an unknown action is skipped and the next rule is
//! tried, as upstream's `switch` falls out of the rule without returning.

use std::fmt;

use k8s_openapi::api::batch::v1::{PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};

/// A pod failure policy action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The Job fails at once (reason `PodFailurePolicy`).
    FailJob,
    /// The pod's index fails (only with `backoffLimitPerIndex`).
    FailIndex,
    /// The failure is not counted towards the backoff limits.
    Ignore,
    /// The failure counts, as without a policy.
    Count,
}

impl Action {
    /// The API value.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::FailJob => "FailJob",
            Action::FailIndex => "FailIndex",
            Action::Ignore => "Ignore",
            Action::Count => "Count",
        }
    }

    /// The action named `s`, if known.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "FailJob" => Some(Action::FailJob),
            "FailIndex" => Some(Action::FailIndex),
            "Ignore" => Some(Action::Ignore),
            "Count" => Some(Action::Count),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the policy says about one failed pod (upstream
/// `matchPodFailurePolicy`'s three results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyMatch {
    /// The Job failure message, when a `FailJob` rule matched.
    pub job_failure_message: Option<String>,
    /// Whether the failure counts towards `backoffLimit` (and
    /// `backoffLimitPerIndex`): false only for `Ignore`.
    pub count_failed: bool,
    /// The action of the matching rule, if any.
    pub action: Option<Action>,
}

impl PolicyMatch {
    const NO_MATCH: PolicyMatch = PolicyMatch { job_failure_message: None, count_failed: true, action: None };
}

/// Matches a failed pod against the policy (no policy: counted, no action).
pub fn match_pod_failure_policy(policy: Option<&PodFailurePolicy>, pod: &Pod) -> PolicyMatch {
    let Some(policy) = policy else { return PolicyMatch::NO_MATCH };
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    for (index, rule) in policy.rules.iter().enumerate() {
        let action = Action::parse(&rule.action);
        let message = if let Some(req) = &rule.on_exit_codes {
            let Some(cs) = match_on_exit_codes(pod, req) else { continue };
            let code = cs.state.as_ref().and_then(|s| s.terminated.as_ref()).map_or(0, |t| t.exit_code);
            format!(
                "Container {} for pod {namespace}/{name} failed with exit code {code} matching {} rule at index {index}",
                cs.name, rule.action
            )
        } else if let Some(patterns) = &rule.on_pod_conditions {
            let Some(cond) = match_on_pod_conditions(pod, patterns) else { continue };
            format!("Pod {namespace}/{name} has condition {} matching {} rule at index {index}", cond.type_, rule.action)
        } else {
            continue;
        };
        match action {
            Some(Action::Ignore) => return PolicyMatch { job_failure_message: None, count_failed: false, action },
            Some(Action::FailIndex) | Some(Action::Count) => return PolicyMatch { job_failure_message: None, count_failed: true, action },
            Some(Action::FailJob) => return PolicyMatch { job_failure_message: Some(message), count_failed: true, action },
            None => continue,
        }
    }
    PolicyMatch::NO_MATCH
}

/// The first terminated container with a non-zero exit code matching the
/// requirement: regular containers first, then init containers (upstream `matchOnExitCodes`).
fn match_on_exit_codes<'a>(pod: &'a Pod, req: &PodFailurePolicyOnExitCodesRequirement) -> Option<&'a ContainerStatus> {
    let status = pod.status.as_ref()?;
    let find = |list: Option<&'a Vec<ContainerStatus>>| {
        list.map(Vec::as_slice).unwrap_or_default().iter().find(|cs| {
            let Some(terminated) = cs.state.as_ref().and_then(|s| s.terminated.as_ref()) else { return false };
            req.container_name.as_ref().is_none_or(|n| *n == cs.name)
                && terminated.exit_code != 0
                && exit_code_operator_matches(terminated.exit_code, req)
        })
    };
    find(status.container_statuses.as_ref()).or_else(|| find(status.init_container_statuses.as_ref()))
}

fn exit_code_operator_matches(code: i32, req: &PodFailurePolicyOnExitCodesRequirement) -> bool {
    match req.operator.as_str() {
        "In" => req.values.contains(&code),
        "NotIn" => !req.values.contains(&code),
        _ => false,
    }
}

/// The first pod condition matching one of the patterns (upstream `matchOnPodConditions`).
fn match_on_pod_conditions<'a>(pod: &'a Pod, patterns: &[PodFailurePolicyOnPodConditionsPattern]) -> Option<&'a PodCondition> {
    let conditions = pod.status.as_ref()?.conditions.as_deref().unwrap_or_default();
    conditions.iter().find(|c| patterns.iter().any(|p| p.type_ == c.type_ && p.status.as_deref().unwrap_or("True") == c.status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn policy(rules: Value) -> PodFailurePolicy {
        serde_json::from_value(json!({ "rules": rules })).unwrap()
    }

    fn cs(name: &str, exit: Option<i32>) -> Value {
        let state = match exit {
            Some(code) => json!({"terminated": {"exitCode": code}}),
            None => json!({}),
        };
        json!({"name": name, "image": "", "imageID": "", "ready": false, "restartCount": 0, "state": state})
    }

    fn pod(status: Value) -> Pod {
        let mut status = status;
        status["phase"] = json!("Failed");
        serde_json::from_value(json!({"metadata": {"namespace": "default", "name": "mypod"}, "status": status})).unwrap()
    }

    fn exit_rule(action: &str, op: &str, values: &[i32]) -> Value {
        json!({"action": action, "onExitCodes": {"operator": op, "values": values}})
    }

    fn cond_rule(action: &str, type_: &str, status: &str) -> Value {
        json!({"action": action, "onPodConditions": [{"type": type_, "status": status}]})
    }

    fn disruption(status: &str) -> Pod {
        pod(json!({"conditions": [{"type": "DisruptionTarget", "status": status}]}))
    }

    #[test]
    fn match_pod_failure_policy_cases() {
        // Upstream TestMatchPodFailurePolicy (with JobBackoffLimitPerIndex GA).
        let main2 = pod(json!({"containerStatuses": [cs("main-container", Some(2))]}));
        let msg = |code: i32, index: usize| {
            Some(format!(
                "Container main-container for pod default/mypod failed with exit code {code} matching FailJob rule at index {index}"
            ))
        };
        let fail_job = Some(Action::FailJob);
        type Case = (&'static str, Option<PodFailurePolicy>, Pod, Option<String>, bool, Option<Action>);
        let cases: Vec<Case> = vec![
            (
                "unknown action for rule matching by exit codes - skip rule with unknown action",
                Some(policy(json!([exit_rule("UnknownAction", "In", &[1, 2]), exit_rule("FailJob", "In", &[2, 3])]))),
                main2.clone(),
                msg(2, 1),
                true,
                fail_job,
            ),
            (
                "unknown action for rule matching by pod conditions - skip rule with unknown action",
                Some(policy(json!([
                    cond_rule("UnkonwnAction", "DisruptionTarget", "True"),
                    cond_rule("Ignore", "DisruptionTarget", "True")
                ]))),
                disruption("True"),
                None,
                false,
                Some(Action::Ignore),
            ),
            (
                "unknown operator - rule with unknown action is skipped for onExitCodes",
                Some(policy(json!([exit_rule("Ignore", "UnknownOperator", &[1, 2]), exit_rule("FailJob", "In", &[2, 3])]))),
                main2.clone(),
                msg(2, 1),
                true,
                fail_job,
            ),
            ("no policy rules", None, pod(json!({"containerStatuses": [cs("", Some(2))]})), None, true, None),
            (
                "ignore rule matched for exit codes",
                Some(policy(json!([exit_rule("Ignore", "In", &[1, 2, 3])]))),
                pod(json!({"containerStatuses": [cs("", Some(2))]})),
                None,
                false,
                Some(Action::Ignore),
            ),
            (
                "FailJob rule matched for exit codes",
                Some(policy(json!([exit_rule("FailJob", "In", &[1, 2, 3])]))),
                main2.clone(),
                msg(2, 0),
                true,
                fail_job,
            ),
            (
                "successful containers are skipped by the rules",
                Some(policy(json!([exit_rule("FailJob", "NotIn", &[111])]))),
                pod(json!({"initContainerStatuses": [cs("init-container", Some(0))],
                    "containerStatuses": [cs("main-container", Some(111)), cs("suppport-container", Some(0))]})),
                None,
                true,
                None,
            ),
            (
                "FailIndex rule matched for exit codes",
                Some(policy(json!([exit_rule("FailIndex", "In", &[1, 2, 3])]))),
                pod(json!({"containerStatuses": [cs("", Some(2))]})),
                None,
                true,
                Some(Action::FailIndex),
            ),
            (
                "pod failure policy with NotIn operator and value 0",
                Some(policy(json!([exit_rule("FailJob", "NotIn", &[0])]))),
                pod(json!({"containerStatuses": [cs("main-container", Some(1)), cs("suppport-container", Some(0))]})),
                msg(1, 0),
                true,
                fail_job,
            ),
            (
                "second jobfail rule matched for exit codes",
                Some(policy(json!([exit_rule("Count", "In", &[1, 2, 3]), exit_rule("FailJob", "In", &[4, 5, 6])]))),
                pod(json!({"containerStatuses": [cs("main-container", Some(6))]})),
                msg(6, 1),
                true,
                fail_job,
            ),
            (
                "count rule matched for exit codes",
                Some(policy(json!([exit_rule("Count", "In", &[1, 2, 3])]))),
                pod(json!({"containerStatuses": [cs("foo", None), cs("bar", Some(2))]})),
                None,
                true,
                Some(Action::Count),
            ),
            (
                "FailIndex rule matched for pod conditions",
                Some(policy(json!([cond_rule("FailIndex", "DisruptionTarget", "True")]))),
                disruption("True"),
                None,
                true,
                Some(Action::FailIndex),
            ),
            (
                "ignore rule matched for pod conditions",
                Some(policy(json!([cond_rule("Ignore", "DisruptionTarget", "True")]))),
                disruption("True"),
                None,
                false,
                Some(Action::Ignore),
            ),
            (
                "ignore rule matches by the status=False",
                Some(policy(json!([cond_rule("Ignore", "DisruptionTarget", "False")]))),
                disruption("False"),
                None,
                false,
                Some(Action::Ignore),
            ),
            (
                "ignore rule matches by the status=Unknown",
                Some(policy(json!([cond_rule("Ignore", "DisruptionTarget", "Unknown")]))),
                disruption("Unknown"),
                None,
                false,
                Some(Action::Ignore),
            ),
            (
                "ignore rule does not match when status for pattern is False, but actual True",
                Some(policy(json!([cond_rule("Ignore", "DisruptionTarget", "False")]))),
                disruption("True"),
                None,
                true,
                None,
            ),
            (
                "ignore rule does not match when status for pattern is True, but actual False",
                Some(policy(json!([cond_rule("Ignore", "DisruptionTarget", "True")]))),
                disruption("False"),
                None,
                true,
                None,
            ),
            (
                "job fail rule matched for pod conditions",
                Some(policy(json!([cond_rule("FailJob", "DisruptionTarget", "True")]))),
                disruption("True"),
                Some("Pod default/mypod has condition DisruptionTarget matching FailJob rule at index 0".into()),
                true,
                fail_job,
            ),
            (
                "count rule matched for pod conditions",
                Some(policy(json!([cond_rule("Count", "DisruptionTarget", "True")]))),
                disruption("True"),
                None,
                true,
                Some(Action::Count),
            ),
            (
                "no rule matched",
                Some(policy(json!([
                    exit_rule("Count", "NotIn", &[8]),
                    exit_rule("Ignore", "In", &[1, 2, 3]),
                    exit_rule("FailJob", "NotIn", &[5, 6, 7]),
                    cond_rule("Count", "ResourceLimitExceeded", "True"),
                    cond_rule("Ignore", "DisruptionTarget", "True"),
                ]))),
                pod(json!({"containerStatuses": [cs("", Some(32))]})),
                None,
                true,
                Some(Action::Count),
            ),
        ];
        for (name, policy, pod, message, count, action) in cases {
            let got = match_pod_failure_policy(policy.as_ref(), &pod);
            assert_eq!(got, PolicyMatch { job_failure_message: message, count_failed: count, action }, "{name}");
        }
    }

    #[test]
    fn container_name_and_default_status() {
        let p = pod(json!({"containerStatuses": [cs("a", Some(3)), cs("b", Some(3))]}));
        let pol = policy(json!([{"action": "FailJob", "onExitCodes": {"containerName": "b", "operator": "In", "values": [3]}}]));
        assert_eq!(
            match_pod_failure_policy(Some(&pol), &p).job_failure_message.as_deref(),
            Some("Container b for pod default/mypod failed with exit code 3 matching FailJob rule at index 0")
        );
        // A pattern without status matches True (the API default).
        let pol = policy(json!([{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]));
        assert!(!match_pod_failure_policy(Some(&pol), &disruption("True")).count_failed);
        assert!(match_pod_failure_policy(Some(&pol), &disruption("False")).count_failed);
        // A rule with neither requirement never matches; a pod without status matches nothing.
        let pol = policy(json!([{"action": "FailJob"}]));
        assert_eq!(match_pod_failure_policy(Some(&pol), &Pod::default()), PolicyMatch::NO_MATCH);
    }
}
