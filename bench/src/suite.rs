//! The suite: every scenario at one size, each run a record written to the
//! results directory (`bench/results/` by `make bench`).

use std::path::Path;

use crate::cluster::Target;
use crate::record::Record;
use crate::{admission, daemonset, deployment, hpa, job, replicaset, scheduler};

/// The scenarios, in the suite's order.
pub const SCENARIOS: [&str; 8] = [
    "sandbox-objects",
    "replicaset-scale",
    "deployment-rollout",
    "daemonset-rollout",
    "job-throughput",
    "scheduler-throughput",
    "hpa-sync",
    "admission-latency",
];

/// Where a scenario sorts in tables (unknown ones last).
pub fn order(scenario: &str) -> usize {
    SCENARIOS.iter().position(|s| *s == scenario).unwrap_or(SCENARIOS.len())
}

/// The sizes the suite runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    /// A few objects each: checks the suite end to end in seconds (tests).
    Smoke,
    /// Fits this project's CI machine (2 cores, 24 GiB): the whole suite in
    /// well under 15 minutes.
    Default,
    /// Ten times as much or more: for bigger machines.
    Large,
}

/// One run of one scenario.
pub enum Run {
    SandboxObjects { pods: usize, concurrency: usize },
    Replicaset(replicaset::Params),
    Deployment(deployment::Params),
    Daemonset(daemonset::Params),
    Job(job::Params),
    Scheduler(scheduler::Params),
    Hpa(hpa::Params),
    Admission(admission::Params),
}

impl Run {
    pub fn scenario(&self) -> &'static str {
        match self {
            Run::SandboxObjects { .. } => SCENARIOS[0],
            Run::Replicaset(_) => SCENARIOS[1],
            Run::Deployment(_) => SCENARIOS[2],
            Run::Daemonset(_) => SCENARIOS[3],
            Run::Job(_) => SCENARIOS[4],
            Run::Scheduler(_) => SCENARIOS[5],
            Run::Hpa(_) => SCENARIOS[6],
            Run::Admission(_) => SCENARIOS[7],
        }
    }

    /// Whether it can run against a real cluster.
    pub fn portable(&self) -> bool {
        !matches!(self, Run::SandboxObjects { .. } | Run::Hpa(_) | Run::Admission(_))
    }

    pub async fn run(self, target: &Target) -> anyhow::Result<Record> {
        match self {
            Run::SandboxObjects { pods, concurrency } => {
                anyhow::ensure!(target.is_sandbox(), "sandbox-objects measures the sandbox itself");
                Ok(crate::sandbox_objects(pods, concurrency).await?.record())
            }
            Run::Replicaset(p) => replicaset::run(p, target).await,
            Run::Deployment(p) => deployment::run(p, target).await,
            Run::Daemonset(p) => daemonset::run(p, target).await,
            Run::Job(p) => job::run(p, target).await,
            Run::Scheduler(p) => scheduler::run(p, target).await,
            Run::Hpa(p) => hpa::run(p, target).await,
            Run::Admission(p) => admission::run(p, target).await,
        }
    }
}

/// Simulated nodes (250 pods each) for `pods`, with room to spare.
pub fn nodes_for(pods: usize) -> usize {
    pods.div_ceil(200).max(2)
}

/// The suite's runs at `size`.
pub fn plan(size: Size, scheduler_name: &str) -> Vec<Run> {
    // (sandbox pods, replicasets x replicas, deployments x replicas, daemonset nodes,
    //  jobs x completions, scheduler nodes x pods, HPAs, admission rate x seconds)
    let (objects, (rs, rs_replicas), (deps, dep_replicas), ds_nodes, (jobs, completions), (sched_nodes, sched_pods), hpas, (rate, seconds)) =
        match size {
            Size::Smoke => (200, (3, 10), (3, 4), 4, (3, 4), (20, 60), 5, (100, 2)),
            Size::Default => (10_000, (20, 100), (50, 20), 500, (100, 20), (500, 2_000), 1_000, (1_000, 10)),
            Size::Large => (50_000, (100, 100), (100, 100), 2_000, (200, 50), (2_000, 20_000), 5_000, (3_000, 20)),
        };
    let mut runs = vec![
        Run::SandboxObjects { pods: objects, concurrency: 32 },
        Run::Replicaset(replicaset::Params { replicasets: rs, replicas: rs_replicas, nodes: nodes_for(rs * rs_replicas) }),
        // A rolling update holds up to 125% of the pods at once.
        Run::Deployment(deployment::Params { deployments: deps, replicas: dep_replicas, nodes: nodes_for(deps * dep_replicas * 5 / 4) }),
        Run::Daemonset(daemonset::Params { nodes: ds_nodes, max_unavailable: "10%".into() }),
        Run::Job(job::Params { jobs, completions, parallelism: 10.min(completions), nodes: nodes_for(jobs * 10.min(completions)) }),
    ];
    for shape in [scheduler::Shape::Plain, scheduler::Shape::Spread, scheduler::Shape::AntiAffinity] {
        let group = if size == Size::Smoke { 5 } else { 10 };
        runs.push(Run::Scheduler(scheduler::Params {
            nodes: sched_nodes,
            pods: sched_pods,
            shape,
            group,
            scheduler_name: scheduler_name.to_string(),
        }));
    }
    let sync_period = if size == Size::Smoke { 1 } else { 5 };
    runs.push(Run::Hpa(hpa::Params { hpas, nodes: nodes_for(hpas), sync_period, periods: if size == Size::Smoke { 1 } else { 3 } }));
    runs.push(Run::Admission(admission::Params { rate, seconds }));
    runs
}

/// Runs `runs` one after the other, each record printed and written to
/// `out`; a scenario that fails is reported and the suite goes on. Fails
/// at the end if any did.
pub async fn run(runs: Vec<Run>, target: &Target, out: &Path) -> anyhow::Result<()> {
    let mut failed = Vec::new();
    let total = runs.len();
    for (i, run) in runs.into_iter().enumerate() {
        let scenario = run.scenario();
        if !target.is_sandbox() && !run.portable() {
            eprintln!("[{}/{total}] {scenario}: skipped (sandbox only)", i + 1);
            continue;
        }
        eprintln!("[{}/{total}] {scenario}", i + 1);
        match run.run(target).await {
            Ok(record) => {
                print!("{record}");
                crate::record::write(out, &record)?;
            }
            Err(e) => {
                let e = rudder_common::runtime::chain(e.as_ref());
                eprintln!("[{}/{total}] {scenario} failed: {e}", i + 1);
                failed.push(format!("{scenario}: {e}"));
            }
        }
    }
    println!("results in {}", out.display());
    anyhow::ensure!(failed.is_empty(), "{} scenario(s) failed: {}", failed.len(), failed.join("; "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_runs_every_scenario_with_room_for_its_pods() {
        for size in [Size::Smoke, Size::Default, Size::Large] {
            let runs = plan(size, "rudder-scheduler");
            let mut names: Vec<&str> = runs.iter().map(Run::scenario).collect();
            names.dedup();
            assert_eq!(names, SCENARIOS, "{size:?}");
            for run in &runs {
                match run {
                    Run::Replicaset(p) => assert!(p.nodes * 250 >= p.replicasets * p.replicas),
                    Run::Deployment(p) => assert!(p.nodes * 250 >= p.deployments * p.replicas * 5 / 4),
                    Run::Job(p) => assert!(p.nodes * 250 >= p.jobs * p.parallelism),
                    Run::Hpa(p) => assert!(p.nodes * 250 >= p.hpas),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn scenarios_sort_in_suite_order() {
        assert!(order("replicaset-scale") < order("admission-latency"));
        assert_eq!(order("something-else"), SCENARIOS.len());
    }
}
