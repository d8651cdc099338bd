//! The kubelet's part of a pod's life, simulated: no containers run, the
//! status moves as a kubelet would move it, on the schedule the pod's
//! annotations ask for. Pure: the pod and the time in, the next status (or
//! the final delete) and the time of the next change out.
//!
//! # Scenario annotations (all optional)
//!
//! | annotation | meaning | default |
//! | --- | --- | --- |
//! | `sim.rudder.dev/ready-after` | a container turns ready this long after it starts (Go duration) | `0s` |
//! | `sim.rudder.dev/never-ready` | `"true"`: containers run but never turn ready | |
//! | `sim.rudder.dev/exit-after` | containers exit this long after they start; `never` to run forever | `never` for `restartPolicy: Always`, `1s` for `Never`/`OnFailure` |
//! | `sim.rudder.dev/exit-code` | the exit code then | `0` |
//! | `sim.rudder.dev/restart-backoff` | first crash-loop back-off, doubled per restart, 5 min at most (the kubelet's is 10 s) | `10s` |
//! | `sim.rudder.dev/ready-flap` | once ready, readiness flips every period | |
//! | `sim.rudder.dev/termination-delay` | containers stop this long after the pod is deleted; past the grace period they are killed (exit 137) | `0s` |
//! | `sim.rudder.dev/cpu`, `sim.rudder.dev/memory` | usage reported by the metrics API (see the sandbox README) | |
//!
//! The pod of an Indexed Job (annotation `batch.kubernetes.io/job-completion-index: N`)
//! reads `<annotation>.index-N` before `<annotation>` (e.g.
//! `sim.rudder.dev/exit-code.index-1: "3"`), as a real container would branch on
//! `$JOB_COMPLETION_INDEX`.
//!
//! Conditions the kubelet does not own (`DisruptionTarget`, readiness gates,
//! anything a client added) are kept as they are, as the kubelet's status
//! manager keeps them.
//!
//! # Images that cannot be pulled
//!
//! An image whose registry host is under `.invalid` (RFC 2606: a name that
//! never resolves, e.g. `registry.invalid/app:1`) fails to pull as it would on
//! a real node: the container waits (`ErrImagePull`, then `ImagePullBackOff`),
//! never starts and never turns ready, and the pod stays `Pending`. Tests
//! use it for rollouts that never become ready, portably.
//!
//! A malformed value is reported once by the simulator (a Warning log naming
//! the pod and annotation) and the default is used, so a typo never stalls a pod.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition,
    PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub const PREFIX: &str = "sim.rudder.dev/";
/// The completion index of an Indexed Job's pod.
const COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// The pod conditions the kubelet writes; it keeps every other one (e.g.
/// `DisruptionTarget` from an eviction, readiness gates) as it finds it.
const KUBELET_CONDITIONS: [&str; 4] = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"];
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What the annotations ask for.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub ready_after: Duration,
    pub never_ready: bool,
    pub exit_after: Option<Duration>,
    pub exit_code: i32,
    pub restart_backoff: Duration,
    pub ready_flap: Option<Duration>,
    pub termination_delay: Duration,
}

/// Reads the scenario; the second value lists the annotations that were
/// malformed (and replaced by their default).
pub fn scenario(pod: &Pod) -> (Scenario, Vec<String>) {
    let empty = BTreeMap::new();
    let ann = pod.metadata.annotations.as_ref().unwrap_or(&empty);
    // A Job's indexed pod reads `<annotation>.index-<N>` first.
    let index = ann.get(COMPLETION_INDEX_ANNOTATION);
    let get = |key: &str| index.and_then(|i| ann.get(&format!("{PREFIX}{key}.index-{i}"))).or_else(|| ann.get(&format!("{PREFIX}{key}")));
    let policy = restart_policy(pod);
    let mut bad = Vec::new();
    let mut duration = |key: &str, default: Option<Duration>| -> Option<Duration> {
        match get(key) {
            None => default,
            Some(v) if v == "never" && key == "exit-after" => None,
            Some(v) => match rudder_common::flags::parse_duration(v) {
                Ok(d) => Some(d),
                Err(e) => {
                    bad.push(format!("{PREFIX}{key}: {e}"));
                    default
                }
            },
        }
    };
    let run_to_completion = policy != "Always";
    let ready_after = duration("ready-after", Some(Duration::ZERO)).unwrap_or_default();
    let exit_after = duration("exit-after", run_to_completion.then_some(Duration::from_secs(1)));
    let restart_backoff = duration("restart-backoff", Some(Duration::from_secs(10))).unwrap_or_default();
    let ready_flap = duration("ready-flap", None).filter(|d| !d.is_zero());
    let termination_delay = duration("termination-delay", Some(Duration::ZERO)).unwrap_or_default();
    let exit_code = match get("exit-code") {
        None => 0,
        Some(v) => v.parse().unwrap_or_else(|_| {
            bad.push(format!("{PREFIX}exit-code: {v:?} is not an integer"));
            0
        }),
    };
    let never_ready = get("never-ready").is_some_and(|v| v == "true");
    (Scenario { ready_after, never_ready, exit_after, exit_code, restart_backoff, ready_flap, termination_delay }, bad)
}

fn restart_policy(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always")
}

/// Where the pod runs.
#[derive(Clone, Debug)]
pub struct Placement {
    pub node_ip: String,
    pub pod_ip: String,
}

/// What to do with the pod now.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Nothing,
    /// Write this status.
    Status(Box<PodStatus>),
    /// The kubelet's final delete (grace period 0, uid precondition).
    Delete,
}

/// The step, and when the pod next changes by itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub step: Step,
    pub wake: Option<Timestamp>,
}

fn ts(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)).unwrap_or(t)
}

fn terminal(phase: Option<&str>) -> bool {
    matches!(phase, Some("Succeeded" | "Failed"))
}

/// Back-off before restart number `restarts + 1`.
fn backoff(sc: &Scenario, restarts: i32) -> Duration {
    let factor = 2u32.saturating_pow(restarts.clamp(0, 31) as u32);
    sc.restart_backoff.saturating_mul(factor).min(MAX_BACKOFF)
}

/// A container's life as the simulation sees it.
#[derive(Clone, Debug, PartialEq)]
enum Life {
    /// The image cannot be pulled: the container never starts.
    Pulling,
    Running {
        since: Timestamp,
    },
    Exited {
        started: Timestamp,
        finished: Timestamp,
        code: i32,
    },
    BackOff {
        started: Timestamp,
        finished: Timestamp,
        code: i32,
    },
}

/// Whether an image's registry host is under `.invalid` (see the module doc).
pub fn unpullable(image: &str) -> bool {
    let first = image.split('/').next().unwrap_or_default();
    image.contains('/') && first.split(':').next().unwrap_or_default().trim_end_matches('.').ends_with(".invalid")
}

fn life_of(cs: &ContainerStatus) -> Option<Life> {
    let state = cs.state.as_ref()?;
    if let Some(r) = &state.running {
        return Some(Life::Running { since: ts(&r.started_at)? });
    }
    if let Some(t) = &state.terminated {
        return Some(Life::Exited { started: ts(&t.started_at)?, finished: ts(&t.finished_at)?, code: t.exit_code });
    }
    if state.waiting.is_some() {
        let last = cs.last_state.as_ref()?.terminated.as_ref()?;
        return Some(Life::BackOff { started: ts(&last.started_at)?, finished: ts(&last.finished_at)?, code: last.exit_code });
    }
    None
}

/// Advances one container to `now`; returns its new life, restart count and
/// the time of its next change.
fn advance(mut life: Life, mut restarts: i32, sc: &Scenario, policy: &str, now: Timestamp) -> (Life, i32, Option<Timestamp>) {
    loop {
        match life {
            Life::Running { since } => {
                let Some(after) = sc.exit_after else { return (life, restarts, None) };
                let at = plus(since, after);
                if now < at {
                    return (life, restarts, Some(at));
                }
                let restart = match policy {
                    "Never" => false,
                    "OnFailure" => sc.exit_code != 0,
                    _ => true,
                };
                life = if restart {
                    Life::BackOff { started: since, finished: at, code: sc.exit_code }
                } else {
                    Life::Exited { started: since, finished: at, code: sc.exit_code }
                };
            }
            Life::BackOff { finished, .. } => {
                let at = plus(finished, backoff(sc, restarts));
                if now < at {
                    return (life, restarts, Some(at));
                }
                restarts += 1;
                life = Life::Running { since: at };
            }
            Life::Exited { .. } | Life::Pulling => return (life, restarts, None),
        }
    }
}

/// Readiness of a running container at `now`, and when it next changes.
fn readiness(since: Timestamp, sc: &Scenario, now: Timestamp) -> (bool, Option<Timestamp>) {
    if sc.never_ready {
        return (false, None);
    }
    let ready_at = plus(since, sc.ready_after);
    if now < ready_at {
        return (false, Some(ready_at));
    }
    let Some(period) = sc.ready_flap else { return (true, None) };
    let p = period.as_nanos().max(1);
    let elapsed = now.duration_since(ready_at).as_nanos().max(0) as u128;
    let n = elapsed / p;
    let next = plus(ready_at, Duration::from_nanos(((n + 1) * p).min(u64::MAX as u128) as u64));
    (n.is_multiple_of(2), Some(next))
}

fn time(t: Timestamp) -> Time {
    Time(t)
}

fn container_id(pod: &Pod, name: &str, restarts: i32) -> String {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    format!("sim://{uid}/{name}/{restarts}")
}

fn terminated(pod: &Pod, name: &str, restarts: i32, started: Timestamp, finished: Timestamp, code: i32) -> ContainerStateTerminated {
    ContainerStateTerminated {
        exit_code: code,
        reason: Some(if code == 0 { "Completed" } else { "Error" }.into()),
        started_at: Some(time(started)),
        finished_at: Some(time(finished)),
        container_id: Some(container_id(pod, name, restarts)),
        ..Default::default()
    }
}

fn condition(
    old: &[PodCondition],
    type_: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: Timestamp,
) -> PodCondition {
    let status = if status { "True" } else { "False" }.to_string();
    let previous = old.iter().find(|c| c.type_ == type_);
    let since = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => Some(time(now)),
    };
    PodCondition {
        type_: type_.into(),
        status,
        reason: reason.map(String::from),
        message,
        last_transition_time: since,
        observed_generation: None,
        last_probe_time: None,
    }
}

/// The kubelet's next move for a pod bound to one of the simulated nodes.
pub fn step(pod: &Pod, sc: &Scenario, at: &Placement, now: Timestamp) -> Outcome {
    let old = pod.status.clone().unwrap_or_default();
    let deleting = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0);
    if terminal(old.phase.as_deref()) {
        let step = if deleting.is_some() { Step::Delete } else { Step::Nothing };
        return Outcome { step, wake: None };
    }
    let policy = restart_policy(pod).to_string();
    let spec_containers: Vec<(String, String)> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| (c.name.clone(), c.image.clone().unwrap_or_default())).collect())
        .unwrap_or_default();
    let started = ts(&old.start_time).unwrap_or(now);
    let old_statuses = old.container_statuses.clone().unwrap_or_default();

    // Each container's life at `now`.
    let mut wake: Option<Timestamp> = None;
    let mut soonest = |t: Option<Timestamp>| {
        if let Some(t) = t {
            wake = Some(wake.map_or(t, |w: Timestamp| w.min(t)));
        }
    };
    let mut lives = Vec::new();
    for (name, image) in &spec_containers {
        let prev = old_statuses.iter().find(|c| &c.name == name);
        let life = if unpullable(image) { Life::Pulling } else { prev.and_then(life_of).unwrap_or(Life::Running { since: started }) };
        let restarts = prev.map(|c| c.restart_count).unwrap_or(0);
        let (life, restarts, next) = advance(life, restarts, sc, &policy, now);
        soonest(next);
        lives.push((life, restarts));
    }

    // A deleted pod's containers stop after the termination delay, or are
    // killed when the grace period ends.
    if let Some(deadline) = deletion_window(pod, deleting) {
        let (grace_end, requested) = deadline;
        let stop_at = plus(requested, sc.termination_delay).min(grace_end);
        if now < stop_at {
            soonest(Some(stop_at));
        } else {
            let code = if plus(requested, sc.termination_delay) <= grace_end { 0 } else { 137 };
            for (life, _) in lives.iter_mut() {
                match *life {
                    Life::Running { since } | Life::BackOff { started: since, .. } => {
                        *life = Life::Exited { started: since, finished: stop_at, code };
                    }
                    // Never started: nothing to stop.
                    Life::Pulling => *life = Life::Exited { started: stop_at, finished: stop_at, code: 137 },
                    Life::Exited { .. } => {}
                }
            }
        }
    }

    let mut statuses = Vec::new();
    let mut unready = Vec::new();
    for ((name, image), (life, restarts)) in spec_containers.iter().zip(&lives) {
        let prev = old_statuses.iter().find(|c| &c.name == name);
        let (state, last_state, ready, started_flag) = match life {
            Life::Pulling => {
                // The first attempt fails (ErrImagePull); then the kubelet backs off.
                let waiting = if prev.is_some() {
                    ContainerStateWaiting {
                        reason: Some("ImagePullBackOff".into()),
                        message: Some(format!("Back-off pulling image \"{image}\"")),
                    }
                } else {
                    soonest(Some(plus(now, Duration::from_secs(1))));
                    let host = image.split('/').next().unwrap_or_default().split(':').next().unwrap_or_default();
                    ContainerStateWaiting {
                        reason: Some("ErrImagePull".into()),
                        message: Some(format!("failed to pull image \"{image}\": dial tcp: lookup {host}: no such host")),
                    }
                };
                (ContainerState { waiting: Some(waiting), ..Default::default() }, Some(ContainerState::default()), false, false)
            }
            Life::Running { since } => {
                let (ready, next) = readiness(*since, sc, now);
                soonest(next);
                let state =
                    ContainerState { running: Some(ContainerStateRunning { started_at: Some(time(*since)) }), ..Default::default() };
                (state, prev.and_then(|p| p.last_state.clone()), ready, true)
            }
            Life::BackOff { started, finished, code } => {
                let message = format!("back-off {:?} restarting failed container={name} pod={}", backoff(sc, *restarts), pod_name(pod));
                let waiting = ContainerStateWaiting { reason: Some("CrashLoopBackOff".into()), message: Some(message) };
                let last =
                    ContainerState { terminated: Some(terminated(pod, name, *restarts, *started, *finished, *code)), ..Default::default() };
                (ContainerState { waiting: Some(waiting), ..Default::default() }, Some(last), false, false)
            }
            Life::Exited { started, finished, code } => {
                let state =
                    ContainerState { terminated: Some(terminated(pod, name, *restarts, *started, *finished, *code)), ..Default::default() };
                (state, prev.and_then(|p| p.last_state.clone()), false, false)
            }
        };
        if !ready {
            unready.push(name.clone());
        }
        statuses.push(ContainerStatus {
            name: name.clone(),
            image: image.clone(),
            // An image never pulled has no id, and no container was made.
            image_id: if matches!(life, Life::Pulling) { String::new() } else { format!("sim://{image}") },
            container_id: (!matches!(life, Life::Pulling)).then(|| container_id(pod, name, *restarts)),
            ready,
            started: Some(started_flag),
            restart_count: *restarts,
            state: Some(state),
            last_state: last_state.or_else(|| Some(ContainerState::default())),
            ..Default::default()
        });
    }

    let all_exited = !lives.is_empty() && lives.iter().all(|(l, _)| matches!(l, Life::Exited { .. }));
    let phase = if all_exited {
        if lives.iter().all(|(l, _)| matches!(l, Life::Exited { code: 0, .. })) { "Succeeded" } else { "Failed" }
    } else if lives.iter().any(|(l, _)| matches!(l, Life::Pulling)) {
        // A container that has never started keeps the pod Pending.
        "Pending"
    } else {
        "Running"
    };
    let old_conditions = old.conditions.clone().unwrap_or_default();
    let (ready_reason, ready_message) = if terminal(Some(phase)) {
        (Some("PodCompleted"), None)
    } else if unready.is_empty() {
        (None, None)
    } else {
        (Some("ContainersNotReady"), Some(format!("containers with unready status: [{}]", unready.join(" "))))
    };
    let all_ready = unready.is_empty() && !terminal(Some(phase));
    let mut conditions: Vec<PodCondition> =
        old_conditions.iter().filter(|c| !KUBELET_CONDITIONS.contains(&c.type_.as_str())).cloned().collect();
    conditions.push(condition(&old_conditions, "PodReadyToStartContainers", !terminal(Some(phase)), None, None, now));
    conditions.push(condition(&old_conditions, "Initialized", true, None, None, now));
    conditions.push(condition(&old_conditions, "Ready", all_ready, ready_reason, ready_message.clone(), now));
    conditions.push(condition(&old_conditions, "ContainersReady", all_ready, ready_reason, ready_message, now));

    let new = PodStatus {
        phase: Some(phase.into()),
        conditions: Some(conditions),
        host_ip: Some(at.node_ip.clone()),
        host_ips: Some(vec![HostIP { ip: at.node_ip.clone() }]),
        pod_ip: Some(at.pod_ip.clone()),
        pod_ips: Some(vec![PodIP { ip: at.pod_ip.clone() }]),
        start_time: Some(time(started)),
        container_statuses: Some(statuses),
        qos_class: old.qos_class.clone(),
        ..Default::default()
    };
    if new == old {
        return Outcome { step: Step::Nothing, wake };
    }
    Outcome { step: Step::Status(Box::new(new)), wake: if all_exited { None } else { wake } }
}

/// The status patch that turns a pod's Ready condition False (upstream
/// `MarkPodsNotReady`: the condition keeps its reason and message, its
/// transition time moves), or `None` when it is not Ready or finished.
pub fn not_ready_patch(pod: &Pod, now: Timestamp) -> Option<serde_json::Value> {
    let status = pod.status.as_ref()?;
    if terminal(status.phase.as_deref()) {
        return None;
    }
    let mut conditions = status.conditions.clone()?;
    let ready = conditions.iter_mut().find(|c| c.type_ == "Ready" && c.status == "True")?;
    ready.status = "False".into();
    ready.last_transition_time = Some(time(now));
    Some(serde_json::json!({"metadata": {"uid": pod.metadata.uid}, "status": {"conditions": conditions}}))
}

/// For a pod being deleted: (end of the grace period, when the delete was asked).
fn deletion_window(pod: &Pod, deleting: Option<Timestamp>) -> Option<(Timestamp, Timestamp)> {
    let end = deleting?;
    let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0).max(0);
    Some((end, end.checked_sub(SignedDuration::from_secs(grace)).unwrap_or(end)))
}

fn pod_name(pod: &Pod) -> String {
    format!("{}_{}", pod.metadata.name.as_deref().unwrap_or_default(), pod.metadata.namespace.as_deref().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).expect("timestamp")
    }

    fn pod(policy: &str, annotations: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "annotations": annotations},
            "spec": {"nodeName": "sim-node-0", "restartPolicy": policy, "containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Pending", "qosClass": "BestEffort", "conditions": [{"type": "PodScheduled", "status": "True"}]}
        }))
        .expect("pod")
    }

    fn at() -> Placement {
        Placement { node_ip: "172.18.0.2".into(), pod_ip: "10.244.0.7".into() }
    }

    /// Runs the pod's steps at `now`, applying statuses, until nothing changes.
    fn settle(p: &mut Pod, now: Timestamp) -> Outcome {
        let (sc, bad) = scenario(p);
        assert!(bad.is_empty(), "{bad:?}");
        loop {
            let o = step(p, &sc, &at(), now);
            match &o.step {
                Step::Status(s) => p.status = Some((**s).clone()),
                _ => return o,
            }
        }
    }

    fn cond<'a>(p: &'a Pod, type_: &str) -> &'a PodCondition {
        p.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == type_)).expect(type_)
    }

    fn container(p: &Pod) -> &ContainerStatus {
        &p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).expect("statuses")[0]
    }

    #[test]
    fn a_pod_runs_with_ips_and_turns_ready_after_its_delay() {
        let mut p = pod("Always", json!({"sim.rudder.dev/ready-after": "5s"}));
        let o = settle(&mut p, t(0));
        let s = p.status.clone().expect("status");
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(s.pod_ip.as_deref(), Some("10.244.0.7"));
        assert_eq!(s.host_ip.as_deref(), Some("172.18.0.2"));
        assert_eq!(s.start_time, Some(Time(t(0))));
        assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
        assert_eq!(cond(&p, "PodScheduled").status, "True");
        assert_eq!(cond(&p, "Ready").status, "False");
        assert_eq!(cond(&p, "Ready").reason.as_deref(), Some("ContainersNotReady"));
        assert_eq!(cond(&p, "Ready").message.as_deref(), Some("containers with unready status: [c]"));
        assert!(container(&p).state.as_ref().and_then(|s| s.running.as_ref()).is_some());
        assert_eq!(o.wake, Some(t(5)));

        settle(&mut p, t(5));
        assert_eq!(cond(&p, "Ready").status, "True");
        assert_eq!(cond(&p, "Ready").last_transition_time, Some(Time(t(5))));
        assert_eq!(cond(&p, "Initialized").last_transition_time, Some(Time(t(0))));
        assert!(container(&p).ready);
        // Nothing more happens to a ready, long-running pod.
        assert_eq!(settle(&mut p, t(100)), Outcome { step: Step::Nothing, wake: None });
    }

    #[test]
    fn run_to_completion_pods_succeed_or_fail_with_their_exit_code() {
        let mut ok = pod("Never", json!({}));
        settle(&mut ok, t(0));
        settle(&mut ok, t(1));
        let s = ok.status.clone().expect("status");
        assert_eq!(s.phase.as_deref(), Some("Succeeded"));
        let term = container(&ok).state.clone().and_then(|s| s.terminated).expect("terminated");
        assert_eq!((term.exit_code, term.reason.as_deref()), (0, Some("Completed")));
        assert_eq!(term.finished_at, Some(Time(t(1))));
        assert_eq!(cond(&ok, "Ready").reason.as_deref(), Some("PodCompleted"));

        let mut bad = pod("Never", json!({"sim.rudder.dev/exit-after": "3s", "sim.rudder.dev/exit-code": "42"}));
        settle(&mut bad, t(0));
        settle(&mut bad, t(10));
        assert_eq!(bad.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Failed"));
        let term = container(&bad).state.clone().and_then(|s| s.terminated).expect("terminated");
        assert_eq!((term.exit_code, term.reason.as_deref(), term.finished_at), (42, Some("Error"), Some(Time(t(3)))));
    }

    #[test]
    fn failing_containers_restart_with_doubling_back_off() {
        let mut p = pod(
            "OnFailure",
            json!({"sim.rudder.dev/exit-after": "2s", "sim.rudder.dev/exit-code": "1", "sim.rudder.dev/restart-backoff": "10s"}),
        );
        settle(&mut p, t(0));
        // Exits at 2 s, back-off 10 s: waiting in CrashLoopBackOff until 12 s.
        let o = settle(&mut p, t(5));
        assert_eq!(
            container(&p).state.as_ref().and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref()),
            Some("CrashLoopBackOff")
        );
        assert_eq!(container(&p).last_state.as_ref().and_then(|s| s.terminated.as_ref()).map(|t| t.exit_code), Some(1));
        assert_eq!(o.wake, Some(t(12)));
        settle(&mut p, t(12));
        assert_eq!(container(&p).restart_count, 1);
        assert!(container(&p).state.as_ref().and_then(|s| s.running.as_ref()).is_some());
        // Second exit at 14 s, back-off 20 s: running again at 34 s.
        assert_eq!(settle(&mut p, t(20)).wake, Some(t(34)));
        settle(&mut p, t(34));
        assert_eq!(container(&p).restart_count, 2);
        assert_eq!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Running"));
    }

    #[test]
    fn deletion_stops_containers_then_asks_for_the_final_delete() {
        let mut p = pod("Always", json!({"sim.rudder.dev/termination-delay": "2s"}));
        settle(&mut p, t(0));
        // Deleted at 10 s with a 30 s grace period.
        p.metadata.deletion_timestamp = Some(Time(t(40)));
        p.metadata.deletion_grace_period_seconds = Some(30);
        assert_eq!(settle(&mut p, t(11)).wake, Some(t(12)));
        assert_eq!(settle(&mut p, t(12)).step, Step::Delete);
        assert_eq!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded"));
        let term = container(&p).state.clone().and_then(|s| s.terminated).expect("terminated");
        assert_eq!((term.exit_code, term.finished_at), (0, Some(Time(t(12)))));

        // Slower than the grace period: killed at its end.
        let mut slow = pod("Always", json!({"sim.rudder.dev/termination-delay": "1m"}));
        settle(&mut slow, t(0));
        slow.metadata.deletion_timestamp = Some(Time(t(15)));
        slow.metadata.deletion_grace_period_seconds = Some(5);
        assert_eq!(settle(&mut slow, t(15)).step, Step::Delete);
        assert_eq!(slow.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Failed"));
        assert_eq!(container(&slow).state.clone().and_then(|s| s.terminated).map(|t| t.exit_code), Some(137));
    }

    #[test]
    fn an_indexed_jobs_pod_reads_the_annotations_of_its_index_first() {
        let ann = json!({"sim.rudder.dev/exit-code": "0", "sim.rudder.dev/exit-code.index-1": "3",
                         "sim.rudder.dev/exit-after": "never", "sim.rudder.dev/exit-after.index-0": "2s"});
        let mut p = pod("Never", ann);
        let with_index = |p: &mut Pod, i: &str| {
            p.metadata.annotations.as_mut().unwrap().insert(COMPLETION_INDEX_ANNOTATION.into(), i.into());
            scenario(p).0
        };
        assert_eq!((with_index(&mut p, "0").exit_code, with_index(&mut p, "0").exit_after), (0, Some(Duration::from_secs(2))));
        assert_eq!((with_index(&mut p, "1").exit_code, with_index(&mut p, "1").exit_after), (3, None));
        assert_eq!((with_index(&mut p, "2").exit_code, with_index(&mut p, "2").exit_after), (0, None));
    }

    #[test]
    fn a_lost_node_marks_its_ready_pods_not_ready() {
        let mut p = pod("Always", json!({}));
        settle(&mut p, t(0));
        let patch = not_ready_patch(&p, t(30)).expect("a patch");
        let conditions: Vec<PodCondition> = serde_json::from_value(patch["status"]["conditions"].clone()).unwrap();
        let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!((ready.status.as_str(), ready.last_transition_time.clone()), ("False", Some(Time(t(30)))));
        assert_eq!(conditions.len(), p.status.as_ref().unwrap().conditions.as_ref().unwrap().len(), "the other conditions stay");
        p.status.as_mut().unwrap().conditions = Some(conditions);
        assert!(not_ready_patch(&p, t(31)).is_none(), "not ready any more: nothing to do");
    }

    #[test]
    fn conditions_the_kubelet_does_not_own_are_kept() {
        let mut p = pod("Never", json!({"sim.rudder.dev/exit-after": "5s"}));
        settle(&mut p, t(0));
        let disruption = PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            reason: Some("EvictionByEvictionAPI".into()),
            message: Some("Eviction API: evicting".into()),
            last_transition_time: Some(Time(t(1))),
            ..Default::default()
        };
        p.status.as_mut().unwrap().conditions.as_mut().unwrap().push(disruption.clone());
        settle(&mut p, t(10));
        assert_eq!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded"));
        assert_eq!(cond(&p, "DisruptionTarget"), &disruption);
        assert_eq!(cond(&p, "Ready").reason.as_deref(), Some("PodCompleted"));
    }

    #[test]
    fn never_ready_and_flapping_readiness() {
        let mut never = pod("Always", json!({"sim.rudder.dev/never-ready": "true"}));
        settle(&mut never, t(0));
        assert_eq!(settle(&mut never, t(1000)).wake, None);
        assert_eq!(cond(&never, "Ready").status, "False");

        let mut flap = pod("Always", json!({"sim.rudder.dev/ready-after": "1s", "sim.rudder.dev/ready-flap": "10s"}));
        settle(&mut flap, t(0));
        assert_eq!(settle(&mut flap, t(1)).wake, Some(t(11)));
        assert_eq!(cond(&flap, "Ready").status, "True");
        settle(&mut flap, t(11));
        assert_eq!(cond(&flap, "Ready").status, "False");
        settle(&mut flap, t(21));
        assert_eq!(cond(&flap, "Ready").status, "True");
    }

    #[test]
    fn malformed_annotations_fall_back_to_defaults_and_are_named() {
        let p = pod("Always", json!({"sim.rudder.dev/ready-after": "soon", "sim.rudder.dev/exit-code": "x"}));
        let (sc, bad) = scenario(&p);
        assert_eq!(sc.ready_after, Duration::ZERO);
        assert_eq!(sc.exit_code, 0);
        assert_eq!(bad.len(), 2);
        assert!(bad[0].starts_with("sim.rudder.dev/ready-after: "), "{bad:?}");
    }

    #[test]
    fn an_image_under_dot_invalid_never_pulls_and_the_pod_stays_pending() {
        assert!(unpullable("registry.invalid/app:1"));
        assert!(unpullable("registry.invalid:5000/app"));
        assert!(!unpullable("nginx"));
        assert!(!unpullable("docker.io/library/nginx:1.27"));
        assert!(!unpullable("invalid/app"), "a Docker Hub user called invalid");
        let mut p = pod("Always", json!({}));
        p.spec.as_mut().unwrap().containers[0].image = Some("registry.invalid/app:1".into());
        let (sc, _) = scenario(&p);
        let at = Placement { node_ip: "10.0.0.1".into(), pod_ip: "10.1.0.1".into() };
        let first = step(&p, &sc, &at, t(0));
        let Step::Status(st) = first.step else { panic!("a status") };
        assert_eq!(st.phase.as_deref(), Some("Pending"));
        let cs = &st.container_statuses.as_ref().unwrap()[0];
        assert_eq!(cs.state.as_ref().unwrap().waiting.as_ref().unwrap().reason.as_deref(), Some("ErrImagePull"));
        assert!(!cs.ready && cs.container_id.is_none() && cs.image_id.is_empty());
        let ready = st.conditions.as_ref().unwrap().iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!((ready.status.as_str(), ready.reason.as_deref()), ("False", Some("ContainersNotReady")));
        assert_eq!(first.wake, Some(t(1)));
        p.status = Some(*st);
        let Step::Status(st) = step(&p, &sc, &at, t(1)).step else { panic!("a status") };
        let cs = &st.container_statuses.as_ref().unwrap()[0];
        assert_eq!(cs.state.as_ref().unwrap().waiting.as_ref().unwrap().reason.as_deref(), Some("ImagePullBackOff"));
        p.status = Some(*st);
        let later = step(&p, &sc, &at, t(600));
        assert_eq!(later, Outcome { step: Step::Nothing, wake: None }, "stays backing off");
    }
}
