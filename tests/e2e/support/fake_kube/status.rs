//! Error answers as the API server writes them: a `meta/v1` `Status` with `status: Failure`,
//! a human message, a machine `reason` and the HTTP code, so kube-rs surfaces them as
//! `kube::Error::Api` exactly as it would against a real cluster.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::catalog::Resource;

#[derive(Clone, Debug)]
pub struct KubeError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details` as the server fills it for object errors (`name`, `group`, `kind`).
    pub details: Option<Value>,
}

impl KubeError {
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        KubeError {
            code,
            reason: reason_for(code),
            message: message.into(),
            details: None,
        }
    }

    /// `configmaps "web" not found`.
    pub fn not_found(resource: &Resource, name: &str) -> Self {
        let mut err = Self::new(
            404,
            format!("{} \"{name}\" not found", resource.qualified()),
        );
        err.details = Some(details(resource, name));
        err
    }

    /// A path that names nothing the server serves.
    pub fn no_route() -> Self {
        Self::new(404, "the server could not find the requested resource")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// Creating content in a namespace that is being deleted.
    pub fn namespace_terminating(resource: &Resource, name: &str, namespace: &str) -> Self {
        let mut err = Self::new(
            403,
            format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace \
                 {namespace} because it is being terminated",
                resource.qualified()
            ),
        );
        let mut d = details(resource, name);
        d["causes"] = json!([{
            "reason": "NamespaceTerminating",
            "message": format!("namespace {namespace} is being terminated"),
            "field": "metadata.namespace",
        }]);
        err.details = Some(d);
        err
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            body["details"] = d.clone();
        }
        body
    }
}

fn details(resource: &Resource, name: &str) -> Value {
    json!({ "name": name, "group": resource.group, "kind": resource.plural })
}

/// The `reason` the real server pairs with each code.
pub fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        504 => "Timeout",
        503 => "ServiceUnavailable",
        _ => "InternalError",
    }
}

impl IntoResponse for KubeError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}
