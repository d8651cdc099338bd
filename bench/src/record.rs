//! The one output format of every benchmark: a [`Record`] per run, kept
//! as JSON, rendered as text for the terminal, as a row of the Markdown
//! table that `bench/results/README.md` holds, and as a plot of how the run
//! converged over time ([`crate::plot`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The figures of one run of one scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// `replicaset-scale`, `scheduler-throughput`, …
    pub scenario: String,
    /// A variant of the scenario (`spread` for the scheduler), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The size parameters, as given (`replicasets` → `20`).
    pub size: BTreeMap<String, String>,
    /// `sandbox`, or `kubeconfig <path>` for a real cluster.
    pub target: String,
    /// When the run started (RFC 3339).
    pub started: String,
    /// The CPUs this machine has.
    pub cpus: usize,
    /// Seconds until the scenario converged (its last phase); None: it
    /// did not within the deadline.
    pub converged_seconds: Option<f64>,
    /// Every timed phase, in order.
    pub phases: Vec<Phase>,
    /// What the API server allows, measured in the same run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<Ceiling>,
    /// The components under test.
    pub components: Vec<Component>,
    /// The API server's own cost (the sandbox's; unknown on a real cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_server: Option<Component>,
    /// Further figures of the scenario (latency percentiles, CPU per sync).
    #[serde(default)]
    pub figures: Vec<Figure>,
    /// Convergence over time, for the plot.
    #[serde(default)]
    pub series: Vec<Series>,
}

/// One timed phase.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Phase {
    pub name: String,
    /// None: it did not finish within the deadline.
    pub seconds: Option<f64>,
}

/// The API server's ceiling: a raw client doing only the writes the
/// scenario cannot do without, as fast as the server takes them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Ceiling {
    /// `2000 pod creates, 2000 bindings`.
    pub writes: String,
    pub seconds: f64,
    /// The run's convergence time over the ceiling's (1.0: the
    /// components cost nothing beyond the API server's own limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
}

/// What one process cost during the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Component {
    pub name: String,
    pub cpu_seconds: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    /// API requests made, by HTTP method (`rest_client_requests_total`).
    #[serde(default)]
    pub api_requests: BTreeMap<String, u64>,
}

/// A named figure.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// Shown in the Markdown table too.
    #[serde(default)]
    pub headline: bool,
}

/// A line of the plot: `(seconds since the start, value)` points.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Series {
    /// `pods ready`.
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Record {
    /// A record of `scenario` started now against `target`.
    pub fn new(scenario: &str, variant: Option<&str>, size: &[(&str, String)], target: &str) -> Record {
        Record {
            scenario: scenario.into(),
            variant: variant.map(Into::into),
            size: size.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect(),
            target: target.into(),
            started: jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now()).to_string(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ..Record::default()
        }
    }

    /// Records a phase; the last one recorded is the run's convergence.
    pub fn phase(&mut self, name: &str, took: Option<std::time::Duration>) {
        let seconds = took.map(|d| d.as_secs_f64());
        self.phases.push(Phase { name: name.into(), seconds });
        self.converged_seconds = seconds;
    }

    /// Adds a figure.
    pub fn figure(&mut self, name: &str, value: f64, unit: &str, headline: bool) {
        self.figures.push(Figure { name: name.into(), value, unit: unit.into(), headline });
    }

    /// Sets the ceiling and the ratio to it.
    pub fn set_ceiling(&mut self, writes: String, seconds: f64) {
        let ratio = self.converged_seconds.map(|c| c / seconds.max(1e-6));
        self.ceiling = Some(Ceiling { writes, seconds, ratio });
    }

    /// `replicaset-scale`, `scheduler-throughput-spread`: the files' stem.
    pub fn id(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}-{v}", self.scenario),
            None => self.scenario.clone(),
        }
    }

    /// `replicasets=20, replicas=100`.
    pub fn size_text(&self) -> String {
        self.size.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    }
}

/// `1.23 s` (`–` for none).
fn seconds(v: Option<f64>) -> String {
    v.map_or_else(|| "did not converge".into(), |s| format!("{s:.2} s"))
}

fn opt(v: Option<f64>, unit: &str, precision: usize) -> String {
    v.map_or_else(|| "unknown".into(), |v| format!("{v:.precision$} {unit}"))
}

/// `1234 (GET 12, POST 1222)`; `none` when nothing was counted.
pub fn requests_text(by_method: &BTreeMap<String, u64>) -> String {
    if by_method.is_empty() {
        return "none".into();
    }
    let total: u64 = by_method.values().sum();
    let each: Vec<String> = by_method.iter().map(|(m, n)| format!("{m} {n}")).collect();
    format!("{total} ({})", each.join(", "))
}

fn figure_text(f: &Figure) -> String {
    let value = if f.value.abs() >= 100.0 || f.value.fract() == 0.0 { format!("{:.0}", f.value) } else { format!("{:.2}", f.value) };
    if f.unit.is_empty() { format!("{} {value}", f.name) } else { format!("{} {value} {}", f.name, f.unit) }
}

impl std::fmt::Display for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} ({}) on {}", self.id(), self.size_text(), self.target)?;
        for p in &self.phases {
            writeln!(f, "  {:<44} {}", p.name, seconds(p.seconds))?;
        }
        if let Some(c) = &self.ceiling {
            let ratio = c.ratio.map_or_else(String::new, |r| format!("; run / ceiling = {r:.2}"));
            writeln!(f, "  {:<44} {:.2} s  ({}{ratio})", "API server ceiling", c.seconds, c.writes)?;
        }
        for fig in &self.figures {
            writeln!(f, "  {}", figure_text(fig))?;
        }
        for c in &self.components {
            writeln!(
                f,
                "  {:<29} CPU {}, peak RSS {}, API requests {}",
                c.name,
                opt(c.cpu_seconds, "s", 2),
                opt(c.peak_rss_mib, "MiB", 1),
                requests_text(&c.api_requests)
            )?;
        }
        if let Some(c) = &self.api_server {
            writeln!(f, "  {:<29} CPU {}, peak RSS {}", c.name, opt(c.cpu_seconds, "s", 2), opt(c.peak_rss_mib, "MiB", 1))?;
        }
        Ok(())
    }
}

/// The Markdown table of `records`: a row per component of each run, the
/// run's own figures on its first row.
pub fn markdown_table(records: &[Record]) -> String {
    let mut out = String::from(
        "| scenario | size | converged | API server ceiling | ratio | component | CPU | peak RSS | API requests | figures |\n\
         |---|---|---:|---:|---:|---|---:|---:|---|---|\n",
    );
    for r in records {
        let ceiling = r.ceiling.as_ref().map_or_else(|| "n/a".into(), |c| format!("{:.2} s ({})", c.seconds, c.writes));
        let ratio = r.ceiling.as_ref().and_then(|c| c.ratio).map_or_else(|| "n/a".into(), |x| format!("{x:.2}"));
        let figures: Vec<String> = r.figures.iter().filter(|f| f.headline).map(figure_text).collect();
        let first = [
            format!("`{}`", r.id()),
            r.size_text(),
            r.converged_seconds.map_or_else(|| "**no**".into(), |s| format!("{s:.2} s")),
            ceiling,
            ratio,
        ];
        let components: Vec<&Component> = r.components.iter().collect();
        let rows = components.len().max(1);
        for i in 0..rows {
            let lead = if i == 0 { first.clone() } else { Default::default() };
            let (name, cpu, rss, req) = match components.get(i) {
                Some(c) => (c.name.clone(), opt(c.cpu_seconds, "s", 2), opt(c.peak_rss_mib, "MiB", 1), requests_text(&c.api_requests)),
                None => ("–".into(), String::new(), String::new(), String::new()),
            };
            let figs = if i == 0 { figures.join("; ") } else { String::new() };
            out.push_str(&format!("| {} | {name} | {cpu} | {rss} | {req} | {figs} |\n", lead.join(" | ")));
        }
    }
    out
}

/// Writes `record` into `dir` as `<id>.json` and its plot as `<id>.svg`
/// (when it has a series), then rewrites `dir/README.md`: the table of
/// every record in `dir`.
pub fn write(dir: &Path, record: &Record) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(record)?;
    std::fs::write(dir.join(format!("{}.json", record.id())), json + "\n")?;
    if record.series.iter().any(|s| !s.points.is_empty()) {
        crate::plot::svg(record, &dir.join(format!("{}.svg", record.id())))?;
    }
    let records = read_all(dir)?;
    std::fs::write(dir.join("README.md"), results_readme(&records))?;
    Ok(())
}

/// Every record in `dir` (its `*.json`), in the suite's order.
pub fn read_all(dir: &Path) -> anyhow::Result<Vec<Record>> {
    let mut records = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path)?;
            records.push(serde_json::from_str::<Record>(&text).with_context(|| format!("{} is not a benchmark record", path.display()))?);
        }
    }
    records.sort_by(|a, b| {
        (crate::suite::order(&a.scenario), &a.started, a.id()).cmp(&(crate::suite::order(&b.scenario), &b.started, b.id()))
    });
    Ok(records)
}

/// `bench/results/README.md`: how the figures were made, then the table.
pub fn results_readme(records: &[Record]) -> String {
    let mut out = String::from(
        "# Benchmark results\n\n\
         Written by `rudder-bench` (`make bench` runs the suite; see `bench/README.md`). One JSON record per run \
         next to this file, a plot of each run's convergence (`<scenario>.svg`). *converged*: seconds until the \
         scenario's end state was reached; *API server ceiling*: a raw client doing only the writes the scenario \
         cannot do without, as fast as the same API server takes them, in the same run; *ratio*: converged / ceiling. \
         CPU and peak RSS are each component's own; API requests are its `rest_client_requests_total`, by method.\n\n",
    );
    let mut targets: Vec<String> = records.iter().map(|r| format!("{} ({} CPUs)", r.target, r.cpus)).collect();
    targets.dedup();
    if !targets.is_empty() {
        out.push_str(&format!("Target: {}. Runs from {} to {}.\n\n", targets.join(", "), first_started(records), last_started(records)));
    }
    out.push_str(&markdown_table(records));
    out
}

/// The markers of the table in a README that [`update_readme`] rewrites.
pub const TABLE_START: &str = "<!-- rudder-bench table: written by `make bench` -->";
pub const TABLE_END: &str = "<!-- end of rudder-bench table -->";

/// Rewrites what lies between [`TABLE_START`] and [`TABLE_END`] in `text`
/// with the date line and table of `records`; an error if the markers are
/// missing.
pub fn update_readme(text: &str, records: &[Record]) -> anyhow::Result<String> {
    let start = text.find(TABLE_START).context("the README has no rudder-bench table marker")? + TABLE_START.len();
    let end = text[start..].find(TABLE_END).context("the README's rudder-bench table has no end marker")? + start;
    let table = format!(
        "\nRuns of {} to {} on {} ({} CPUs):\n\n{}",
        first_started(records),
        last_started(records),
        records.first().map_or("-", |r| r.target.as_str()),
        records.first().map_or(0, |r| r.cpus),
        markdown_table(records)
    );
    Ok(format!("{}{table}{}", &text[..start], &text[end..]))
}

fn first_started(records: &[Record]) -> String {
    records.iter().map(|r| r.started.as_str()).min().unwrap_or_default().to_string()
}

fn last_started(records: &[Record]) -> String {
    records.iter().map(|r| r.started.as_str()).max().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let mut r = Record::new("replicaset-scale", None, &[("replicasets", "2".into()), ("replicas", "3".into())], "sandbox");
        r.phase("created → all pods Ready", Some(std::time::Duration::from_millis(2500)));
        r.set_ceiling("6 pod creates".into(), 0.5);
        r.figure("pods/s", 2.4, "", true);
        r.components.push(Component {
            name: "rudder-replicaset-controller".into(),
            cpu_seconds: Some(0.25),
            peak_rss_mib: Some(12.0),
            api_requests: [("POST".to_string(), 6), ("PUT".to_string(), 2)].into_iter().collect(),
        });
        r.components.push(Component { name: "rudder-scheduler".into(), ..Component::default() });
        r.series.push(Series { name: "pods ready".into(), points: vec![(0.0, 0.0), (2.5, 6.0)] });
        r
    }

    #[test]
    fn the_ratio_is_convergence_over_ceiling() {
        let r = sample();
        assert_eq!(r.converged_seconds, Some(2.5));
        assert_eq!(r.ceiling.as_ref().and_then(|c| c.ratio), Some(5.0));
        let mut never = Record::default();
        never.phase("x", None);
        never.set_ceiling("1 pod create".into(), 1.0);
        assert_eq!(never.ceiling.and_then(|c| c.ratio), None);
    }

    #[test]
    fn a_record_survives_json() {
        let r = sample();
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn the_table_has_a_row_per_component_and_the_run_figures_once() {
        let t = markdown_table(&[sample()]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[2].starts_with("| `replicaset-scale` | replicas=3, replicasets=2 | 2.50 s | 0.50 s (6 pod creates) | 5.00 |"), "{t}");
        assert!(lines[2].contains("| rudder-replicaset-controller | 0.25 s | 12.0 MiB | 8 (POST 6, PUT 2) | pods/s 2.40 |"), "{t}");
        assert!(lines[3].starts_with("|  |  |  |  |  | rudder-scheduler | unknown | unknown | none |"), "{t}");
        // Every row has as many cells as the header.
        let cells = |l: &str| l.matches('|').count();
        assert!(lines.iter().all(|l| cells(l) == cells(lines[0])), "{t}");
    }

    #[test]
    fn the_text_names_every_phase_and_component() {
        let text = sample().to_string();
        assert!(text.starts_with("replicaset-scale (replicas=3, replicasets=2) on sandbox\n"), "{text}");
        assert!(text.contains("created → all pods Ready") && text.contains("2.50 s"), "{text}");
        assert!(text.contains("run / ceiling = 5.00"), "{text}");
        assert!(text.contains("rudder-scheduler              CPU unknown"), "{text}");
    }

    #[test]
    fn the_readme_table_is_rewritten_between_its_markers() {
        let text = format!("# R\n\n{TABLE_START}\nold table\n{TABLE_END}\n\nafter\n");
        let new = update_readme(&text, &[sample()]).unwrap();
        assert!(new.starts_with(&format!("# R\n\n{TABLE_START}\nRuns of ")), "{new}");
        assert!(!new.contains("old table") && new.contains("| `replicaset-scale` |"), "{new}");
        assert!(new.ends_with(&format!("|\n{TABLE_END}\n\nafter\n")), "{new}");
        assert_eq!(update_readme(&new, &[sample()]).unwrap(), new);
        assert!(update_readme("# no markers", &[]).is_err());
    }

    #[test]
    fn results_are_written_read_back_and_tabled() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &sample()).unwrap();
        let mut other = sample();
        other.scenario = "scheduler-throughput".into();
        other.variant = Some("spread".into());
        write(dir.path(), &other).unwrap();
        let all = read_all(dir.path()).unwrap();
        assert_eq!(all.iter().map(Record::id).collect::<Vec<_>>(), ["replicaset-scale", "scheduler-throughput-spread"]);
        let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
        assert!(readme.contains("`scheduler-throughput-spread`") && readme.contains("`replicaset-scale`"), "{readme}");
        let svg = std::fs::read_to_string(dir.path().join("replicaset-scale.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("pods ready"), "{svg}");
        std::fs::write(dir.path().join("junk.json"), "{").unwrap();
        assert!(read_all(dir.path()).unwrap_err().to_string().contains("junk.json"));
    }
}
