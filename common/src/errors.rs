//! Reading API errors as upstream controllers do (apimachinery's `errors`
//! package), and the error a controller's sync returns.

/// A readable message for a kube error: the API server's Status message for
/// API errors (what upstream's `err.Error()` gives, and so what goes into
/// conditions and events), else the error with its causes.
pub fn message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => crate::runtime::chain(other),
    }
}

/// True for an API answer with this HTTP code (404: `IsNotFound`, 409:
/// `IsAlreadyExists`/`IsConflict`).
pub fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// Whether the API's Status carries a cause with this reason (upstream
/// `HasStatusCause`), e.g. `NamespaceTerminating` for creates refused in a
/// namespace being deleted.
pub fn has_status_cause(e: &kube::Error, reason: &str) -> bool {
    matches!(e, kube::Error::Api(s) if s.details.as_ref().is_some_and(|d| d.causes.iter().any(|c| c.reason == reason)))
}

/// Why a sync failed: logged by the error policy, and the object retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncError(pub String);

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SyncError {}

impl From<kube::Error> for SyncError {
    fn from(e: kube::Error) -> Self {
        SyncError(message(&e))
    }
}

impl From<crate::controller_ref::ClaimError> for SyncError {
    fn from(e: crate::controller_ref::ClaimError) -> Self {
        SyncError(e.to_string())
    }
}

/// The errors of a claim pass, one message (upstream aggregates them).
impl From<Vec<crate::controller_ref::ClaimError>> for SyncError {
    fn from(errs: Vec<crate::controller_ref::ClaimError>) -> Self {
        SyncError(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str, causes: &[&str]) -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "code": code, "message": message,
            "details": {"causes": causes.iter().map(|r| serde_json::json!({"reason": r})).collect::<Vec<_>>()}
        }))
        .unwrap();
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn api_errors_read_like_upstream() {
        let e = api(
            403,
            "pods \"web-\" is forbidden: unable to create new content in namespace ns because it is being terminated",
            &["NamespaceTerminating"],
        );
        assert_eq!(message(&e), "pods \"web-\" is forbidden: unable to create new content in namespace ns because it is being terminated");
        assert!(is_status(&e, 403) && !is_status(&e, 404));
        assert!(has_status_cause(&e, "NamespaceTerminating"));
        assert!(!has_status_cause(&api(403, "no", &[]), "NamespaceTerminating"));
        assert_eq!(
            SyncError::from(e).to_string(),
            "pods \"web-\" is forbidden: unable to create new content in namespace ns because it is being terminated"
        );
    }
}
