//! The webhook server's metrics, named after kube-apiserver's admission
//! metrics for the plugins these webhooks replace:
//!
//! - `apiserver_admission_controller_admission_duration_seconds{name, type, operation, rejected}`:
//!   the time to decide, per plugin (`LimitRanger`, ...), `type` `admit`
//!   (mutating) or `validate`, operation and whether it refused; upstream's
//!   buckets (5 ms to 2.5 s).
//! - `apiserver_admission_webhook_request_total{name, type, operation, code, rejected}`:
//!   the reviews answered, by the HTTP code of the answer (200 for every
//!   decision, 400 for a body that is not a review).
//! - `apiserver_admission_webhook_rejection_count{name, type, operation, rejection_code, error_type}`:
//!   the refusals, by the code of the Status sent back (403, 404, 500, ...);
//!   `error_type` is `no_error` for a decision, `calling_webhook_error`
//!   when the server could not decide (an error or a timeout). Upstream's
//!   name has no `_total`, which prometheus-client adds to every counter,
//!   so this one is exposed as a gauge that only rises (`rate()` reads it
//!   the same).

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upstream's admission duration buckets.
pub const BUCKETS: [f64; 6] = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5];

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct StepLabels {
    pub name: &'static str,
    pub kind: &'static str,
    pub operation: &'static str,
    pub rejected: bool,
}

impl EncodeLabelSet for StepLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("name", self.name).encode(encoder.encode_label())?;
        ("type", self.kind).encode(encoder.encode_label())?;
        ("operation", self.operation).encode(encoder.encode_label())?;
        ("rejected", if self.rejected { "true" } else { "false" }).encode(encoder.encode_label())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct RequestLabels {
    pub step: StepLabels,
    pub code: u16,
}

impl EncodeLabelSet for RequestLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        self.step.encode(encoder)?;
        ("code", self.code.to_string().as_str()).encode(encoder.encode_label())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct RejectionLabels {
    pub name: &'static str,
    pub kind: &'static str,
    pub operation: &'static str,
    pub rejection_code: u16,
    pub error_type: &'static str,
}

impl EncodeLabelSet for RejectionLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("name", self.name).encode(encoder.encode_label())?;
        ("type", self.kind).encode(encoder.encode_label())?;
        ("operation", self.operation).encode(encoder.encode_label())?;
        ("rejection_code", self.rejection_code.to_string().as_str()).encode(encoder.encode_label())?;
        ("error_type", self.error_type).encode(encoder.encode_label())
    }
}

#[derive(Clone)]
pub struct Metrics {
    pub duration: Family<StepLabels, Histogram>,
    pub requests: Family<RequestLabels, Counter>,
    pub rejections: Family<RejectionLabels, Gauge>,
}

impl Metrics {
    pub fn new(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            duration: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
            requests: Family::default(),
            rejections: Family::default(),
        };
        registry.register(
            "apiserver_admission_controller_admission_duration_seconds",
            "Admission controller latency histogram in seconds, identified by name and broken out for each operation and API resource and type (validate or admit).",
            m.duration.clone(),
        );
        registry.register(
            "apiserver_admission_webhook_request",
            "Admission webhook request total, identified by name and broken out for each admission type (validating or admit) and operation. Additional labels specify whether the request was rejected or not and an HTTP status code.",
            m.requests.clone(),
        );
        registry.register(
            "apiserver_admission_webhook_rejection_count",
            "Admission webhook rejection count, identified by name and broken out for each admission type (validating or admit) and operation. Additional labels specify an error type and a rejection code.",
            m.rejections.clone(),
        );
        m
    }
}
