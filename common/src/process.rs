//! The Prometheus process metrics (as Go's process collector exports them):
//! `process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`,
//! `process_start_time_seconds`, read from `/proc/self` at each scrape.
//! On systems without `/proc` nothing is exported.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Linux reports CPU times and start times in USER_HZ ticks, which the
/// kernel's user-space ABI fixes at 100 per second.
const TICKS_PER_SECOND: f64 = 100.0;

/// What one reading of `/proc/self` gives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub start_time_seconds: f64,
    pub resident_bytes: f64,
    pub virtual_bytes: f64,
    pub open_fds: f64,
    pub max_fds: Option<f64>,
}

/// (utime + stime in seconds, start time in ticks since boot) from `/proc/self/stat`.
pub fn parse_stat(stat: &str) -> Option<(f64, f64)> {
    // The command name (field 2) may hold spaces and parentheses: fields
    // are counted after its last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime 15, starttime 22.
    let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
    Some(((field(14)? + field(15)?) / TICKS_PER_SECOND, field(22)?))
}

/// A `Vm...:  123 kB` line of `/proc/self/status`, in bytes.
pub fn parse_status_kb(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))?;
    let kb: f64 = line[key.len() + 1..].split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024.0)
}

/// The boot time (`btime`) from `/proc/stat`, in Unix seconds.
pub fn parse_boot_time(stat: &str) -> Option<f64> {
    stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

/// The soft limit of open files from `/proc/self/limits`.
pub fn parse_max_fds(limits: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

/// Reads the current figures; None where `/proc` is missing.
pub fn read() -> Option<ProcessStats> {
    let (cpu, start_ticks) = parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let boot = parse_boot_time(&std::fs::read_to_string("/proc/stat").ok()?)?;
    Some(ProcessStats {
        cpu_seconds: cpu,
        start_time_seconds: boot + start_ticks / TICKS_PER_SECOND,
        resident_bytes: parse_status_kb(&status, "VmRSS").unwrap_or(0.0),
        virtual_bytes: parse_status_kb(&status, "VmSize").unwrap_or(0.0),
        open_fds: std::fs::read_dir("/proc/self/fd").map(|d| d.count() as f64).unwrap_or(0.0),
        max_fds: std::fs::read_to_string("/proc/self/limits").ok().as_deref().and_then(parse_max_fds),
    })
}

/// Registers with `Registry::register_collector`.
#[derive(Debug, Default)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(p) = read() else { return Ok(()) };
        let cpu = ConstCounter::new(p.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let mut gauges = vec![
            ("process_resident_memory_bytes", "Resident memory size in bytes", p.resident_bytes),
            ("process_virtual_memory_bytes", "Virtual memory size in bytes", p.virtual_bytes),
            ("process_open_fds", "Number of open file descriptors", p.open_fds),
            ("process_start_time_seconds", "Start time of the process since unix epoch in seconds", p.start_time_seconds),
        ];
        if let Some(max) = p.max_fds {
            gauges.push(("process_max_fds", "Maximum number of open file descriptors", max));
        }
        for (name, help, value) in gauges {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis.
        let stat = "4242 (rudder (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 8 0 987654 1000000 2000 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((3.0, 987654.0)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn status_limits_and_boot_time() {
        let status = "Name:\trudder\nVmSize:\t  204800 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(10_485_760.0));
        assert_eq!(parse_status_kb(status, "VmSize"), Some(209_715_200.0));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n";
        assert_eq!(parse_max_fds(limits), Some(1024.0));
        assert_eq!(parse_boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"), Some(1_700_000_000.0));
    }

    #[test]
    fn this_process_is_measured() {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(ProcessCollector));
        let (text, _) = crate::http::render_metrics(&registry, None).expect("encodes");
        if std::path::Path::new("/proc/self/stat").exists() {
            for family in
                ["process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ", "process_start_time_seconds "]
            {
                let line = text.lines().find(|l| l.starts_with(family)).unwrap_or_else(|| panic!("no {family} in\n{text}"));
                let value: f64 = line[family.len()..].parse().expect("a number");
                assert!(value > 0.0 || family.starts_with("process_cpu"), "{line}");
            }
        }
    }
}
