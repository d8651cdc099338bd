//! `rudder-hpa-controller`: scales workloads on their metrics, as
//! kube-controller-manager's horizontal pod autoscaler controller does
//! (autoscaling/v2). The decisions are the library's (`rudder_hpa`); this
//! is the I/O around them: the HPA cache and a pod cache, the target's
//! scale subresource, the metrics APIs (metrics.k8s.io, custom.metrics.k8s.io,
//! external.metrics.k8s.io), status writes and events.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus, MetricSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::{WatchStreamExt, watcher};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use rudder_common::cache::{Indexer, by_namespace};
use rudder_common::controller::Shell;
use rudder_common::errors::{SyncError, is_status, message};
use rudder_common::events::{EventType, Recorder, object_reference};
use rudder_common::flags::{self, CommonArgs, HasCommon, parse_duration};
use rudder_common::quantity;
use rudder_common::runtime::{self, Context};
use rudder_common::selector::Selector;
use rudder_common::workqueue::key_of;
use rudder_hpa::behavior::{History, Recommendation, normalize, record_rescale};
use rudder_hpa::compute::{Data, Inputs, compute};
use rudder_hpa::discovery::{CUSTOM_METRICS_GROUP, custom_metrics_version};
use rudder_hpa::replicas::{PodMetric, PodMetrics, Readiness, Tolerances};
use rudder_hpa::selectors::HpaSelectors;
use rudder_hpa::status::{remove_condition, set_condition};
use tracing::{debug, warn};

#[derive(Debug, Parser)]
#[command(name = "rudder-hpa-controller", version, about = "Scales workloads on their metrics (HorizontalPodAutoscalers)")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// The number of horizontal pod autoscaler objects that are allowed to sync concurrently.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_horizontal_pod_autoscaler_syncs: u16,

    /// The period for syncing the number of pods in horizontal pod autoscaler.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    horizontal_pod_autoscaler_sync_period: Duration,

    /// The minimum change (from 1.0) in the desired-to-actual metrics ratio for the horizontal pod autoscaler to consider scaling.
    #[arg(long, value_name = "RATIO", default_value_t = 0.1)]
    horizontal_pod_autoscaler_tolerance: f64,

    /// The period for which autoscaler will look backwards and not scale down below any recommendation it made during that period.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    horizontal_pod_autoscaler_downscale_stabilization: Duration,

    /// The period after pod start when CPU samples might be skipped.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    horizontal_pod_autoscaler_cpu_initialization_period: Duration,

    /// The period after pod start during which readiness changes will be treated as initial readiness.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    horizontal_pod_autoscaler_initial_readiness_delay: Duration,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

const BY_NAMESPACE: &str = "namespace";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    action: &'static str,
    error: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComputationLabels {
    action: &'static str,
    error: &'static str,
    metric_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DesiredLabels {
    namespace: String,
    hpa_name: String,
}

/// Upstream's `horizontal_pod_autoscaler_controller_*` families (help
/// texts with upstream's stability prefix).
#[derive(Clone)]
struct Metrics {
    reconciliations: Family<ReconcileLabels, Counter>,
    reconciliation_duration: Family<ReconcileLabels, Histogram>,
    computations: Family<ComputationLabels, Counter>,
    computation_duration: Family<ComputationLabels, Histogram>,
    hpas: Gauge,
    desired: Family<DesiredLabels, Gauge>,
}

impl Metrics {
    fn new(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            reconciliations: Family::default(),
            reconciliation_duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15))),
            computations: Family::default(),
            computation_duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15))),
            hpas: Gauge::default(),
            desired: Family::default(),
        };
        const COMPUTATION: &str = "The label 'action' should be either 'scale_down', 'scale_up', or 'none'. Also, the label 'error' should be either 'spec', 'internal', or 'none'. The label 'metric_type' corresponds to HPA.spec.metrics[*].type";
        registry.register(
            "horizontal_pod_autoscaler_controller_metric_computation",
            format!("[BETA] Number of metric computations. {COMPUTATION}"),
            m.computations.clone(),
        );
        registry.register(
            "horizontal_pod_autoscaler_controller_metric_computation_duration_seconds",
            format!("[BETA] The time(seconds) that the HPA controller takes to calculate one metric. {COMPUTATION}"),
            m.computation_duration.clone(),
        );
        const LABELS: &str = "The label 'action' should be either 'scale_down', 'scale_up', or 'none'. Also, the label 'error' should be either 'spec', 'internal', or 'none'. Note that if both spec and internal errors happen during a reconciliation, the first one to occur is reported in `error` label.";
        registry.register(
            "horizontal_pod_autoscaler_controller_reconciliations",
            format!("[BETA] Number of reconciliations of HPA controller. {LABELS}"),
            m.reconciliations.clone(),
        );
        registry.register(
            "horizontal_pod_autoscaler_controller_reconciliation_duration_seconds",
            format!("[BETA] The time(seconds) that the HPA controller takes to reconcile once. {LABELS}"),
            m.reconciliation_duration.clone(),
        );
        registry.register(
            "horizontal_pod_autoscaler_controller_num_horizontal_pod_autoscalers",
            "[ALPHA] Current number of controlled HPA objects.",
            m.hpas.clone(),
        );
        registry.register(
            "horizontal_pod_autoscaler_controller_desired_replicas",
            "[ALPHA] Current desired replica count for HPA objects.",
            m.desired.clone(),
        );
        m
    }
}

struct State {
    client: kube::Client,
    pods: Indexer<Pod>,
    histories: Mutex<HashMap<String, History>>,
    selectors: Mutex<HpaSelectors>,
    /// The custom metrics API version chosen by discovery, and when.
    custom_version: Mutex<Option<(String, std::time::Instant)>>,
    /// Kinds resolved to resources (upstream's RESTMapper), by (group, kind).
    resources: Mutex<HashMap<(String, String), ApiResource>>,
    recorder: Recorder,
    sync_period: Duration,
    tolerance: f64,
    downscale_stabilization: Duration,
    readiness: Readiness,
    metrics: Metrics,
}

impl State {
    fn event(&self, hpa: &HorizontalPodAutoscaler, warning: bool, reason: &str, note: &str) {
        let type_ = if warning { EventType::Warning } else { EventType::Normal };
        self.recorder.publish(&object_reference(hpa), None, type_, reason, "Scale", note);
    }

    /// The resource of `kind` in the API group of `api_version` (the
    /// version is ignored: the group's preferred one, as upstream's mapper).
    async fn resource(&self, api_version: &str, kind: &str) -> Result<ApiResource, String> {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g).to_string();
        let key = (group.clone(), kind.to_string());
        if let Some(r) = self.resources.lock().expect("resources").get(&key) {
            return Ok(r.clone());
        }
        let g = kube::discovery::group(&self.client, &group).await.map_err(|e| message(&e))?;
        let (ar, _) = g.recommended_kind(kind).ok_or_else(|| format!("no matches for kind {kind:?} in group {group:?}"))?;
        self.resources.lock().expect("resources").insert(key, ar.clone());
        Ok(ar)
    }

    /// The custom metrics API version to ask, found by discovery and kept
    /// for one sync period (upstream invalidates it on that period).
    async fn custom_metrics_version(&self) -> Result<String, String> {
        if let Some((v, at)) = self.custom_version.lock().expect("custom version").as_ref()
            && at.elapsed() < self.sync_period
        {
            return Ok(v.clone());
        }
        let groups = self.client.list_api_groups().await.map_err(|e| message(&e))?;
        let v = custom_metrics_version(&groups)?;
        *self.custom_version.lock().expect("custom version") = Some((v.clone(), std::time::Instant::now()));
        Ok(v)
    }
}

/// Upstream `reconcileAutoscaler` with its I/O; synced again every sync period.
async fn sync(hpa: Arc<HorizontalPodAutoscaler>, s: Arc<State>) -> Result<Action, SyncError> {
    let started = std::time::Instant::now();
    let mut action = "none";
    let result = reconcile(&hpa, &s, &mut action).await;
    // Only an apiVersion that does not parse is a spec error upstream (1.36).
    let error = if result.is_ok() { "none" } else { "internal" };
    let labels = ReconcileLabels { action, error };
    s.metrics.reconciliations.get_or_create(&labels).inc();
    s.metrics.reconciliation_duration.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    // As upstream: an error is only logged; every HPA is synced again one
    // sync period later, failed or not (no fast retries).
    if let Err(e) = result {
        warn!(hpa = %key_of(hpa.as_ref()), error = %e, "sync failed");
    }
    Ok::<_, SyncError>(Action::requeue(s.sync_period))
}

async fn reconcile(hpa: &HorizontalPodAutoscaler, s: &State, action: &mut &'static str) -> Result<(), String> {
    let key = key_of(hpa);
    let ns = hpa.namespace().unwrap_or_default();
    let now = jiff::Timestamp::now();
    let spec = hpa.spec.clone();
    let original = hpa.status.clone().unwrap_or_default();
    let mut status = original.clone();
    // The generation this status is about (as issue 17 asks; upstream
    // writes it from v1.37 with HPAGeneration, v1.36 leaves it unset).
    status.observed_generation = hpa.metadata.generation;
    let target = &spec.scale_target_ref;
    let reference = format!("{}/{ns}/{}", target.kind, target.name);

    // The target's scale subresource.
    let scale = async {
        let ar = s.resource(target.api_version.as_deref().unwrap_or("v1"), &target.kind).await?;
        let api: Api<DynamicObject> = Api::namespaced_with(s.client.clone(), &ns, &ar);
        let scale =
            api.get_scale(&target.name).await.map_err(|e| format!("failed to query scale subresource for {reference}: {}", message(&e)))?;
        Ok::<_, String>((api, scale))
    }
    .await;
    let (target_api, mut scale) = match scale {
        Ok(x) => x,
        Err(e) => {
            s.event(hpa, true, "FailedGetScale", &e);
            let msg = format!("the HPA controller was unable to get the target's current scale: {e}");
            set_condition(&mut status, "AbleToScale", "False", "FailedGetScale", &msg, now);
            let _ = write_status(hpa, s, &original, status).await;
            return Err(e);
        }
    };
    set_condition(
        &mut status,
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
        now,
    );
    let current = scale.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(0);
    let min = spec.min_replicas.unwrap_or(1);
    // This HPA's memory (never synced twice at once), seeded with the
    // current count so that a restart does not scale down at once.
    let taken = s.histories.lock().expect("histories").remove(&key);
    let mut history = taken
        .unwrap_or_else(|| History { recommendations: vec![Recommendation { replicas: current, timestamp: now }], ..Default::default() });

    let mut desired = 0;
    let mut reason = String::new();
    let mut metric_statuses = None;
    let mut partial: Option<String> = None;
    let rescale;
    if current == 0 {
        // Scaling to and from zero is alpha (HPAScaleToZero, off in v1.36): a target at 0 is left alone.
        rescale = false;
        set_condition(
            &mut status,
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
            now,
        );
        remove_condition(&mut status, "ScaledToZero");
    } else if current > spec.max_replicas {
        reason = "Current number of replicas above Spec.MaxReplicas".into();
        desired = spec.max_replicas;
        rescale = desired != current;
    } else if current < min {
        reason = "Current number of replicas below Spec.MinReplicas".into();
        desired = min;
        rescale = desired != current;
    } else {
        let metrics = spec.metrics.clone().unwrap_or_default();
        let selector_text = scale.status.as_ref().and_then(|st| st.selector.clone()).unwrap_or_default();
        let pods = match pods_of(hpa, s, &selector_text, &mut status, now) {
            Ok(p) => p,
            Err(e) => return fail_compute(hpa, s, &original, status, current, None, e).await,
        };
        let refs: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
        let mut data = Vec::with_capacity(metrics.len());
        let mut took = Vec::with_capacity(metrics.len());
        for m in &metrics {
            let started = std::time::Instant::now();
            data.push(fetch(s, &ns, &selector_text, m).await);
            took.push(started.elapsed());
        }
        let tolerances = tolerances(&spec, s.tolerance);
        let status_replicas = scale.status.as_ref().map(|st| st.replicas).unwrap_or(0);
        let inputs = Inputs { spec_replicas: current, status_replicas, pods: &refs, tolerances, readiness: s.readiness, now };
        let computed = compute(&metrics, &data, &inputs);
        // Per metric: its action against the last status, its error kind, how long it took.
        let previous = original.current_replicas.unwrap_or(0);
        for ((m, proposal), took) in metrics.iter().zip(&computed.proposals).zip(&took) {
            let (action, error) = match proposal {
                Ok(p) if *p > previous => ("scale_up", "none"),
                Ok(p) if *p < previous => ("scale_down", "none"),
                Ok(_) => ("none", "none"),
                Err(true) => ("none", "spec"),
                Err(false) => ("none", "internal"),
            };
            let labels = ComputationLabels { action, error, metric_type: m.type_.clone() };
            s.metrics.computations.get_or_create(&labels).inc();
            s.metrics.computation_duration.get_or_create(&labels).observe(took.as_secs_f64());
        }
        for (reason, note) in &computed.events {
            s.event(hpa, true, reason, note);
        }
        let c = &computed.condition;
        set_condition(&mut status, c.type_, c.status, &c.reason, &c.message, now);
        if computed.replicas == -1 {
            let e = computed.error.clone().unwrap_or_default();
            return fail_compute(hpa, s, &original, status, current, Some(computed.statuses), e).await;
        }
        partial = computed.error.clone();
        metric_statuses = Some(computed.statuses);
        desired = computed.replicas;
        if desired > current {
            reason = format!("{} above target", computed.metric_name);
        } else if desired < current {
            reason = "All metrics below target".into();
        }
        let n = normalize(
            spec.behavior.as_ref(),
            &mut history,
            current,
            desired,
            (min, spec.max_replicas),
            s.downscale_stabilization.as_secs() as i64,
            now,
        );
        set_condition(&mut status, "AbleToScale", "True", n.able_to_scale.0, n.able_to_scale.1, now);
        let (limited, why) = n.scaling_limited;
        set_condition(&mut status, "ScalingLimited", if limited { "True" } else { "False" }, why.0, why.1, now);
        desired = n.replicas;
        rescale = desired != current;
    }
    debug!(hpa = %key, current, desired, rescale, reason = %reason, "reconciled");

    if rescale {
        let mut attempt = 0;
        let updated = loop {
            if let Some(sp) = scale.spec.as_mut() {
                sp.replicas = Some(desired);
            }
            match target_api.replace_scale(&target.name, &PostParams::default(), &scale).await {
                Ok(_) => break Ok(()),
                Err(e) if is_status(&e, 409) && attempt < 4 => {
                    attempt += 1;
                    if let Ok(fresh) = target_api.get_scale(&target.name).await {
                        scale = fresh;
                    }
                }
                Err(e) => break Err(message(&e)),
            }
        };
        if let Err(e) = updated {
            s.event(hpa, true, "FailedRescale", &format!("New size: {desired}; reason: {reason}; error: {e}"));
            let msg = format!("the HPA controller was unable to update the target scale: {e}");
            set_condition(&mut status, "AbleToScale", "False", "FailedUpdateScale", &msg, now);
            status.current_replicas = Some(current);
            status.current_metrics = metric_statuses;
            let _ = write_status(hpa, s, &original, status).await;
            s.histories.lock().expect("histories").insert(key, history);
            return Err(format!("failed to rescale {reference}: {e}"));
        }
        set_condition(
            &mut status,
            "AbleToScale",
            "True",
            "SucceededRescale",
            &format!("the HPA controller was able to update the target scale to {desired}"),
            now,
        );
        s.event(hpa, false, "SuccessfulRescale", &format!("New size: {desired}; reason: {reason}"));
        record_rescale(spec.behavior.as_ref(), &mut history, current, desired, now);
        remove_condition(&mut status, "ScaledToZero");
        status.last_scale_time = Some(Time(now));
        *action = if desired > current { "scale_up" } else { "scale_down" };
    } else {
        desired = current;
    }
    s.histories.lock().expect("histories").insert(key, history);
    status.current_replicas = Some(current);
    status.desired_replicas = desired;
    status.current_metrics = metric_statuses;
    let labels = DesiredLabels { namespace: ns.clone(), hpa_name: hpa.name_any() };
    s.metrics.desired.get_or_create(&labels).set(i64::from(desired));
    write_status(hpa, s, &original, status).await?;
    partial.map_or(Ok(()), Err)
}

/// The total failure of the metrics: status (current replicas, the metric
/// entries, the conditions, the previous desired count) written, a
/// FailedComputeMetricsReplicas warning.
async fn fail_compute(
    hpa: &HorizontalPodAutoscaler,
    s: &State,
    original: &HorizontalPodAutoscalerStatus,
    mut status: HorizontalPodAutoscalerStatus,
    current: i32,
    metrics: Option<Vec<k8s_openapi::api::autoscaling::v2::MetricStatus>>,
    e: String,
) -> Result<(), String> {
    status.current_replicas = Some(current);
    status.current_metrics = metrics;
    let _ = write_status(hpa, s, original, status).await;
    s.event(hpa, true, "FailedComputeMetricsReplicas", &e);
    Err(format!("failed to compute desired number of replicas based on listed metrics for {}: {e}", reference_of(hpa)))
}

fn reference_of(hpa: &HorizontalPodAutoscaler) -> String {
    let t = &hpa.spec.scale_target_ref;
    format!("{}/{}/{}", t.kind, hpa.namespace().unwrap_or_default(), t.name)
}

/// Upstream `validateAndParseSelector` and the pod listing: the target's
/// pods by its scale's selector, unless other HPAs control them too.
fn pods_of(
    hpa: &HorizontalPodAutoscaler,
    s: &State,
    selector: &str,
    status: &mut HorizontalPodAutoscalerStatus,
    now: jiff::Timestamp,
) -> Result<Vec<Arc<Pod>>, String> {
    if selector.is_empty() {
        s.event(hpa, true, "SelectorRequired", "selector is required");
        set_condition(status, "ScalingActive", "False", "InvalidSelector", "the HPA target's scale is missing a selector", now);
        return Err("selector is required".into());
    }
    let parsed = match Selector::parse(selector) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("couldn't convert selector into a corresponding internal selector object: {e}");
            s.event(hpa, true, "InvalidSelector", &msg);
            set_condition(status, "ScalingActive", "False", "InvalidSelector", &msg, now);
            return Err(msg);
        }
    };
    let ns = hpa.namespace().unwrap_or_default();
    let pods: Vec<Arc<Pod>> = s.pods.by_index(BY_NAMESPACE, &ns).into_iter().filter(|p| parsed.matches(p.labels())).collect();
    let controlling = {
        let mut selectors = s.selectors.lock().expect("selectors");
        selectors.learn(&ns, &hpa.name_any(), parsed);
        selectors.controlling(&ns, pods.iter().map(|p| p.labels()))
    };
    if controlling.len() > 1 {
        let msg = format!("pods by selector {selector} are controlled by multiple HPAs: [{}]", controlling.join(" "));
        s.event(hpa, true, "AmbiguousSelector", &msg);
        set_condition(status, "ScalingActive", "False", "AmbiguousSelector", &msg, now);
        return Err(msg);
    }
    Ok(pods)
}

/// The tolerances: the flag, or the behavior's per-direction ones
/// (HPAConfigurableTolerance, on by default in v1.36).
fn tolerances(spec: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec, flag: f64) -> Tolerances {
    let of = |rules: Option<&k8s_openapi::api::autoscaling::v2::HPAScalingRules>| {
        rules.and_then(|r| r.tolerance.as_ref()).and_then(quantity::of).map_or(flag, |q| q.to_f64())
    };
    let b = spec.behavior.as_ref();
    Tolerances { scale_down: of(b.and_then(|b| b.scale_down.as_ref())), scale_up: of(b.and_then(|b| b.scale_up.as_ref())) }
}

fn selector_query(sel: Option<&LabelSelector>) -> String {
    sel.and_then(|s| Selector::from_label_selector(Some(s)).ok()).map(|s| s.to_string()).unwrap_or_default()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn get_json(client: &kube::Client, path: &str) -> Result<serde_json::Value, kube::Error> {
    let req = http::Request::get(path).body(Vec::new()).map_err(kube::Error::HttpError)?;
    client.request::<serde_json::Value>(req).await
}

fn milli(v: &serde_json::Value) -> Option<i64> {
    v.as_str().and_then(|s| quantity::parse(s).ok()).map(|q| q.milli_value())
}

fn timestamp(v: &serde_json::Value, key: &str) -> jiff::Timestamp {
    v.get(key).and_then(|t| t.as_str()).and_then(|t| t.parse().ok()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// One metric's data from the metrics APIs, or the error as upstream's
/// metrics client words it.
async fn fetch(s: &State, ns: &str, pod_selector: &str, m: &MetricSpec) -> Data {
    let client = &s.client;
    match m.type_.as_str() {
        "Resource" | "ContainerResource" => {
            let (resource, container) = match (&m.resource, &m.container_resource) {
                (Some(r), _) => (r.name.clone(), String::new()),
                (None, Some(c)) => (c.name.clone(), c.container.clone()),
                _ => return Data::Failed("invalid resource metric source".into()),
            };
            let path = format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods?labelSelector={}", encode(pod_selector));
            let list = match get_json(client, &path).await {
                Ok(l) => l,
                Err(e) => {
                    return Data::Failed(format!(
                        "unable to get metrics for resource {resource}: unable to fetch metrics from resource metrics API: {}",
                        message(&e)
                    ));
                }
            };
            let items = list.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
            if items.is_empty() {
                return Data::Failed(format!(
                    "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
                ));
            }
            let mut out = PodMetrics::new();
            for item in &items {
                let name = item.pointer("/metadata/name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
                let containers = item.get("containers").and_then(|c| c.as_array()).cloned().unwrap_or_default();
                let usage = |c: &serde_json::Value| c.pointer(&format!("/usage/{resource}")).and_then(milli);
                let value = if container.is_empty() {
                    if containers.is_empty() {
                        continue;
                    }
                    let values: Option<Vec<i64>> = containers.iter().map(usage).collect();
                    let Some(values) = values else { continue };
                    values.iter().sum()
                } else {
                    let Some(c) = containers.iter().find(|c| c.get("name").and_then(|n| n.as_str()) == Some(container.as_str())) else {
                        return Data::Failed(format!(
                            "unable to get metrics for resource {resource}: failed to get container metrics: container {container} not present in metrics for pod {ns}/{name}"
                        ));
                    };
                    let Some(v) = usage(c) else { continue };
                    v
                };
                let window =
                    item.get("window").and_then(|w| w.as_str()).and_then(|w| parse_duration(w).ok()).unwrap_or(Duration::from_secs(60));
                out.insert(name, PodMetric { timestamp: timestamp(item, "timestamp"), window, value });
            }
            Data::Samples(out)
        }
        "Pods" => {
            let Some(p) = &m.pods else { return Data::Failed("invalid pods metric source".into()) };
            let name = &p.metric.name;
            let version = match s.custom_metrics_version().await {
                Ok(v) => v,
                Err(e) => {
                    return Data::Failed(format!("unable to get metric {name}: unable to fetch metrics from custom metrics API: {e}"));
                }
            };
            let path = format!(
                "/apis/{CUSTOM_METRICS_GROUP}/{version}/namespaces/{ns}/pods/*/{name}?labelSelector={}&metricLabelSelector={}",
                encode(pod_selector),
                encode(&selector_query(p.metric.selector.as_ref()))
            );
            let list = match get_json(client, &path).await {
                Ok(l) => l,
                Err(e) => {
                    return Data::Failed(format!(
                        "unable to get metric {name}: unable to fetch metrics from custom metrics API: {}",
                        message(&e)
                    ));
                }
            };
            let items = list.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
            if items.is_empty() {
                return Data::Failed(format!("unable to get metric {name}: no metrics returned from custom metrics API"));
            }
            let samples = items
                .iter()
                .filter_map(|i| {
                    let pod = i.pointer("/describedObject/name")?.as_str()?.to_string();
                    let window = i.get("windowSeconds").and_then(|w| w.as_u64()).map_or(Duration::from_secs(60), Duration::from_secs);
                    Some((pod, PodMetric { timestamp: timestamp(i, "timestamp"), window, value: milli(i.get("value")?)? }))
                })
                .collect();
            Data::Samples(samples)
        }
        "Object" => {
            let Some(o) = &m.object else { return Data::Failed("invalid object metric source".into()) };
            let (name, d) = (&o.metric.name, &o.described_object);
            let path = if d.kind == "Namespace" && !d.api_version.as_deref().unwrap_or("v1").contains('/') {
                format!("namespaces/{ns}/metrics/{name}")
            } else {
                let ar = match s.resource(d.api_version.as_deref().unwrap_or("v1"), &d.kind).await {
                    Ok(ar) => ar,
                    Err(e) => {
                        return Data::Failed(format!(
                            "unable to get metric {name}: unable to map kind {} to resource: {e} on {} {ns}/{}",
                            d.kind, d.kind, d.name
                        ));
                    }
                };
                let qualified = if ar.group.is_empty() { ar.plural.clone() } else { format!("{}.{}", ar.plural, ar.group) };
                format!("namespaces/{ns}/{qualified}/{}/{name}", d.name)
            };
            let version = match s.custom_metrics_version().await {
                Ok(v) => v,
                Err(e) => {
                    return Data::Failed(format!(
                        "unable to get metric {name}: unable to fetch metrics from custom metrics API: {e} on {} {ns}/{}",
                        d.kind, d.name
                    ));
                }
            };
            let path = format!(
                "/apis/{CUSTOM_METRICS_GROUP}/{version}/{path}?metricLabelSelector={}",
                encode(&selector_query(o.metric.selector.as_ref()))
            );
            match get_json(client, &path).await {
                Ok(list) => {
                    let items = list.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
                    match items.as_slice() {
                        [one] => milli(&one["value"])
                            .map_or_else(|| Data::Failed(format!("unable to get metric {name}: bad value")), Data::Object),
                        other => Data::Failed(format!(
                            "unable to get metric {name}: unable to fetch metrics from custom metrics API: the custom metrics API server returned {} results when we asked for exactly one on {} {ns}/{}",
                            other.len(),
                            d.kind,
                            d.name
                        )),
                    }
                }
                Err(e) => Data::Failed(format!(
                    "unable to get metric {name}: unable to fetch metrics from custom metrics API: {} on {} {ns}/{}",
                    message(&e),
                    d.kind,
                    d.name
                )),
            }
        }
        "External" => {
            let Some(x) = &m.external else { return Data::Failed("invalid external metric source".into()) };
            let name = &x.metric.name;
            let path = format!(
                "/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{name}?labelSelector={}",
                encode(&selector_query(x.metric.selector.as_ref()))
            );
            match get_json(client, &path).await {
                Ok(list) => {
                    let values: Vec<i64> =
                        list.get("items").and_then(|i| i.as_array()).into_iter().flatten().filter_map(|i| milli(&i["value"])).collect();
                    if values.is_empty() {
                        Data::Failed(format!("unable to get external metric {ns}/{name}: no metrics returned from external metrics API"))
                    } else {
                        Data::External(values)
                    }
                }
                Err(e) => Data::Failed(format!(
                    "unable to get external metric {ns}/{name}: unable to fetch metrics from external metrics API: {}",
                    message(&e)
                )),
            }
        }
        _ => Data::Failed(String::new()),
    }
}

/// UpdateStatus when the status changed; a failure is a FailedUpdateStatus warning.
async fn write_status(
    hpa: &HorizontalPodAutoscaler,
    s: &State,
    original: &HorizontalPodAutoscalerStatus,
    status: HorizontalPodAutoscalerStatus,
) -> Result<(), String> {
    if &status == original {
        return Ok(());
    }
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(s.client.clone(), &hpa.namespace().unwrap_or_default());
    let mut updated = hpa.clone();
    updated.status = Some(status);
    match api.replace_status(&hpa.name_any(), &PostParams::default(), &updated).await {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, 404) => Ok(()),
        Err(e) => {
            s.event(hpa, true, "FailedUpdateStatus", &message(&e));
            Err(format!("failed to update status for {}: {}", hpa.name_any(), message(&e)))
        }
    }
}

async fn work(ctx: Context, args: Args, metrics: Metrics) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let shell = Shell::new(&ctx, "horizontalpodautoscaler", 2);
    let pods = Indexer::new(vec![(BY_NAMESPACE, by_namespace)]);
    let histories: Arc<Mutex<Option<Arc<State>>>> = Arc::new(Mutex::new(None));
    let slot = histories.clone();
    let counted = metrics.clone();
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    let (hpas, hpa_stream) = shell.primary::<HorizontalPodAutoscaler>(move |e| match e {
        // A deleted HPA's recommendations and events go with it.
        watcher::Event::Delete(h) => {
            if known.remove(&key_of(h)) {
                counted.hpas.dec();
            }
            let labels = DesiredLabels { namespace: h.namespace().unwrap_or_default(), hpa_name: h.name_any() };
            counted.desired.remove(&labels);
            if let Some(s) = slot.lock().expect("slot").as_ref() {
                s.histories.lock().expect("histories").remove(&key_of(h));
                s.selectors.lock().expect("selectors").forget(&labels.namespace, &labels.hpa_name);
            }
        }
        watcher::Event::Apply(h) | watcher::Event::InitApply(h) => {
            if known.insert(key_of(h)) {
                counted.hpas.inc();
            }
            if let Some(s) = slot.lock().expect("slot").as_ref() {
                s.selectors.lock().expect("selectors").register(&h.namespace().unwrap_or_default(), &h.name_any());
            }
        }
        watcher::Event::Init | watcher::Event::InitDone => {}
    });
    let state = Arc::new(State {
        client: client.clone(),
        pods: pods.clone(),
        histories: Mutex::new(HashMap::new()),
        selectors: Mutex::new(HpaSelectors::default()),
        custom_version: Mutex::new(None),
        resources: Mutex::new(HashMap::new()),
        recorder: Recorder::new(client.clone(), "horizontal-pod-autoscaler", ctx.identity.clone()),
        sync_period: args.horizontal_pod_autoscaler_sync_period,
        tolerance: args.horizontal_pod_autoscaler_tolerance,
        downscale_stabilization: args.horizontal_pod_autoscaler_downscale_stabilization,
        readiness: Readiness {
            cpu_initialization_period: args.horizontal_pod_autoscaler_cpu_initialization_period,
            initial_readiness_delay: args.horizontal_pod_autoscaler_initial_readiness_delay,
        },
        metrics,
    });
    *histories.lock().expect("slot") = Some(state.clone());
    // Pods are read from the cache; their events trigger nothing (HPAs sync on their period).
    let pod_stream = pods.watch(Api::all(client.clone()), shell.synced_part()).touched_objects();
    let none = |_: Pod| -> Vec<kube::runtime::reflector::ObjectRef<HorizontalPodAutoscaler>> { Vec::new() };
    shell.run(hpas, hpa_stream, args.concurrent_horizontal_pod_autoscaler_syncs, state, |c| c.watches_stream(pod_stream, none), sync).await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = flags::parse_or_exit();
    let common = args.common.clone();
    runtime::run_with_metrics(&common, "rudder-hpa-controller", Metrics::new, |ctx, m| work(ctx, args, m)).await
}
