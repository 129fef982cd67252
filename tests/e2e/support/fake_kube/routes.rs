//! The single entry point: every request is logged, may be answered by a scripted fault, and
//! is otherwise routed by its path the way the API server lays out its URLs.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};

use super::catalog;
use super::model::{KubeRequest, Shared};
use super::objects::{self, Call};
use super::status::KubeError;

/// What the handlers need besides the model.
#[derive(Clone, Debug)]
pub struct Server {
    pub shared: Shared,
    /// `127.0.0.1:PORT`, for `serverAddressByClientCIDRs`.
    pub address: String,
}

pub async fn handle(
    State(server): State<Server>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fault = server.shared.lock().take_fault(method.as_str(), &path);
    let response = match fault {
        Some(code) => KubeError::new(
            code,
            format!("Internal error occurred: injected fault ({code})"),
        )
        .into_response(),
        None => {
            let query = Query::<HashMap<String, String>>::try_from_uri(&uri)
                .map(|q| q.0)
                .unwrap_or_default();
            let call = Call {
                method: &method,
                query: &query,
                content_type: content_type.as_deref(),
                body: &body,
            };
            match route(&server, &path, &call) {
                Ok(response) => response,
                Err(error) => error.into_response(),
            }
        }
    };
    server.shared.lock().requests.push(KubeRequest {
        method: method.to_string(),
        path,
        query: uri.query().filter(|q| !q.is_empty()).map(str::to_string),
        content_type,
        status: response.status().as_u16(),
    });
    response
}

fn route(server: &Server, path: &str, call: &Call<'_>) -> Result<Response, KubeError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let get = *call.method == Method::GET;
    let found = |doc: Option<serde_json::Value>| {
        doc.map(|d| Json(d).into_response())
            .ok_or_else(KubeError::no_route)
    };
    match segments.as_slice() {
        ["version"] if get => Ok(Json(catalog::version_info()).into_response()),
        ["api"] if get => Ok(Json(catalog::core_versions(&server.address)).into_response()),
        ["api", version] if get => found(catalog::resource_list("", version)),
        ["apis"] if get => Ok(Json(catalog::group_list()).into_response()),
        ["apis", group] if get => found(catalog::group(group)),
        ["apis", group, version] if get => found(catalog::resource_list(group, version)),
        ["api", version, rest @ ..] if !rest.is_empty() => {
            objects::serve(&server.shared, "", version, rest, call)
        }
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            objects::serve(&server.shared, group, version, rest, call)
        }
        _ => Err(KubeError::no_route()),
    }
}
