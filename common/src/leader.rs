//! Leader election on a coordination.k8s.io/v1 Lease, with client-go's
//! semantics (`k8s.io/client-go/tools/leaderelection`):
//!
//! - A candidate tries every retry period (jittered by a factor of 1.2) to
//!   create the Lease or take it over. It takes over only when the holder is
//!   empty (released) or when the record it last saw has not changed for the
//!   record's `leaseDurationSeconds`, measured on *its own* clock from when it
//!   observed the change, so skewed clocks between nodes do not matter.
//! - Every write is an update carrying the resourceVersion that was read, so
//!   two candidates can never both win the same record.
//! - The leader renews every retry period. If no renewal succeeds within the
//!   renew deadline, it has lost: everything it runs is stopped at once, before
//!   the lease can expire for a standby (renew deadline < lease duration).
//! - On a clean shutdown the leader writes an empty holder with a one-second
//!   duration, so that a standby takes over at its next try.
//!
//! kube-lease-manager (the well-kept crate for this) was evaluated and not
//! used: it has no renew deadline (a leader that cannot reach the API server
//! keeps believing it leads), it clears an expired holder with a patch that
//! carries no precondition (two standbys can clear each other's fresh lock),
//! and it works in whole seconds against wall clocks.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// client-go's jitter factor for the acquire loop.
pub const JITTER_FACTOR: f64 = 1.2;

/// The election's parameters.
#[derive(Clone, Debug)]
pub struct ElectionConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

/// This process's identity in the election: the pod name (`POD_NAME`), else
/// the host name, plus `_` and a random suffix, as kube-controller-manager
/// does, so that a restarted process never mistakes itself for the old one.
pub fn default_identity() -> String {
    let base = std::env::var("POD_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string()))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "rudder".to_string());
    format!("{base}_{}", uuid::Uuid::new_v4())
}

/// What a candidate last saw of the Lease, and when (on its own clock).
#[derive(Clone, Debug)]
pub struct Observed {
    pub spec: LeaseSpec,
    pub at: Instant,
}

impl Observed {
    /// The record names this identity.
    pub fn held_by(&self, identity: &str) -> bool {
        self.spec.holder_identity.as_deref() == Some(identity)
    }

    /// The record has not been left unchanged for its lease duration yet.
    pub fn valid(&self, now: Instant) -> bool {
        let secs = self.spec.lease_duration_seconds.unwrap_or(0).max(0) as u64;
        self.at + Duration::from_secs(secs) > now
    }
}

/// What one try of acquiring or renewing should do, given the Lease as read.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// No Lease: create it with this record.
    Create(LeaseSpec),
    /// Write this record over the one read (with its resourceVersion).
    Update(LeaseSpec),
    /// Another candidate holds a valid lease.
    HeldBy(String),
}

/// The decision of client-go's `tryAcquireOrRenew` once the Lease is read:
/// `current` is the record as read (None: no Lease), `observed` what this
/// candidate had seen before with the time it saw it change.
pub fn decide(current: Option<&LeaseSpec>, observed: Option<&Observed>, cfg: &ElectionConfig, now: Instant, wall: Timestamp) -> Step {
    let record = |acquire: Timestamp, transitions: i32| LeaseSpec {
        holder_identity: Some(cfg.identity.clone()),
        lease_duration_seconds: Some(cfg.lease_duration.as_secs().clamp(1, i32::MAX as u64) as i32),
        acquire_time: Some(MicroTime(acquire)),
        renew_time: Some(MicroTime(wall)),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    };
    let Some(current) = current else {
        return Step::Create(record(wall, 0));
    };
    // The record as this candidate knows it: the one read, seen now if it changed.
    let seen = match observed {
        Some(o) if &o.spec == current => o.clone(),
        _ => Observed { spec: current.clone(), at: now },
    };
    let holder = current.holder_identity.clone().unwrap_or_default();
    let leading = seen.held_by(&cfg.identity);
    if !holder.is_empty() && seen.valid(now) && !leading {
        return Step::HeldBy(holder);
    }
    let transitions = current.lease_transitions.unwrap_or(0);
    if leading {
        Step::Update(record(current.acquire_time.as_ref().map(|t| t.0).unwrap_or(wall), transitions))
    } else {
        Step::Update(record(wall, transitions.saturating_add(1)))
    }
}

/// The record a leader writes when it steps down cleanly.
pub fn released(current: &LeaseSpec, wall: Timestamp) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(String::new()),
        lease_duration_seconds: Some(1),
        acquire_time: Some(MicroTime(wall)),
        renew_time: Some(MicroTime(wall)),
        lease_transitions: current.lease_transitions,
        ..LeaseSpec::default()
    }
}

/// `leader_election_master_status{name}`: 1 while this process leads.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NameLabel {
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct ElectionMetrics {
    pub master_status: Family<NameLabel, Gauge>,
}

impl ElectionMetrics {
    pub fn new(registry: &mut Registry) -> ElectionMetrics {
        let m = ElectionMetrics { master_status: Family::default() };
        registry.register(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name",
            m.master_status.clone(),
        );
        m
    }
}

/// Why running under election ended.
#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    #[error("leader election lost: no renewal of lease {0} succeeded within the renew deadline")]
    Lost(String),
}

/// A candidate in one election.
pub struct Elector {
    api: Api<Lease>,
    cfg: ElectionConfig,
    observed: Option<Observed>,
    /// The Lease as last read or written: the next update's precondition.
    lease: Option<Lease>,
    metrics: ElectionMetrics,
    health: Option<Arc<crate::http::Health>>,
}

impl Elector {
    pub fn new(client: kube::Client, cfg: ElectionConfig, metrics: ElectionMetrics) -> Elector {
        let api = Api::namespaced(client, &cfg.namespace);
        metrics.master_status.get_or_create(&NameLabel { name: cfg.name.clone() }).set(0);
        Elector { api, cfg, observed: None, lease: None, metrics, health: None }
    }

    /// Reports the election's health to `/readyz`.
    pub fn with_health(mut self, health: Arc<crate::http::Health>) -> Elector {
        self.health = Some(health);
        self
    }

    pub fn config(&self) -> &ElectionConfig {
        &self.cfg
    }

    fn leading(&self) -> bool {
        self.observed.as_ref().is_some_and(|o| o.held_by(&self.cfg.identity))
    }

    fn set_ok(&self, ok: bool) {
        if let Some(h) = &self.health {
            h.set_election_ok(ok);
        }
    }

    fn set_leading(&self, leading: bool) {
        self.metrics.master_status.get_or_create(&NameLabel { name: self.cfg.name.clone() }).set(i64::from(leading));
    }

    /// One try: true if this candidate holds the lease afterwards.
    pub async fn try_acquire_or_renew(&mut self) -> bool {
        let now = Instant::now();
        let wall = Timestamp::now();
        // Fast path: a leader whose record is still valid writes over its own last write.
        if self.leading()
            && let (Some(observed), Some(lease)) = (self.observed.clone(), self.lease.clone())
            && observed.valid(now)
            && let Step::Update(spec) = decide(Some(&observed.spec), Some(&observed), &self.cfg, now, wall)
        {
            match self.write(lease, spec, now).await {
                Ok(()) => return true,
                Err(e) => debug!(error = %e, lease = %self.cfg.name, "optimistic renewal failed; reading the lease"),
            }
        }
        let current = match self.api.get_opt(&self.cfg.name).await {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %crate::runtime::chain(&e), lease = %self.cfg.name, "cannot read the leader election lease");
                self.set_ok(self.leading());
                return false;
            }
        };
        self.set_ok(true);
        let spec = current.as_ref().map(|l| l.spec.clone().unwrap_or_default());
        let step = decide(spec.as_ref(), self.observed.as_ref(), &self.cfg, now, wall);
        if let Some(spec) = spec
            && self.observed.as_ref().is_none_or(|o| o.spec != spec)
        {
            self.observed = Some(Observed { spec, at: now });
        }
        match step {
            Step::HeldBy(holder) => {
                debug!(lease = %self.cfg.name, %holder, "lease is held by another candidate and has not expired");
                self.lease = current;
                false
            }
            Step::Create(spec) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.cfg.name.clone()),
                        namespace: Some(self.cfg.namespace.clone()),
                        ..Default::default()
                    },
                    spec: Some(spec.clone()),
                };
                match self.api.create(&PostParams::default(), &lease).await {
                    Ok(created) => {
                        self.observed = Some(Observed { spec, at: now });
                        self.lease = Some(created);
                        true
                    }
                    Err(e) => {
                        debug!(error = %e, lease = %self.cfg.name, "cannot create the lease");
                        false
                    }
                }
            }
            Step::Update(spec) => match current {
                Some(lease) => match self.write(lease, spec, now).await {
                    Ok(()) => true,
                    Err(e) => {
                        debug!(error = %e, lease = %self.cfg.name, "cannot update the lease");
                        false
                    }
                },
                None => false,
            },
        }
    }

    async fn write(&mut self, mut lease: Lease, spec: LeaseSpec, now: Instant) -> Result<(), kube::Error> {
        lease.spec = Some(spec.clone());
        let written = self.api.replace(&self.cfg.name, &PostParams::default(), &lease).await?;
        self.observed = Some(Observed { spec, at: now });
        self.lease = Some(written);
        Ok(())
    }

    /// Tries until this candidate leads, every retry period with jitter.
    /// Returns early (false) when `stop` resolves.
    pub async fn acquire(&mut self, stop: &mut (impl Future<Output = ()> + Unpin)) -> bool {
        info!(lease = %format!("{}/{}", self.cfg.namespace, self.cfg.name), identity = %self.cfg.identity, "attempting to acquire leader lease");
        loop {
            if self.try_acquire_or_renew().await {
                info!(lease = %self.cfg.name, identity = %self.cfg.identity, "successfully acquired lease");
                self.set_leading(true);
                return true;
            }
            let jittered = self.cfg.retry_period.mul_f64(1.0 + fastrand::f64() * JITTER_FACTOR);
            tokio::select! {
                _ = tokio::time::sleep(jittered) => {}
                _ = &mut *stop => return false,
            }
        }
    }

    /// Renews every retry period; returns when no renewal succeeded within
    /// the renew deadline.
    pub async fn hold(&mut self) -> ElectionError {
        loop {
            tokio::time::sleep(self.cfg.retry_period).await;
            let deadline = Instant::now() + self.cfg.renew_deadline;
            let renewed = loop {
                match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                    Ok(true) => break true,
                    Ok(false) if Instant::now() + self.cfg.retry_period < deadline => tokio::time::sleep(self.cfg.retry_period).await,
                    _ => break false,
                }
            };
            if !renewed {
                self.set_leading(false);
                self.set_ok(false);
                warn!(lease = %self.cfg.name, identity = %self.cfg.identity, "failed to renew the lease within the renew deadline");
                return ElectionError::Lost(format!("{}/{}", self.cfg.namespace, self.cfg.name));
            }
        }
    }

    /// Steps down: writes an empty holder if this candidate still leads.
    pub async fn release(&mut self) {
        self.set_leading(false);
        if !self.leading() {
            return;
        }
        let Some(lease) = self.lease.clone() else { return };
        let current = lease.spec.clone().unwrap_or_default();
        match self.write(lease, released(&current, Timestamp::now()), Instant::now()).await {
            Ok(()) => info!(lease = %self.cfg.name, identity = %self.cfg.identity, "released the lease"),
            Err(e) => warn!(error = %e, lease = %self.cfg.name, "cannot release the lease; a standby takes over when it expires"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(identity: &str) -> ElectionConfig {
        ElectionConfig {
            namespace: "kube-system".into(),
            name: "rudder-test".into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    fn wall(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).expect("timestamp")
    }

    fn held(holder: &str, transitions: i32, acquired: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            acquire_time: Some(MicroTime(wall(acquired))),
            renew_time: Some(MicroTime(wall(acquired))),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn no_lease_is_created_with_us_as_holder() {
        let now = Instant::now();
        let Step::Create(spec) = decide(None, None, &cfg("a"), now, wall(0)) else { panic!("expected create") };
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.lease_transitions, Some(0));
        assert_eq!(spec.acquire_time, Some(MicroTime(wall(0))));
        assert_eq!(spec.renew_time, Some(MicroTime(wall(0))));
    }

    #[test]
    fn a_fresh_record_of_another_holder_is_left_alone() {
        let now = Instant::now();
        let current = held("b", 3, 0);
        // First sight: the record counts as changed now, so it is valid for 15 s.
        assert_eq!(decide(Some(&current), None, &cfg("a"), now, wall(0)), Step::HeldBy("b".into()));
        // Seen unchanged since 14 s ago: still valid.
        let seen = Observed { spec: current.clone(), at: now };
        assert_eq!(decide(Some(&current), Some(&seen), &cfg("a"), now + Duration::from_secs(14), wall(100)), Step::HeldBy("b".into()));
    }

    #[test]
    fn an_expired_record_is_taken_over_with_one_more_transition() {
        let now = Instant::now();
        let current = held("b", 3, 0);
        let seen = Observed { spec: current.clone(), at: now };
        let Step::Update(spec) = decide(Some(&current), Some(&seen), &cfg("a"), now + Duration::from_secs(15), wall(20)) else {
            panic!("expected takeover")
        };
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_transitions, Some(4));
        assert_eq!(spec.acquire_time, Some(MicroTime(wall(20))));
    }

    #[test]
    fn expiry_is_measured_on_our_clock_not_the_holders_timestamps() {
        // The holder's clock is far behind (renewTime long ago), but the record
        // changed just now from our point of view: it is valid.
        let now = Instant::now();
        let old = Observed { spec: held("b", 1, -1000), at: now };
        let renewed = held("b", 1, -999);
        assert_eq!(decide(Some(&renewed), Some(&old), &cfg("a"), now + Duration::from_secs(60), wall(0)), Step::HeldBy("b".into()));
    }

    #[test]
    fn a_released_lease_is_taken_at_once() {
        let now = Instant::now();
        let current = released(&held("b", 3, 0), wall(5));
        let Step::Update(spec) = decide(Some(&current), None, &cfg("a"), now, wall(5)) else { panic!("expected takeover") };
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_transitions, Some(4));
        assert_eq!(current.holder_identity.as_deref(), Some(""));
        assert_eq!(current.lease_duration_seconds, Some(1));
    }

    #[test]
    fn the_leader_renews_keeping_acquire_time_and_transitions() {
        let now = Instant::now();
        let current = held("a", 7, 0);
        let seen = Observed { spec: current.clone(), at: now };
        let Step::Update(spec) = decide(Some(&current), Some(&seen), &cfg("a"), now + Duration::from_secs(2), wall(2)) else {
            panic!("expected renewal")
        };
        assert_eq!(spec.lease_transitions, Some(7));
        assert_eq!(spec.acquire_time, Some(MicroTime(wall(0))));
        assert_eq!(spec.renew_time, Some(MicroTime(wall(2))));
    }

    #[test]
    fn identities_are_unique_per_process_start() {
        let (a, b) = (default_identity(), default_identity());
        assert_ne!(a, b);
        assert!(a.contains('_'));
    }
}
