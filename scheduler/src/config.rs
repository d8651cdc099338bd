//! The configuration file (`--config`), in the shape of upstream's
//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`): profiles
//! with plugin sets merged onto the default profile, plugin arguments,
//! `percentageOfNodesToScore` and the queue's back-off. Decoded strictly
//! (unknown fields are errors, as upstream) and validated with upstream's
//! field paths.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The name of the only profile when there is no configuration file.
pub const DEFAULT_SCHEDULER_NAME: &str = "rudder-scheduler";

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Configuration {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub parallelism: Option<i32>,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub pod_initial_backoff_seconds: Option<i64>,
    pub pod_max_backoff_seconds: Option<i64>,
    #[serde(default)]
    pub profiles: Vec<ProfileConfig>,
    /// Accepted for compatibility; the command-line flags govern these.
    pub leader_election: Option<Value>,
    pub client_connection: Option<Value>,
    pub delay_cache_until_active: Option<bool>,
    #[serde(default)]
    pub extenders: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileConfig {
    #[serde(default)]
    pub scheduler_name: String,
    pub percentage_of_nodes_to_score: Option<i32>,
    #[serde(default)]
    pub plugins: Plugins,
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugins {
    pub pre_enqueue: Option<PluginSet>,
    pub queue_sort: Option<PluginSet>,
    pub pre_filter: Option<PluginSet>,
    pub filter: Option<PluginSet>,
    pub post_filter: Option<PluginSet>,
    pub pre_score: Option<PluginSet>,
    pub score: Option<PluginSet>,
    pub reserve: Option<PluginSet>,
    pub permit: Option<PluginSet>,
    pub pre_bind: Option<PluginSet>,
    pub bind: Option<PluginSet>,
    pub post_bind: Option<PluginSet>,
    pub multi_point: Option<PluginSet>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginSet {
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginRef {
    pub name: String,
    pub weight: Option<i32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginConfig {
    pub name: String,
    pub args: Option<Value>,
}

/// A plugin of a resolved profile: where it takes part, its weight, its args.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    pub name: String,
    pub filter: bool,
    pub score: bool,
    pub weight: i64,
    pub args: Option<Value>,
}

/// A profile after merging onto the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedProfile {
    pub scheduler_name: String,
    pub percentage_of_nodes_to_score: u32,
    pub plugins: Vec<PluginSpec>,
    /// DefaultPreemption (a PostFilter) enabled.
    pub preemption: bool,
    /// DynamicResources' PostFilter enabled (it runs before preemption's).
    pub dynamic_resources: bool,
}

/// The whole configuration, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub profiles: Vec<ResolvedProfile>,
    pub initial_backoff_seconds: u64,
    pub max_backoff_seconds: u64,
}

/// The default profile's filter/score plugins in upstream's order, with
/// the score weights (0: not a score plugin) and whether each filters.
pub const DEFAULT_PLUGINS: [(&str, bool, i64); 11] = [
    ("NodeUnschedulable", true, 0),
    ("NodeName", true, 0),
    ("TaintToleration", true, 3),
    ("NodeAffinity", true, 2),
    ("NodePorts", true, 0),
    ("NodeResourcesFit", true, 1),
    ("PodTopologySpread", true, 2),
    ("InterPodAffinity", true, 2),
    ("DynamicResources", true, 0),
    ("NodeResourcesBalancedAllocation", false, 1),
    ("ImageLocality", false, 1),
];

/// Upstream plugins taking part elsewhere than Filter/Score, which the
/// configuration may name: the queue sort, gates, preemption, binding.
const OTHER_PLUGINS: [&str; 4] = ["PrioritySort", "SchedulingGates", "DefaultPreemption", "DefaultBinder"];

/// Upstream plugins Rudder does not implement (volumes, node features).
const NOT_IMPLEMENTED: [&str; 5] = ["VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone", "NodeDeclaredFeatures"];

fn default_weight(name: &str) -> Option<(bool, i64)> {
    DEFAULT_PLUGINS.iter().find(|(n, _, _)| *n == name).map(|(_, f, w)| (*f, *w))
}

/// Parses and validates a configuration file's text. Errors name the
/// field, as upstream's validation does; several are joined with "; ".
pub fn parse(text: &str) -> Result<Resolved, String> {
    let cfg: Configuration = serde_yaml::from_str(text).map_err(|e| format!("decoding the configuration: {e}"))?;
    resolve(cfg)
}

/// Without a configuration file: one default profile named
/// [`DEFAULT_SCHEDULER_NAME`].
pub fn default_resolved() -> Resolved {
    resolve(Configuration::default()).expect("the default configuration is valid (tested)")
}

pub fn resolve(cfg: Configuration) -> Result<Resolved, String> {
    let mut errs = Vec::new();
    match cfg.api_version.as_deref() {
        None | Some("kubescheduler.config.k8s.io/v1") => {}
        Some(other) => errs.push(format!("apiVersion: Unsupported value: {other:?}: supported values: \"kubescheduler.config.k8s.io/v1\"")),
    }
    match cfg.kind.as_deref() {
        None | Some("KubeSchedulerConfiguration") => {}
        Some(other) => errs.push(format!("kind: Unsupported value: {other:?}: supported values: \"KubeSchedulerConfiguration\"")),
    }
    if !cfg.extenders.is_empty() {
        errs.push("extenders: Forbidden: scheduler extenders are not supported by rudder-scheduler".to_string());
    }
    if let Some(p) = cfg.parallelism
        && p <= 0
    {
        errs.push(format!("parallelism: Invalid value: {p}: should be an integer value greater than zero"));
    }
    let pct = cfg.percentage_of_nodes_to_score.unwrap_or(0);
    check_percentage("percentageOfNodesToScore", pct, &mut errs);
    let initial = cfg.pod_initial_backoff_seconds.unwrap_or(1);
    let max = cfg.pod_max_backoff_seconds.unwrap_or(10);
    if initial <= 0 {
        errs.push(format!("podInitialBackoffSeconds: Invalid value: {initial}: must be greater than 0"));
    }
    if max < initial {
        errs.push(format!("podMaxBackoffSeconds: Invalid value: {max}: must be greater than or equal to PodInitialBackoffSeconds"));
    }
    let mut profiles_cfg = cfg.profiles;
    if profiles_cfg.is_empty() {
        profiles_cfg.push(ProfileConfig { scheduler_name: DEFAULT_SCHEDULER_NAME.into(), ..Default::default() });
    }
    let mut profiles = Vec::new();
    let mut names = Vec::new();
    for (i, p) in profiles_cfg.into_iter().enumerate() {
        let path = format!("profiles[{i}]");
        if p.scheduler_name.is_empty() {
            errs.push(format!("{path}.schedulerName: Required value"));
        } else if names.contains(&p.scheduler_name) {
            errs.push(format!("{path}.schedulerName: Duplicate value: {:?}", p.scheduler_name));
        }
        names.push(p.scheduler_name.clone());
        if let Some(v) = p.percentage_of_nodes_to_score {
            check_percentage(&format!("{path}.percentageOfNodesToScore"), v, &mut errs);
        }
        let percentage = p.percentage_of_nodes_to_score.unwrap_or(pct).clamp(0, 100) as u32;
        match resolve_plugins(&path, &p) {
            Ok((plugins, PostFilters { preemption, dynamic_resources })) => profiles.push(ResolvedProfile {
                scheduler_name: p.scheduler_name,
                percentage_of_nodes_to_score: percentage,
                plugins,
                preemption,
                dynamic_resources,
            }),
            Err(mut e) => errs.append(&mut e),
        }
    }
    if !errs.is_empty() {
        return Err(errs.join("; "));
    }
    Ok(Resolved { profiles, initial_backoff_seconds: initial.max(1) as u64, max_backoff_seconds: max.max(1) as u64 })
}

fn check_percentage(path: &str, v: i32, errs: &mut Vec<String>) {
    if !(0..=100).contains(&v) {
        errs.push(format!("{path}: Invalid value: {v}: not in valid range [0-100]"));
    }
}

fn check_known(path: &str, name: &str, errs: &mut Vec<String>) -> bool {
    if name == "*" || default_weight(name).is_some() || OTHER_PLUGINS.contains(&name) {
        return true;
    }
    if NOT_IMPLEMENTED.contains(&name) {
        errs.push(format!("{path}: Invalid value: {name:?}: plugin not implemented by rudder-scheduler"));
    } else {
        errs.push(format!("{path}: Invalid value: {name:?}: plugin does not exist"));
    }
    false
}

/// Which of the PostFilter plugins (outside [`DEFAULT_PLUGINS`]) a profile runs.
struct PostFilters {
    preemption: bool,
    dynamic_resources: bool,
}

/// Upstream's merge: the default plugins, then the profile's multiPoint,
/// then each extension point's enabled/disabled lists.
fn resolve_plugins(path: &str, p: &ProfileConfig) -> Result<(Vec<PluginSpec>, PostFilters), Vec<String>> {
    let mut errs = Vec::new();
    let mut specs: Vec<PluginSpec> = DEFAULT_PLUGINS
        .iter()
        .map(|(name, filter, weight)| PluginSpec {
            name: name.to_string(),
            filter: *filter,
            score: *weight > 0,
            weight: (*weight).max(1),
            args: None,
        })
        .collect();
    let mut post = PostFilters { preemption: true, dynamic_resources: true };
    let all_points = |spec: &mut PluginSpec, on: bool| {
        let (f, w) = default_weight(&spec.name).unwrap_or((false, 0));
        spec.filter = on && f;
        spec.score = on && w > 0;
    };
    let sets: [(&str, &Option<PluginSet>); 6] = [
        ("multiPoint", &p.plugins.multi_point),
        ("preFilter", &p.plugins.pre_filter),
        ("filter", &p.plugins.filter),
        ("score", &p.plugins.score),
        ("preScore", &p.plugins.pre_score),
        ("postFilter", &p.plugins.post_filter),
    ];
    for (point, set) in sets {
        let Some(set) = set else { continue };
        for (j, d) in set.disabled.iter().enumerate() {
            let at = format!("{path}.plugins.{point}.disabled[{j}].name");
            // Disabling a plugin Rudder lacks asks for what it does anyway.
            if NOT_IMPLEMENTED.contains(&d.name.as_str()) || !check_known(&at, &d.name, &mut errs) {
                continue;
            }
            if point == "multiPoint" || point == "postFilter" {
                if d.name == "*" || d.name == "DefaultPreemption" {
                    post.preemption = false;
                }
                if d.name == "*" || d.name == "DynamicResources" {
                    post.dynamic_resources = false;
                }
            }
            for spec in specs.iter_mut().filter(|s| d.name == "*" || s.name == d.name) {
                match point {
                    "multiPoint" => all_points(spec, false),
                    "preFilter" | "filter" => spec.filter = false,
                    "score" | "preScore" => spec.score = false,
                    _ => {}
                }
            }
        }
        for (j, e) in set.enabled.iter().enumerate() {
            let at = format!("{path}.plugins.{point}.enabled[{j}]");
            if !check_known(&format!("{at}.name"), &e.name, &mut errs) || e.name == "*" {
                continue;
            }
            if let Some(w) = e.weight
                && !(1..=100).contains(&w)
            {
                errs.push(format!("{at}.weight: Invalid value: {w}: must be in the range [1, 100]"));
            }
            if e.name == "DefaultPreemption" {
                post.preemption = true;
            }
            if e.name == "DynamicResources" {
                post.dynamic_resources = true;
            }
            let Some(spec) = specs.iter_mut().find(|s| s.name == e.name) else { continue };
            match point {
                "multiPoint" => all_points(spec, true),
                "preFilter" | "filter" => spec.filter = default_weight(&e.name).is_some_and(|(f, _)| f),
                "score" | "preScore" => spec.score = true,
                _ => {}
            }
            if let Some(w) = e.weight {
                spec.weight = i64::from(w);
                if point == "score" || point == "multiPoint" {
                    spec.score = true;
                }
            }
        }
    }
    let mut seen = Vec::new();
    for (j, c) in p.plugin_config.iter().enumerate() {
        let at = format!("{path}.pluginConfig[{j}].name");
        if seen.contains(&c.name) {
            errs.push(format!("{at}: Duplicate value: {:?}", c.name));
            continue;
        }
        seen.push(c.name.clone());
        if !check_known(&at, &c.name, &mut errs) {
            continue;
        }
        if let Some(spec) = specs.iter_mut().find(|s| s.name == c.name) {
            spec.args = c.args.clone();
        }
    }
    specs.retain(|s| s.filter || s.score);
    if errs.is_empty() { Ok((specs, post)) } else { Err(errs) }
}

/// The `pluginConfig` args by plugin name, for callers building plugins.
pub fn args_by_name(p: &ResolvedProfile) -> BTreeMap<&str, Option<&Value>> {
    p.plugins.iter().map(|s| (s.name.as_str(), s.args.as_ref())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &ResolvedProfile) -> Vec<(String, bool, bool, i64)> {
        p.plugins.iter().map(|s| (s.name.clone(), s.filter, s.score, s.weight)).collect()
    }

    #[test]
    fn no_file_is_one_default_profile() {
        let r = default_resolved();
        assert_eq!(r.profiles.len(), 1);
        let p = &r.profiles[0];
        assert_eq!(p.scheduler_name, "rudder-scheduler");
        assert!(p.preemption && p.dynamic_resources);
        assert_eq!(p.percentage_of_nodes_to_score, 0);
        let got = names(p);
        assert_eq!(got[2], ("TaintToleration".to_string(), true, true, 3));
        assert_eq!(got[4], ("NodePorts".to_string(), true, false, 1));
        assert_eq!(got[8], ("DynamicResources".to_string(), true, false, 1));
        assert_eq!(got.len(), 11);
        assert_eq!((r.initial_backoff_seconds, r.max_backoff_seconds), (1, 10));
    }

    #[test]
    fn two_profiles_as_rudder_sandbox_up_writes_them() {
        let r = parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n  - schedulerName: default-scheduler\n  - schedulerName: rudder-scheduler\n",
        )
        .unwrap();
        let names: Vec<&str> = r.profiles.iter().map(|p| p.scheduler_name.as_str()).collect();
        assert_eq!(names, ["default-scheduler", "rudder-scheduler"]);
    }

    #[test]
    fn plugins_merge_onto_the_defaults() {
        let r = parse(
            r#"
percentageOfNodesToScore: 30
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
profiles:
  - schedulerName: packer
    percentageOfNodesToScore: 50
    plugins:
      multiPoint:
        disabled: [{name: ImageLocality}]
      score:
        disabled: [{name: NodeResourcesBalancedAllocation}]
        enabled: [{name: NodeResourcesFit, weight: 5}]
      filter:
        disabled: [{name: NodePorts}]
      postFilter:
        disabled: [{name: DefaultPreemption}]
    pluginConfig:
      - name: NodeResourcesFit
        args: {scoringStrategy: {type: MostAllocated}}
  - schedulerName: spreader
"#,
        )
        .unwrap();
        let p = &r.profiles[0];
        assert_eq!(p.percentage_of_nodes_to_score, 50);
        assert!(!p.preemption);
        let got = names(p);
        assert!(!got.iter().any(|g| g.0 == "ImageLocality" || g.0 == "NodeResourcesBalancedAllocation" || g.0 == "NodePorts"), "{got:?}");
        assert!(got.contains(&("NodeResourcesFit".to_string(), true, true, 5)));
        assert_eq!(args_by_name(p)["NodeResourcesFit"].unwrap()["scoringStrategy"]["type"], "MostAllocated");
        assert_eq!(r.profiles[1].percentage_of_nodes_to_score, 30);
        assert!(r.profiles[1].preemption);
        assert_eq!((r.initial_backoff_seconds, r.max_backoff_seconds), (2, 20));
        let all_off = parse("profiles: [{schedulerName: x, plugins: {score: {disabled: [{name: '*'}]}}}]").unwrap();
        assert!(all_off.profiles[0].plugins.iter().all(|s| !s.score && s.filter));
    }

    #[test]
    fn dynamic_resources_is_accepted_and_can_be_disabled() {
        let r = parse(
            r#"
profiles:
  - schedulerName: no-dra
    plugins:
      multiPoint:
        disabled: [{name: DynamicResources}, {name: VolumeBinding}]
  - schedulerName: no-post-filters
    plugins:
      postFilter:
        disabled: [{name: '*'}]
  - schedulerName: named
    plugins:
      multiPoint:
        enabled: [{name: DynamicResources}]
"#,
        )
        .unwrap();
        let flags: Vec<(bool, bool)> = r.profiles.iter().map(|p| (p.dynamic_resources, p.preemption)).collect();
        assert_eq!(flags, [(false, true), (false, false), (true, true)]);
        // multiPoint takes its filter out too; postFilter only the PostFilter.
        let defaults = default_resolved().profiles[0].plugins.clone();
        let without: Vec<PluginSpec> = defaults.iter().filter(|p| p.name != "DynamicResources").cloned().collect();
        assert_eq!(r.profiles[0].plugins, without);
        assert_eq!(r.profiles[1].plugins, defaults);
    }

    #[test]
    fn bad_configurations_name_the_field() {
        let err = |t: &str| parse(t).unwrap_err();
        assert!(err("profiles: [{schedulerName: a}, {schedulerName: a}]").contains("profiles[1].schedulerName: Duplicate value: \"a\""));
        assert!(err("profiles: [{}]").contains("profiles[0].schedulerName: Required value"));
        assert!(err("percentageOfNodesToScore: 101").contains("percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"));
        assert!(err("podInitialBackoffSeconds: 0").contains("podInitialBackoffSeconds: Invalid value: 0: must be greater than 0"));
        assert!(err("podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2").contains("podMaxBackoffSeconds: Invalid value: 2"));
        assert!(
            err("profiles: [{schedulerName: a, plugins: {filter: {enabled: [{name: Nope}]}}}]")
                .contains("profiles[0].plugins.filter.enabled[0].name: Invalid value: \"Nope\": plugin does not exist")
        );
        assert!(
            err("profiles: [{schedulerName: a, plugins: {multiPoint: {enabled: [{name: VolumeBinding}]}}}]")
                .contains("plugin not implemented by rudder-scheduler")
        );
        assert!(
            err("profiles: [{schedulerName: a, plugins: {score: {enabled: [{name: ImageLocality, weight: 0}]}}}]")
                .contains("profiles[0].plugins.score.enabled[0].weight: Invalid value: 0")
        );
        assert!(
            err("profiles: [{schedulerName: a, pluginConfig: [{name: NodeAffinity}, {name: NodeAffinity}]}]")
                .contains("profiles[0].pluginConfig[1].name: Duplicate value: \"NodeAffinity\"")
        );
        assert!(err("kind: Pod").contains("kind: Unsupported value: \"Pod\""));
        assert!(err("profile: []").contains("unknown field `profile`"), "{}", err("profile: []"));
        assert!(err("profiles: [{schedulerName: a, plugins: {filters: {}}}]").contains("unknown field `filters`"));
    }
}
