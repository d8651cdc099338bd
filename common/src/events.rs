//! An event recorder writing `events.k8s.io/v1` Events, like client-go's
//! `tools/events` recorder and broadcaster (Kubernetes v1.36).
//!
//! [`Recorder::publish`] never blocks and never fails: it builds the Event
//! (named `<regarding name>.<unix nanoseconds in hex>`, in the regarding
//! object's namespace or `default` for cluster-scoped objects, `eventTime`
//! now) and queues it to a background tokio task, which owns an
//! [`EventCache`] and does the API writes. Problems are logged with
//! `tracing`; a full queue (1,000 events, as upstream) drops the event.
//!
//! # Series
//!
//! Events with the same [`EventKey`] (regarding, related, action, reason,
//! reporting controller and instance, type and note) are *isomorphic*. The
//! first one is created; an isomorphic one within 6 minutes turns it into an
//! `EventSeries`: the existing Event is patched to `series.count: 2` and
//! `series.lastObservedTime: now`. Further repeats only count in the cache,
//! like upstream, and reach the API server when the series ends (no repeat
//! for 6 minutes), at the 30-minute refresh of running series, on
//! [`Recorder::flush`], or when the recorder shuts down. A series patch that
//! finds the Event gone (404) creates it again, series included.
//!
//! The decisions are the pure [`EventCache`] (state and time in, writes out,
//! bounded to a capacity: the least recently seen entry is evicted, its
//! pending count written first); the I/O is [`Recorder`]'s background task.
//!
//! # Deliberate differences from upstream
//!
//! * The note is part of the series key (upstream `tools/events` ignores it,
//!   so different notes were folded into the first one's series; the legacy
//!   `tools/record` recorder, which upstream controllers still use, keeps
//!   events with different messages apart, and so does this).
//! * An isomorphic event arriving more than 6 minutes after the last one
//!   starts a new Event (upstream clears its cache every 6 minutes, so its
//!   window is between 6 and 12 minutes).
//! * Notes longer than the API limit of 1,024 bytes are cut to fit, ending in
//!   ` ...` (upstream leaves that to callers, as the scheduler does; the API
//!   server would reject the event).
//! * The cache is bounded ([`DEFAULT_CACHE_CAPACITY`] entries by default).

use std::collections::HashMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

/// How long an event or series stays open for isomorphic events (upstream `finishTime`).
pub const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);
/// How often running series are written again (upstream `refreshTime`).
pub const SERIES_REFRESH: Duration = Duration::from_secs(30 * 60);
/// Events queued for the background task before `publish` drops them (upstream `maxQueuedEvents`).
pub const MAX_QUEUED_EVENTS: usize = 1000;
/// Entries the series cache holds by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;
/// The API server's limit on `note`, in bytes (upstream `NoteLengthLimit`).
pub const NOTE_LENGTH_LIMIT: usize = 1024;
/// Attempts per write before giving up (upstream `maxTriesPerEvent`).
pub const MAX_TRIES_PER_EVENT: u32 = 12;
/// The pause before retrying a failed write, jittered by up to 25% (upstream `defaultSleepDuration`).
pub const RETRY_SLEEP: Duration = Duration::from_secs(10);

/// The type of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Nothing to worry about.
    Normal,
    /// Something may need attention.
    Warning,
}

impl EventType {
    /// `"Normal"` or `"Warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// An object reference to `obj` (apiVersion, kind, namespace, name, uid and
/// resourceVersion, as upstream `reference.GetReference`).
pub fn object_reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    let meta = obj.meta();
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}

/// The reporting instance upstream derives for a controller: `<controller>-<hostname>`.
pub fn default_reporting_instance(reporting_controller: &str) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    format!("{reporting_controller}-{host}")
}

/// Cuts `note` to [`NOTE_LENGTH_LIMIT`] bytes (at a character boundary),
/// ending it in ` ...` when it was cut.
pub fn truncate_note(note: &str) -> String {
    if note.len() <= NOTE_LENGTH_LIMIT {
        return note.to_string();
    }
    const SUFFIX: &str = " ...";
    let mut end = NOTE_LENGTH_LIMIT - SUFFIX.len();
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{SUFFIX}", &note[..end])
}

/// The event name suffix: the time in nanoseconds since the epoch, in hex (upstream `%x` of `UnixNano`).
fn name_suffix(now: Timestamp) -> String {
    let n = now.as_nanosecond();
    if n < 0 { format!("-{:x}", n.unsigned_abs()) } else { format!("{n:x}") }
}

/// Builds the Event `publish` sends (upstream `makeEvent`), at time `now`.
#[allow(clippy::too_many_arguments)]
pub fn new_event(
    regarding: &ObjectReference,
    related: Option<&ObjectReference>,
    type_: EventType,
    reason: &str,
    action: &str,
    note: &str,
    reporting_controller: &str,
    reporting_instance: &str,
    now: Timestamp,
) -> Event {
    let regarding_name = regarding.name.as_deref().unwrap_or_default();
    let namespace = regarding.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or("default");
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{regarding_name}.{}", name_suffix(now))),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        event_time: Some(MicroTime(now)),
        series: None,
        reporting_controller: Some(reporting_controller.to_string()),
        reporting_instance: Some(reporting_instance.to_string()),
        action: Some(action.to_string()),
        reason: Some(reason.to_string()),
        regarding: Some(regarding.clone()),
        related: related.cloned(),
        note: Some(truncate_note(note)),
        type_: Some(type_.as_str().to_string()),
        ..Default::default()
    }
}

/// The fields of an object reference, for keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct RefKey([String; 7]);

impl RefKey {
    fn of(r: Option<&ObjectReference>) -> RefKey {
        let Some(r) = r else { return RefKey::default() };
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        RefKey([s(&r.api_version), s(&r.kind), s(&r.namespace), s(&r.name), s(&r.uid), s(&r.resource_version), s(&r.field_path)])
    }
}

/// What makes events isomorphic: the same regarding and related objects
/// (all their fields), action, reason, reporting controller and instance,
/// type and note.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey {
    regarding: RefKey,
    related: RefKey,
    action: String,
    reason: String,
    reporting_controller: String,
    reporting_instance: String,
    type_: String,
    note: String,
}

impl EventKey {
    /// The key of `event`.
    pub fn of(event: &Event) -> EventKey {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        EventKey {
            regarding: RefKey::of(event.regarding.as_ref()),
            related: RefKey::of(event.related.as_ref()),
            action: s(&event.action),
            reason: s(&event.reason),
            reporting_controller: s(&event.reporting_controller),
            reporting_instance: s(&event.reporting_instance),
            type_: s(&event.type_),
            note: s(&event.note),
        }
    }
}

/// A write the cache asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum EventWrite {
    /// Create this new Event.
    Create(Event),
    /// Patch the `series` of this existing Event (create it, series
    /// included, if it is gone).
    Series(Event),
}

impl EventWrite {
    /// The Event written.
    pub fn event(&self) -> &Event {
        match self {
            EventWrite::Create(e) | EventWrite::Series(e) => e,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    event: Event,
    /// The series has counts the API server has not seen yet.
    unwritten: bool,
}

impl Entry {
    /// When an isomorphic event was last seen.
    fn last_seen(&self) -> Timestamp {
        match &self.event.series {
            Some(s) => s.last_observed_time.0,
            None => self.event.event_time.as_ref().map(|t| t.0).unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }

    /// True when the entry is older than [`SERIES_WINDOW`] at `now`.
    fn expired(&self, now: Timestamp) -> bool {
        let window = SignedDuration::try_from(SERIES_WINDOW).unwrap_or(SignedDuration::MAX);
        now.checked_sub(window).is_ok_and(|limit| self.last_seen() < limit)
    }
}

/// The series bookkeeping of the recorder: which events were seen and when,
/// and which API writes that calls for. Pure: time is passed in.
#[derive(Debug, Clone)]
pub struct EventCache {
    entries: HashMap<EventKey, Entry>,
    capacity: usize,
}

impl Default for EventCache {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_CAPACITY)
    }
}

impl EventCache {
    /// A cache of at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        EventCache { entries: HashMap::new(), capacity: capacity.max(1) }
    }

    /// The number of cached events and series.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The cached Event (with its series, if any) isomorphic to `event`.
    pub fn get(&self, event: &Event) -> Option<&Event> {
        self.entries.get(&EventKey::of(event)).map(|e| &e.event)
    }

    /// Records that `event` happened at `now` and returns the writes to do:
    /// a create for a new event; a series patch (count 2) for the first
    /// repeat; nothing for later repeats (counted, written later).
    pub fn observe(&mut self, event: Event, now: Timestamp) -> Vec<EventWrite> {
        let mut writes = Vec::new();
        let key = EventKey::of(&event);
        if let Some(entry) = self.entries.get_mut(&key) {
            if !entry.expired(now) {
                let observed = MicroTime(now);
                match &mut entry.event.series {
                    Some(series) => {
                        series.count = series.count.saturating_add(1);
                        series.last_observed_time = observed;
                        entry.unwritten = true;
                    }
                    None => {
                        entry.event.series = Some(EventSeries { count: 2, last_observed_time: observed });
                        entry.unwritten = false;
                        writes.push(EventWrite::Series(entry.event.clone()));
                    }
                }
                return writes;
            }
            if let Some(old) = self.entries.remove(&key)
                && old.unwritten
            {
                writes.push(EventWrite::Series(old.event));
            }
        }
        if self.entries.len() >= self.capacity {
            writes.extend(self.finish(now));
        }
        while self.entries.len() >= self.capacity {
            let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.last_seen()).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(old) = self.entries.remove(&oldest)
                && old.unwritten
            {
                writes.push(EventWrite::Series(old.event));
            }
        }
        self.entries.insert(key, Entry { event: event.clone(), unwritten: false });
        writes.push(EventWrite::Create(event));
        writes
    }

    /// Ends what is older than [`SERIES_WINDOW`] at `now` (upstream
    /// `finishSeries`): forgets it, and returns the final writes of series
    /// with counts not written yet.
    pub fn finish(&mut self, now: Timestamp) -> Vec<EventWrite> {
        let expired: Vec<EventKey> = self.entries.iter().filter(|(_, e)| e.expired(now)).map(|(k, _)| k.clone()).collect();
        let mut writes = Vec::new();
        for key in expired {
            if let Some(old) = self.entries.remove(&key)
                && old.unwritten
            {
                writes.push(EventWrite::Series(old.event));
            }
        }
        writes
    }

    /// Writes every running series again (upstream
    /// `refreshExistingEventSeries`, which keeps them from expiring on the
    /// API server).
    pub fn refresh(&mut self) -> Vec<EventWrite> {
        let mut writes = Vec::new();
        for entry in self.entries.values_mut() {
            if entry.event.series.is_some() {
                entry.unwritten = false;
                writes.push(EventWrite::Series(entry.event.clone()));
            }
        }
        writes
    }

    /// The writes of series whose latest counts the API server has not seen.
    pub fn flush(&mut self) -> Vec<EventWrite> {
        let mut writes = Vec::new();
        for entry in self.entries.values_mut() {
            if entry.unwritten {
                entry.unwritten = false;
                writes.push(EventWrite::Series(entry.event.clone()));
            }
        }
        writes
    }
}

/// What to do after a failed write (upstream `recordEvent`'s error handling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFailure {
    /// Transient (transport, unexpected answer, or a series Event created
    /// meanwhile by another write): try again later.
    Retry,
    /// The server rejected it, or the request cannot be built: give up.
    Drop,
}

/// Classifies a failed write of a series (`series`) or plain event.
pub fn classify_failure(err: &kube::Error, series: bool) -> WriteFailure {
    match err {
        kube::Error::Api(status) if status.is_already_exists() => {
            if series {
                WriteFailure::Retry
            } else {
                WriteFailure::Drop
            }
        }
        kube::Error::Api(_) | kube::Error::BuildRequest(_) | kube::Error::HttpError(_) => WriteFailure::Drop,
        _ => WriteFailure::Retry,
    }
}

/// Whether a rejected write is logged at debug level rather than as an error:
/// an event that already exists, or one refused because its namespace is
/// terminating (upstream logs both at V(5): nothing is wrong, the namespace
/// is going away with everything in it).
pub fn quiet_rejection(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.is_already_exists()) || crate::errors::has_status_cause(err, "NamespaceTerminating")
}

/// Settings of a [`Recorder`].
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// Events queued before `publish` drops them.
    pub queue_capacity: usize,
    /// Entries of the series cache.
    pub cache_capacity: usize,
    /// The pause before a retry (jittered by up to 25%).
    pub retry_sleep: Duration,
    /// Attempts per write.
    pub max_tries: u32,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        RecorderOptions {
            queue_capacity: MAX_QUEUED_EVENTS,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            retry_sleep: RETRY_SLEEP,
            max_tries: MAX_TRIES_PER_EVENT,
        }
    }
}

enum Command {
    Publish(Box<Event>),
    Flush(oneshot::Sender<()>),
}

/// Publishes events for one controller. Cheap to clone; the background task
/// ends (after writing pending series counts) when the last clone is dropped.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Command>,
    reporting_controller: String,
    reporting_instance: String,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("reporting_controller", &self.reporting_controller)
            .field("reporting_instance", &self.reporting_instance)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder for `reporting_controller` (such as
    /// `"replicaset-controller"`) and `reporting_instance` (see
    /// [`default_reporting_instance`]), with default options. Must be called
    /// inside a tokio runtime; outside one, it logs an error and every
    /// publish is dropped.
    pub fn new(client: Client, reporting_controller: impl Into<String>, reporting_instance: impl Into<String>) -> Recorder {
        Self::with_options(client, reporting_controller, reporting_instance, RecorderOptions::default())
    }

    /// Like [`Recorder::new`], with options.
    pub fn with_options(
        client: Client,
        reporting_controller: impl Into<String>,
        reporting_instance: impl Into<String>,
        options: RecorderOptions,
    ) -> Recorder {
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let recorder = Recorder { tx, reporting_controller: reporting_controller.into(), reporting_instance: reporting_instance.into() };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(run(client, rx, options));
            }
            Err(_) => tracing::error!(
                controller = %recorder.reporting_controller,
                "event recorder created outside a tokio runtime; events will be dropped"
            ),
        }
        recorder
    }

    /// The reporting controller of the events.
    pub fn reporting_controller(&self) -> &str {
        &self.reporting_controller
    }

    /// The reporting instance of the events.
    pub fn reporting_instance(&self) -> &str {
        &self.reporting_instance
    }

    /// Queues an event about `regarding` (and `related`, if any). Never
    /// blocks and never fails: a full queue drops the event with a warning.
    pub fn publish(
        &self,
        regarding: &ObjectReference,
        related: Option<&ObjectReference>,
        type_: EventType,
        reason: &str,
        action: &str,
        note: &str,
    ) {
        let event = new_event(
            regarding,
            related,
            type_,
            reason,
            action,
            note,
            &self.reporting_controller,
            &self.reporting_instance,
            Timestamp::now(),
        );
        tracing::debug!(
            object = %format!("{}/{}", regarding.namespace.as_deref().unwrap_or_default(), regarding.name.as_deref().unwrap_or_default()),
            kind = regarding.kind.as_deref().unwrap_or_default(), type_ = type_.as_str(), reason, action, note,
            "event occurred"
        );
        match self.tx.try_send(Command::Publish(Box::new(event))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(reason, "event queue is full; dropping the event");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!(reason, "event recorder is not running; dropping the event");
            }
        }
    }

    /// Waits until every event published before has been handled (written
    /// once, or scheduled for a retry) and pending series counts are
    /// written. For tests and orderly shutdowns.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// A write waiting for its next attempt.
struct Retry {
    write: EventWrite,
    tries: u32,
}

/// The background task: the cache, the periodic finish and refresh, the writes.
async fn run(client: Client, mut rx: mpsc::Receiver<Command>, options: RecorderOptions) {
    let mut cache = EventCache::new(options.cache_capacity);
    let (retry_tx, mut retry_rx) = mpsc::unbounded_channel::<Retry>();
    let start = tokio::time::Instant::now();
    let mut finish = tokio::time::interval_at(start + SERIES_WINDOW, SERIES_WINDOW);
    finish.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut refresh = tokio::time::interval_at(start + SERIES_REFRESH, SERIES_REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let writes = tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Command::Publish(event)) => cache.observe(*event, Timestamp::now()),
                Some(Command::Flush(ack)) => {
                    for w in cache.flush() {
                        attempt(&client, w, 1, &options, &retry_tx).await;
                    }
                    let _ = ack.send(());
                    continue;
                }
                None => break,
            },
            Some(retry) = retry_rx.recv() => {
                attempt(&client, retry.write, retry.tries, &options, &retry_tx).await;
                continue;
            }
            _ = finish.tick() => cache.finish(Timestamp::now()),
            _ = refresh.tick() => cache.refresh(),
        };
        for w in writes {
            attempt(&client, w, 1, &options, &retry_tx).await;
        }
    }
    // Every recorder is gone: write what the API server has not seen yet.
    for w in cache.flush() {
        if let Err(e) = write_event(&client, &w).await {
            tracing::warn!(error = %e, "unable to write the final count of an event series");
        }
    }
}

/// One attempt of a write; schedules a retry when that makes sense.
async fn attempt(client: &Client, write: EventWrite, tries: u32, options: &RecorderOptions, retry_tx: &mpsc::UnboundedSender<Retry>) {
    let Err(err) = write_event(client, &write).await else {
        return;
    };
    let series = matches!(write, EventWrite::Series(_));
    let name = write.event().metadata.name.clone().unwrap_or_default();
    match classify_failure(&err, series) {
        WriteFailure::Drop => {
            if quiet_rejection(&err) {
                tracing::debug!(event = %name, error = %err, "server rejected event (will not retry)");
            } else {
                tracing::error!(event = %name, error = %err, "server rejected event (will not retry)");
            }
        }
        WriteFailure::Retry if tries >= options.max_tries => {
            tracing::error!(event = %name, error = %err, "unable to write event (retry limit exceeded)");
        }
        WriteFailure::Retry => {
            tracing::warn!(event = %name, error = %err, "unable to write event (may retry after sleeping)");
            let delay = jitter(options.retry_sleep);
            let tx = retry_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = tx.send(Retry { write, tries: tries + 1 });
            });
        }
    }
}

/// `d` plus up to 25% (upstream `wait.Jitter(d, 0.25)`).
fn jitter(d: Duration) -> Duration {
    let r = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
    d.mul_f64(1.0 + 0.25 * r)
}

/// The strategic merge patch that sets `series` (what upstream's two-way
/// merge patch between the event without and with its series amounts to).
pub fn series_patch(event: &Event) -> serde_json::Value {
    json!({ "series": event.series })
}

/// Does one write against the API server.
async fn write_event(client: &Client, write: &EventWrite) -> Result<(), kube::Error> {
    let event = write.event();
    let ns = event.metadata.namespace.as_deref().unwrap_or("default");
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    if let EventWrite::Series(ev) = write {
        let name = ev.metadata.name.as_deref().unwrap_or_default();
        match api.patch(name, &PatchParams::default(), &Patch::Strategic(series_patch(ev))).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    let mut fresh = event.clone();
    fresh.metadata.resource_version = None;
    api.create(&PostParams::default(), &fresh).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn pod_ref(name: &str) -> ObjectReference {
        ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            namespace: Some("ns".into()),
            name: Some(name.into()),
            uid: Some(format!("{name}-uid")),
            ..Default::default()
        }
    }

    fn ev(name: &str, reason: &str, note: &str, at: &str) -> Event {
        new_event(&pod_ref(name), None, EventType::Normal, reason, "Create", note, "replicaset-controller", "rs-1", t(at))
    }

    #[test]
    fn events_are_built_like_upstream() {
        let rs = ObjectReference {
            api_version: Some("apps/v1".into()),
            kind: Some("ReplicaSet".into()),
            namespace: Some("prod".into()),
            name: Some("web".into()),
            ..Default::default()
        };
        let related = pod_ref("web-1");
        let at = t("2024-05-01T12:00:00.123456789Z");
        let e =
            new_event(&rs, Some(&related), EventType::Warning, "FailedCreate", "Create", "boom", "replicaset-controller", "rs-host", at);
        assert_eq!(e.metadata.name.as_deref(), Some(format!("web.{:x}", at.as_nanosecond()).as_str()));
        assert_eq!(e.metadata.name.as_deref(), Some("web.17cb5b99ffbf4d15"));
        assert_eq!(e.metadata.namespace.as_deref(), Some("prod"));
        assert_eq!(e.event_time, Some(MicroTime(at)));
        assert_eq!(e.type_.as_deref(), Some("Warning"));
        assert_eq!(e.reason.as_deref(), Some("FailedCreate"));
        assert_eq!(e.action.as_deref(), Some("Create"));
        assert_eq!(e.note.as_deref(), Some("boom"));
        assert_eq!(e.reporting_controller.as_deref(), Some("replicaset-controller"));
        assert_eq!(e.reporting_instance.as_deref(), Some("rs-host"));
        assert_eq!(e.regarding.as_ref(), Some(&rs));
        assert_eq!(e.related.as_ref(), Some(&related));
        assert!(e.series.is_none());
        // Cluster-scoped objects report to the default namespace.
        let node =
            ObjectReference { kind: Some("Node".into()), name: Some("n1".into()), namespace: Some(String::new()), ..Default::default() };
        let e = new_event(&node, None, EventType::Normal, "R", "A", "", "c", "i", at);
        assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(e.type_.as_deref(), Some("Normal"));
        // Serialized eventTime is a MicroTime.
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["eventTime"], "2024-05-01T12:00:00.123456Z");
        // Times before the epoch do not break names.
        assert_eq!(name_suffix(t("1969-12-31T23:59:59Z")), "-3b9aca00");
    }

    #[test]
    fn object_reference_of_a_resource() {
        let pod = k8s_openapi::api::core::v1::Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                uid: Some("u".into()),
                resource_version: Some("7".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = object_reference(&pod);
        assert_eq!(
            (r.api_version.as_deref(), r.kind.as_deref(), r.namespace.as_deref(), r.name.as_deref(), r.uid.as_deref()),
            (Some("v1"), Some("Pod"), Some("ns"), Some("p"), Some("u"))
        );
        assert_eq!(r.resource_version.as_deref(), Some("7"));
        assert!(default_reporting_instance("replicaset-controller").starts_with("replicaset-controller-"));
    }

    #[test]
    fn long_notes_are_cut_to_the_limit() {
        assert_eq!(truncate_note("short"), "short");
        let exact = "x".repeat(NOTE_LENGTH_LIMIT);
        assert_eq!(truncate_note(&exact), exact);
        let long = "y".repeat(5000);
        let cut = truncate_note(&long);
        assert_eq!(cut.len(), NOTE_LENGTH_LIMIT);
        assert!(cut.ends_with(" ..."));
        // Multi-byte characters are never split.
        let wide = "é".repeat(1000);
        let cut = truncate_note(&wide);
        assert!(cut.len() <= NOTE_LENGTH_LIMIT);
        assert!(cut.ends_with("é ..."));
    }

    #[test]
    fn keys_cover_the_isomorphic_fields() {
        let a = ev("p", "Created", "n", "2024-05-01T12:00:00Z");
        let b = ev("p", "Created", "n", "2024-05-01T12:00:05Z");
        assert_eq!(EventKey::of(&a), EventKey::of(&b));
        assert_ne!(EventKey::of(&a), EventKey::of(&ev("p", "Killed", "n", "2024-05-01T12:00:00Z")));
        assert_ne!(EventKey::of(&a), EventKey::of(&ev("q", "Created", "n", "2024-05-01T12:00:00Z")));
        assert_ne!(EventKey::of(&a), EventKey::of(&ev("p", "Created", "other", "2024-05-01T12:00:00Z")));
        let mut c = a.clone();
        c.type_ = Some("Warning".into());
        assert_ne!(EventKey::of(&a), EventKey::of(&c));
        let mut c = a.clone();
        c.action = Some("Delete".into());
        assert_ne!(EventKey::of(&a), EventKey::of(&c));
        let mut c = a.clone();
        c.reporting_controller = Some("other".into());
        assert_ne!(EventKey::of(&a), EventKey::of(&c));
        let mut c = a.clone();
        c.reporting_instance = Some("other".into());
        assert_ne!(EventKey::of(&a), EventKey::of(&c));
        let mut c = a.clone();
        c.related = Some(pod_ref("x"));
        assert_ne!(EventKey::of(&a), EventKey::of(&c));
        // No related object and an empty one are the same, as upstream.
        c.related = Some(ObjectReference::default());
        assert_eq!(EventKey::of(&a), EventKey::of(&c));
        let mut c = a.clone();
        if let Some(r) = c.regarding.as_mut() {
            r.resource_version = Some("9".into());
        }
        assert_ne!(EventKey::of(&a), EventKey::of(&c));
    }

    #[test]
    fn repeats_become_a_series() {
        let mut cache = EventCache::default();
        let first = ev("p", "Created", "n", "2024-05-01T12:00:00Z");
        let w = cache.observe(first.clone(), t("2024-05-01T12:00:00Z"));
        assert_eq!(w, vec![EventWrite::Create(first.clone())]);
        // The second one patches the first Event into a series of 2.
        let w = cache.observe(ev("p", "Created", "n", "2024-05-01T12:01:00Z"), t("2024-05-01T12:01:00Z"));
        assert_eq!(w.len(), 1);
        let EventWrite::Series(series) = &w[0] else { panic!("expected a series write, got {w:?}") };
        assert_eq!(series.metadata.name, first.metadata.name);
        assert_eq!(series.event_time, first.event_time);
        assert_eq!(series.series, Some(EventSeries { count: 2, last_observed_time: MicroTime(t("2024-05-01T12:01:00Z")) }));
        assert_eq!(series_patch(series), json!({"series": {"count": 2, "lastObservedTime": "2024-05-01T12:01:00.000000Z"}}));
        // Later ones only count.
        assert!(cache.observe(ev("p", "Created", "n", "2024-05-01T12:02:00Z"), t("2024-05-01T12:02:00Z")).is_empty());
        assert!(cache.observe(ev("p", "Created", "n", "2024-05-01T12:03:00Z"), t("2024-05-01T12:03:00Z")).is_empty());
        assert_eq!(cache.get(&first).and_then(|e| e.series.as_ref()).map(|s| s.count), Some(4));
        // flush writes the pending count once.
        let w = cache.flush();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].event().series.as_ref().map(|s| s.count), Some(4));
        assert!(cache.flush().is_empty());
        // A different reason is a different event.
        let other = ev("p", "Deleted", "n", "2024-05-01T12:03:30Z");
        assert_eq!(cache.observe(other.clone(), t("2024-05-01T12:03:30Z")), vec![EventWrite::Create(other)]);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn the_window_is_six_minutes_after_the_last_observation() {
        let mut cache = EventCache::default();
        cache.observe(ev("p", "R", "n", "2024-05-01T12:00:00Z"), t("2024-05-01T12:00:00Z"));
        // Exactly six minutes later still joins (upstream: strictly before now-6m ends it).
        let w = cache.observe(ev("p", "R", "n", "2024-05-01T12:06:00Z"), t("2024-05-01T12:06:00Z"));
        assert!(matches!(w.as_slice(), [EventWrite::Series(_)]));
        cache.observe(ev("p", "R", "n", "2024-05-01T12:10:00Z"), t("2024-05-01T12:10:00Z"));
        // The series is kept alive by each observation; after 6 idle minutes a new Event starts,
        // and the old series' pending count (3) is written first.
        let late = ev("p", "R", "n", "2024-05-01T12:16:01Z");
        let w = cache.observe(late.clone(), t("2024-05-01T12:16:01Z"));
        assert_eq!(w.len(), 2);
        assert!(matches!(&w[0], EventWrite::Series(e) if e.series.as_ref().map(|s| s.count) == Some(3)));
        assert_eq!(w[1], EventWrite::Create(late));
        // A singleton older than the window starts over with a create, no write for the old one.
        let mut cache = EventCache::default();
        cache.observe(ev("p", "R", "n", "2024-05-01T12:00:00Z"), t("2024-05-01T12:00:00Z"));
        let again = ev("p", "R", "n", "2024-05-01T12:06:01Z");
        assert_eq!(cache.observe(again.clone(), t("2024-05-01T12:06:01Z")), vec![EventWrite::Create(again)]);
    }

    #[test]
    fn finish_and_refresh() {
        let mut cache = EventCache::default();
        cache.observe(ev("single", "R", "n", "2024-05-01T12:00:00Z"), t("2024-05-01T12:00:00Z"));
        cache.observe(ev("series", "R", "n", "2024-05-01T12:00:00Z"), t("2024-05-01T12:00:00Z"));
        cache.observe(ev("series", "R", "n", "2024-05-01T12:01:00Z"), t("2024-05-01T12:01:00Z"));
        cache.observe(ev("series", "R", "n", "2024-05-01T12:02:00Z"), t("2024-05-01T12:02:00Z"));
        // Refresh writes every running series, pending or not.
        let w = cache.refresh();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].event().series.as_ref().map(|s| s.count), Some(3));
        assert!(cache.flush().is_empty());
        assert_eq!(cache.refresh().len(), 1);
        // Nothing has ended at 12:05:59.
        assert!(cache.finish(t("2024-05-01T12:05:59Z")).is_empty());
        assert_eq!(cache.len(), 2);
        cache.observe(ev("series", "R", "n", "2024-05-01T12:07:30Z"), t("2024-05-01T12:07:30Z"));
        cache.observe(ev("fresh", "R", "n", "2024-05-01T12:09:00Z"), t("2024-05-01T12:09:00Z"));
        // At 12:13:31 the singleton (12:00) and the series (last seen 12:07:30) have ended;
        // the series' pending count is written.
        let w = cache.finish(t("2024-05-01T12:13:31Z"));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].event().series.as_ref().map(|s| s.count), Some(4));
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&ev("fresh", "R", "n", "2024-05-01T12:09:00Z")).is_some());
        assert!(cache.refresh().is_empty());
        // An ended series with nothing pending is forgotten without a write.
        cache.observe(ev("fresh", "R", "n", "2024-05-01T12:10:00Z"), t("2024-05-01T12:10:00Z"));
        assert!(cache.finish(t("2024-05-01T12:20:00Z")).is_empty());
        assert!(cache.is_empty());
    }

    #[test]
    fn the_cache_is_bounded() {
        let mut cache = EventCache::new(2);
        cache.observe(ev("a", "R", "n", "2024-05-01T12:00:00Z"), t("2024-05-01T12:00:00Z"));
        cache.observe(ev("a", "R", "n", "2024-05-01T12:00:10Z"), t("2024-05-01T12:00:10Z"));
        cache.observe(ev("a", "R", "n", "2024-05-01T12:00:20Z"), t("2024-05-01T12:00:20Z"));
        cache.observe(ev("b", "R", "n", "2024-05-01T12:00:30Z"), t("2024-05-01T12:00:30Z"));
        // A third key evicts the least recently seen entry (a, with a pending count of 3).
        let c = ev("c", "R", "n", "2024-05-01T12:00:40Z");
        let w = cache.observe(c.clone(), t("2024-05-01T12:00:40Z"));
        assert_eq!(w.len(), 2);
        assert!(matches!(&w[0], EventWrite::Series(e) if e.series.as_ref().map(|s| s.count) == Some(3)));
        assert_eq!(w[1], EventWrite::Create(c));
        assert_eq!(cache.len(), 2);
        // Expired entries go first when full.
        let d = ev("d", "R", "n", "2024-05-01T13:00:00Z");
        assert_eq!(cache.observe(d.clone(), t("2024-05-01T13:00:00Z")), vec![EventWrite::Create(d)]);
        assert_eq!(cache.len(), 1);
        // Capacity 0 is treated as 1.
        let mut tiny = EventCache::new(0);
        tiny.observe(ev("a", "R", "n", "2024-05-01T12:00:00Z"), t("2024-05-01T12:00:00Z"));
        tiny.observe(ev("b", "R", "n", "2024-05-01T12:00:00Z"), t("2024-05-01T12:00:00Z"));
        assert_eq!(tiny.len(), 1);
        assert!(!tiny.is_empty());
    }

    #[test]
    fn events_without_times_never_panic() {
        let mut cache = EventCache::default();
        let mut e = Event::default();
        cache.observe(e.clone(), t("2024-05-01T12:00:00Z"));
        e.event_time = None;
        // Without an eventTime the entry counts as seen at the epoch: expired, so a new create.
        assert!(matches!(cache.observe(e, t("2024-05-01T12:00:00Z")).as_slice(), [EventWrite::Create(_)]));
        assert!(cache.finish(Timestamp::MIN).is_empty());
        assert_eq!(cache.finish(Timestamp::MAX).len(), 0);
        assert!(cache.is_empty());
    }

    #[test]
    fn failures_are_classified_like_upstream() {
        let api = |code: u16, reason: &str| kube::Error::Api(Box::new(Status::failure("m", reason).with_code(code)));
        assert_eq!(classify_failure(&api(409, "AlreadyExists"), true), WriteFailure::Retry);
        assert_eq!(classify_failure(&api(409, "AlreadyExists"), false), WriteFailure::Drop);
        assert_eq!(classify_failure(&api(422, "Invalid"), false), WriteFailure::Drop);
        assert_eq!(classify_failure(&api(403, "Forbidden"), true), WriteFailure::Drop);
        assert_eq!(classify_failure(&api(500, "InternalError"), false), WriteFailure::Drop);
        let serde = kube::Error::SerdeError(serde_json::from_str::<u8>("x").expect_err("not a number"));
        assert_eq!(classify_failure(&serde, false), WriteFailure::Retry);
        assert_eq!(classify_failure(&kube::Error::LinesCodecMaxLineLengthExceeded, false), WriteFailure::Retry);
    }

    #[test]
    fn rejections_in_a_terminating_namespace_are_quiet_like_upstream() {
        let terminating: Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 403, "reason": "Forbidden",
            "message": "events \"e\" is forbidden: unable to create new content in namespace ns because it is being terminated",
            "details": {"name": "e", "kind": "events", "causes": [{"reason": "NamespaceTerminating",
                "message": "namespace ns is being terminated", "field": "metadata.namespace"}]}
        }))
        .expect("status");
        let terminating = kube::Error::Api(Box::new(terminating));
        assert_eq!(classify_failure(&terminating, false), WriteFailure::Drop);
        assert!(quiet_rejection(&terminating));
        assert!(quiet_rejection(&kube::Error::Api(Box::new(Status::failure("m", "AlreadyExists").with_code(409)))));
        assert!(!quiet_rejection(&kube::Error::Api(Box::new(Status::failure("m", "Forbidden").with_code(403)))));
        assert!(!quiet_rejection(&kube::Error::Api(Box::new(Status::failure("m", "Invalid").with_code(422)))));
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(10) && d <= Duration::from_millis(12_500), "{d:?}");
        }
    }
}
