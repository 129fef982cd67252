//! How API answers become [`DeployError`]s, and the waiting that honours cancellation.
//!
//! A refusal by the API server (a `Status`) is [`DeployError::Cluster`] with the server's own
//! words and the object it was about; failing to reach the server at all is
//! [`DeployError::ClusterAccess`], so the PR says "cannot reach the cluster" rather than
//! blaming the manifests.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::deploy::DeployError;

/// The error for a failed call about `what` (e.g. `applying apps/v1 Deployment web`).
pub fn error(what: &str, error: kube::Error) -> DeployError {
    match error {
        kube::Error::Api(status) => {
            let message = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            DeployError::Cluster(format!("{what}: {message} (HTTP {})", status.code))
        }
        error @ (kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::Auth(_)) => {
            DeployError::ClusterAccess(format!("{what}: {}", chain(&error)))
        }
        error => DeployError::Cluster(format!("{what}: {}", chain(&error))),
    }
}

/// Whether the call failed because the object does not exist.
pub fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

/// Whether the call failed with this HTTP status.
pub fn has_code(error: &kube::Error, code: u16) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == code)
}

/// An error and its causes, `outer: inner: innermost`, so "connection refused" is not lost
/// behind "client error (Connect)".
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

pub fn check_cancelled(cancel: &CancellationToken) -> Result<(), DeployError> {
    if cancel.is_cancelled() {
        Err(DeployError::Cancelled)
    } else {
        Ok(())
    }
}

/// Runs `work` unless `cancel` fires first.
pub async fn or_cancelled<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, DeployError>>,
) -> Result<T, DeployError> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(DeployError::Cancelled),
        result = work => result,
    }
}

/// Sleeps, unless cancelled.
pub async fn pause(cancel: &CancellationToken, interval: Duration) -> Result<(), DeployError> {
    or_cancelled(cancel, async {
        tokio::time::sleep(interval).await;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    #[test]
    fn a_refusal_keeps_the_servers_words_and_the_object() {
        let status = Status::failure("configmaps \"web\" is forbidden", "Forbidden").with_code(403);
        let err = error(
            "applying v1 ConfigMap web",
            kube::Error::Api(status.boxed()),
        );
        assert_eq!(
            err.to_string(),
            "the Kubernetes API refused: applying v1 ConfigMap web: configmaps \"web\" is \
             forbidden (HTTP 403)"
        );
    }

    #[tokio::test]
    async fn a_cancelled_pause_returns_cancelled() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let result = pause(&cancel, Duration::from_secs(60)).await;
        assert!(matches!(result, Err(DeployError::Cancelled)));
    }
}
