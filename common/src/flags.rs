//! The flags every Rudder binary takes, with the same names and defaults
//! everywhere, and the way bad values are reported: one line naming the
//! flag, exit status 2.
//!
//! A binary flattens [`CommonArgs`] into its own clap parser and calls
//! [`parse_or_exit`]:
//!
//! ```
//! #[derive(clap::Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     common: rudder_common::flags::CommonArgs,
//! }
//! use clap::Parser;
//! let args = Args::try_parse_from(["rudder-x", "--kube-api-qps", "50"]).unwrap();
//! assert_eq!(args.common.kube_api_qps, 50.0);
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, ValueEnum};

/// An address to serve on, or nothing (`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    Disabled,
    At(SocketAddr),
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The flags shared by every binary.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Path to a kubeconfig; without it, the in-cluster config, else
    /// KUBECONFIG or ~/.kube/config.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// Address of the /metrics endpoint; "0" disables it.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080", value_parser = parse_bind)]
    pub metrics_bind_address: Bind,

    /// Address of the /healthz and /readyz endpoints; "0" disables them.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8081", value_parser = parse_bind)]
    pub health_probe_bind_address: Bind,

    /// Take a Lease before acting, so that one replica acts at a time.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,

    /// How long a standby waits after the last renewal before taking over.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub leader_elect_lease_duration: Duration,

    /// How long the leader tries to renew before it stops acting.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub leader_elect_renew_deadline: Duration,

    /// How often candidates try to take or renew the lease.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub leader_elect_retry_period: Duration,

    /// Name of the Lease; defaults to the binary's name.
    #[arg(long, value_name = "NAME")]
    pub leader_elect_resource_name: Option<String>,

    /// Namespace of the Lease; defaults to POD_NAMESPACE, else kube-system.
    #[arg(long, value_name = "NAMESPACE")]
    pub leader_elect_resource_namespace: Option<String>,

    /// Requests per second to the API server, on average.
    #[arg(long, value_name = "QPS", default_value_t = 20.0, value_parser = parse_qps)]
    pub kube_api_qps: f64,

    /// Requests that may go at once above the average rate.
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub kube_api_burst: u32,

    /// Log format; the level comes from RUST_LOG (default info).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl CommonArgs {
    /// Checks what a single flag's parser cannot: the leader-election
    /// durations against each other, as client-go does. The error names the
    /// flag.
    pub fn validate(&self) -> Result<(), String> {
        if self.leader_elect_lease_duration <= self.leader_elect_renew_deadline {
            return Err(format!(
                "invalid value for '--leader-elect-lease-duration': {:?} must be greater than --leader-elect-renew-deadline ({:?})",
                self.leader_elect_lease_duration, self.leader_elect_renew_deadline
            ));
        }
        // client-go's JitterFactor: the renew deadline must leave room for a jittered retry.
        if self.leader_elect_renew_deadline.as_secs_f64() <= 1.2 * self.leader_elect_retry_period.as_secs_f64() {
            return Err(format!(
                "invalid value for '--leader-elect-renew-deadline': {:?} must be greater than 1.2 x --leader-elect-retry-period ({:?})",
                self.leader_elect_renew_deadline, self.leader_elect_retry_period
            ));
        }
        Ok(())
    }

    /// The Lease's namespace.
    pub fn lease_namespace(&self) -> String {
        self.leader_elect_resource_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "kube-system".into())
    }
}

/// A binary's parser that has [`CommonArgs`] in it.
pub trait HasCommon {
    fn common(&self) -> &CommonArgs;
}

/// The first line of a clap error, without the `error: ` prefix clap adds.
pub fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// Parses the process's arguments; on a bad flag prints one line naming it
/// and exits with status 2 (help and version print as usual and exit 0).
pub fn parse_or_exit<T: Parser + HasCommon>() -> T {
    parse_or_exit_with_defaults(&[])
}

/// As [`parse_or_exit`], with other defaults for some flags, by argument id
/// (the field name: `kube_api_qps`), for binaries whose upstream
/// counterpart defaults differently (kube-scheduler: 50 QPS, burst 100).
pub fn parse_or_exit_with_defaults<T: Parser + HasCommon>(defaults: &[(&'static str, &'static str)]) -> T {
    let bin = std::env::args().next().map(|a| a.rsplit('/').next().unwrap_or_default().to_string()).unwrap_or_default();
    match parse_with_defaults::<T, _, _>(std::env::args_os(), defaults) {
        Ok(args) => match args.common().validate() {
            Ok(()) => args,
            Err(msg) => {
                eprintln!("{bin}: {msg}");
                std::process::exit(2);
            }
        },
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => e.exit(),
        Err(e) => {
            eprintln!("{bin}: {}", one_line(&e));
            std::process::exit(2);
        }
    }
}

/// Parses `args` into `T`, with `defaults` replacing the declared defaults.
pub fn parse_with_defaults<T, I, A>(args: I, defaults: &[(&'static str, &'static str)]) -> Result<T, clap::Error>
where
    T: Parser,
    I: IntoIterator<Item = A>,
    A: Into<std::ffi::OsString> + Clone,
{
    let mut cmd = T::command();
    for (id, value) in defaults {
        cmd = cmd.mut_arg(*id, |a| a.default_value(*value));
    }
    let matches = cmd.try_get_matches_from(args)?;
    T::from_arg_matches(&matches)
}

/// `0` (disabled) or `host:port`, as the upstream flags take it (`:8080`
/// means every address).
pub fn parse_bind(s: &str) -> Result<Bind, String> {
    if s == "0" {
        return Ok(Bind::Disabled);
    }
    let full = if s.starts_with(':') { format!("0.0.0.0{s}") } else { s.to_string() };
    full.parse::<SocketAddr>().map(Bind::At).map_err(|_| format!("{s:?} is not \"0\" or host:port (for example 0.0.0.0:8080)"))
}

/// A Go-style duration: `15s`, `1m30s`, `500ms`, `2h`; must be positive.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration (for example 15s, 1m30s, 500ms)");
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if num_end == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * unit;
        rest = &rest[unit_end..];
    }
    if total <= 0.0 {
        return Err(format!("{s:?} must be greater than zero"));
    }
    Ok(Duration::from_secs_f64(total))
}

fn parse_qps(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(q) if q > 0.0 && q.is_finite() => Ok(q),
        _ => Err(format!("{s:?} is not a number greater than zero")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Parser)]
    #[command(name = "rudder-test")]
    struct TestArgs {
        #[command(flatten)]
        common: CommonArgs,
    }

    fn parse(args: &[&str]) -> Result<TestArgs, String> {
        let mut all = vec!["rudder-test"];
        all.extend_from_slice(args);
        let a = TestArgs::try_parse_from(all).map_err(|e| one_line(&e))?;
        a.common.validate()?;
        Ok(a)
    }

    #[test]
    fn defaults_match_the_upstream_flags() {
        let a = parse(&[]).unwrap().common;
        assert_eq!(a.metrics_bind_address, Bind::At("0.0.0.0:8080".parse().unwrap()));
        assert_eq!(a.health_probe_bind_address, Bind::At("0.0.0.0:8081".parse().unwrap()));
        assert!(a.leader_elect);
        assert_eq!(
            (a.leader_elect_lease_duration, a.leader_elect_renew_deadline, a.leader_elect_retry_period),
            (Duration::from_secs(15), Duration::from_secs(10), Duration::from_secs(2))
        );
        assert_eq!((a.kube_api_qps, a.kube_api_burst), (20.0, 30));
        assert_eq!(a.log_format, LogFormat::Text);
    }

    #[test]
    fn values_parse_as_upstream_writes_them() {
        let a = parse(&[
            "--metrics-bind-address=0",
            "--health-probe-bind-address=:9443",
            "--leader-elect=false",
            "--leader-elect-lease-duration=1m30s",
            "--leader-elect-renew-deadline=20s",
            "--leader-elect-retry-period=500ms",
            "--kube-api-qps=2.5",
            "--kube-api-burst=5",
            "--log-format=json",
            "--kubeconfig=/tmp/kc",
        ])
        .unwrap()
        .common;
        assert_eq!(a.metrics_bind_address, Bind::Disabled);
        assert_eq!(a.health_probe_bind_address, Bind::At("0.0.0.0:9443".parse().unwrap()));
        assert!(!a.leader_elect);
        assert_eq!(a.leader_elect_lease_duration, Duration::from_secs(90));
        assert_eq!(a.leader_elect_retry_period, Duration::from_millis(500));
        assert_eq!((a.kube_api_qps, a.kube_api_burst, a.log_format), (2.5, 5, LogFormat::Json));
        assert_eq!(a.kubeconfig.as_deref(), Some(std::path::Path::new("/tmp/kc")));
    }

    #[test]
    fn bad_values_are_one_line_naming_the_flag() {
        for (args, flag) in [
            (vec!["--kube-api-qps=0"], "--kube-api-qps"),
            (vec!["--kube-api-burst=0"], "--kube-api-burst"),
            (vec!["--metrics-bind-address=everywhere"], "--metrics-bind-address"),
            (vec!["--leader-elect-lease-duration=soon"], "--leader-elect-lease-duration"),
            (vec!["--leader-elect=maybe"], "--leader-elect"),
            (vec!["--log-format=xml"], "--log-format"),
            (vec!["--leader-elect-lease-duration=5s"], "--leader-elect-lease-duration"),
            (vec!["--leader-elect-retry-period=9s"], "--leader-elect-renew-deadline"),
            (vec!["--no-such-flag"], "--no-such-flag"),
        ] {
            let e = parse(&args).unwrap_err();
            assert!(!e.contains('\n'), "{e}");
            assert!(e.contains(flag), "{args:?}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        for bad in ["", "15", "s", "-1s", "0s", "1x"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_binary_can_default_some_flags_differently() {
        let d = &[("kube_api_qps", "50"), ("kube_api_burst", "100")];
        let a: TestArgs = parse_with_defaults(["rudder-test"], d).expect("parses");
        assert_eq!((a.common.kube_api_qps, a.common.kube_api_burst), (50.0, 100));
        // Given on the command line, the flag wins.
        let a: TestArgs = parse_with_defaults(["rudder-test", "--kube-api-qps=7"], d).expect("parses");
        assert_eq!((a.common.kube_api_qps, a.common.kube_api_burst), (7.0, 100));
        // Everything else keeps its default and its validation.
        assert_eq!(a.common.log_format, LogFormat::Text);
        assert!(parse_with_defaults::<TestArgs, _, _>(["rudder-test", "--kube-api-burst=0"], d).is_err());
    }
}
