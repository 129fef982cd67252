//! Manifest text → objects: multi-document YAML (or JSON), empty documents skipped, `kind:
//! List` flattened, each object checked for the fields gitferry needs before anything talks
//! to the cluster. The text comes from the pull request's commit, so every error names where
//! it is (file, document, line) in words its author can act on.

use serde::Deserialize;
use serde_json::Value;

use super::locate::{self, Span};
use crate::deploy::DeployError;

/// One object to apply and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `deploy/preview/web.yaml, document 2` (or `… item 3` inside a `List`).
    pub origin: String,
    pub object: Value,
    /// The document's text and first line, to point at a field's line; `None` when the
    /// text could not be matched to its documents.
    pub span: Option<Span>,
}

impl Manifest {
    /// `deploy/web.yaml, document 2, line 14`: where `key` is set (to `value`, preferably),
    /// or just the origin when the line cannot be told.
    pub fn at(&self, key: &str, value: Option<&str>) -> String {
        match self.span.as_ref().and_then(|s| s.line_of(key, value)) {
            Some(line) => format!("{}, line {line}", self.origin),
            None => self.origin.clone(),
        }
    }

    pub fn api_version(&self) -> &str {
        self.field("/apiVersion")
    }

    pub fn kind(&self) -> &str {
        self.field("/kind")
    }

    pub fn name(&self) -> &str {
        self.field("/metadata/name")
    }

    /// `metadata.namespace`, when the manifest sets one.
    pub fn namespace(&self) -> Option<&str> {
        self.object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|ns| !ns.is_empty())
    }

    fn field(&self, pointer: &str) -> &str {
        self.object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The objects in one file (or in a render command's output, with `source` naming it).
/// JSON files are read as one document; everything else as a YAML stream.
pub fn parse(source: &str, text: &str, json: bool) -> Result<Vec<Manifest>, DeployError> {
    let (documents, spans) = if json {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            DeployError::Manifests(format!(
                "{source} is not valid JSON (line {}): {e}",
                e.line()
            ))
        })?;
        let whole = Span {
            first_line: 1,
            text: text.into(),
        };
        (vec![value], Some(vec![whole]))
    } else {
        let documents = yaml_documents(source, text)?;
        let spans = locate::yaml_documents(text, documents.len());
        (documents, spans)
    };
    let mut manifests = Vec::new();
    for (index, document) in documents.into_iter().enumerate() {
        let origin = format!("{source}, document {}", index + 1);
        let span = spans.as_ref().and_then(|s| s.get(index)).cloned();
        collect(origin, document, span, &mut manifests)?;
    }
    Ok(manifests)
}

fn yaml_documents(source: &str, text: &str) -> Result<Vec<Value>, DeployError> {
    let mut documents = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" at line {}", l.line()))
                .unwrap_or_default();
            DeployError::Manifests(format!(
                "{source}, document {}: the YAML cannot be read{at}: {e}",
                index + 1
            ))
        })?;
        documents.push(value);
    }
    Ok(documents)
}

/// Adds one document's objects: nothing for an empty document, the items of a `List`, else
/// the object itself once it has what an apply needs.
fn collect(
    origin: String,
    document: Value,
    span: Option<Span>,
    out: &mut Vec<Manifest>,
) -> Result<(), DeployError> {
    if document.is_null() {
        return Ok(());
    }
    if !document.is_object() {
        return Err(DeployError::Manifests(format!(
            "{origin} is not an object (a mapping with apiVersion, kind and metadata)"
        )));
    }
    if document.get("kind").and_then(Value::as_str) == Some("List") {
        let Some(items) = document.get("items").and_then(Value::as_array) else {
            return Err(DeployError::Manifests(format!(
                "{origin} is a List without an `items` array"
            )));
        };
        for (index, item) in items.iter().enumerate() {
            let origin = format!("{origin}, item {}", index + 1);
            collect(origin, item.clone(), span.clone(), out)?;
        }
        return Ok(());
    }
    let manifest = Manifest {
        origin,
        object: document,
        span,
    };
    check(&manifest)?;
    out.push(manifest);
    Ok(())
}

/// The fields gitferry reads, in a form that cannot steer a request URL elsewhere: the API
/// path is built from apiVersion, kind and name.
fn check(manifest: &Manifest) -> Result<(), DeployError> {
    let origin = &manifest.origin;
    let missing = |field: &str| {
        DeployError::Manifests(format!("{origin} has no {field} (a non-empty string)"))
    };
    let (api_version, kind, name) = (manifest.api_version(), manifest.kind(), manifest.name());
    if api_version.is_empty() {
        return Err(missing("apiVersion"));
    }
    if kind.is_empty() {
        return Err(missing("kind"));
    }
    if name.is_empty() {
        return Err(missing("metadata.name"));
    }
    if !valid_api_version(api_version) {
        return Err(DeployError::Manifests(format!(
            "{origin}: apiVersion {api_version:?} is not of the form `v1` or `group/version`"
        )));
    }
    if !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(DeployError::Manifests(format!(
            "{origin}: kind {kind:?} is not a Kubernetes kind name"
        )));
    }
    if !valid_name(name) {
        return Err(DeployError::Manifests(format!(
            "{origin}: metadata.name {name:?} is not a valid object name"
        )));
    }
    Ok(())
}

fn valid_api_version(api_version: &str) -> bool {
    let lower_alnum = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    match api_version.split_once('/') {
        None => lower_alnum(api_version),
        Some((group, version)) => {
            lower_alnum(version)
                && !group.is_empty()
                && group
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        }
    }
}

/// Names are DNS subdomains for most kinds; RBAC names may also hold `:`. Anything that could
/// change the URL (`/`, `?`, `%`, `..`) is refused here rather than by the server.
fn valid_name(name: &str) -> bool {
    name.len() <= 253
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(text: &str) -> Vec<Manifest> {
        parse("deploy/web.yaml", text, false).unwrap()
    }

    fn error(text: &str) -> String {
        parse("deploy/web.yaml", text, false)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn documents_are_read_in_order_and_empty_ones_skipped() {
        let found = objects(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n# only a comment\n\
             ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        );
        let names: Vec<_> = found.iter().map(|m| (m.kind(), m.name())).collect();
        assert_eq!(names, [("ConfigMap", "a"), ("Deployment", "web")]);
        assert_eq!(found[0].origin, "deploy/web.yaml, document 1");
        assert_eq!(found[1].origin, "deploy/web.yaml, document 4");
    }

    #[test]
    fn lists_are_flattened() {
        let found = objects(
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n\
             - {apiVersion: v1, kind: Secret, metadata: {name: b}}\n",
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].origin, "deploy/web.yaml, document 1, item 2");
    }

    #[test]
    fn json_files_are_one_document() {
        let found = parse(
            "deploy/cm.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"x"}}"#,
            true,
        )
        .unwrap();
        assert_eq!(found[0].namespace(), Some("x"));
        let bad = parse("deploy/cm.json", "{\n\"a\": }", true)
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("deploy/cm.json is not valid JSON (line 2)"),
            "{bad}"
        );
    }

    #[test]
    fn broken_yaml_names_the_file_document_and_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n data: x\n";
        let message = error(text);
        assert!(
            message.starts_with("the manifests cannot be used: deploy/web.yaml, document 1"),
            "{message}"
        );
        assert!(message.contains("at line 5"), "{message}");
    }

    #[test]
    fn objects_without_identity_are_refused() {
        assert!(
            error("kind: ConfigMap\nmetadata: {name: a}\n")
                .contains("document 1 has no apiVersion")
        );
        assert!(error("apiVersion: v1\nmetadata: {name: a}\n").contains("has no kind"));
        assert!(error("apiVersion: v1\nkind: ConfigMap\n").contains("has no metadata.name"));
        assert!(error("- a\n- b\n").contains("is not an object"));
    }

    #[test]
    fn fields_that_would_reach_the_url_must_be_plain() {
        let bad_name =
            error("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ../../secrets/x}\n");
        assert!(
            bad_name.contains("is not a valid object name"),
            "{bad_name}"
        );
        let bad_version =
            error("apiVersion: apps/v1/namespaces\nkind: Deployment\nmetadata: {name: a}\n");
        assert!(bad_version.contains("is not of the form"), "{bad_version}");
        assert!(error("apiVersion: v1\nkind: Config Map\nmetadata: {name: a}\n").contains("kind"));
        objects(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: 'system:x'}\n",
        );
    }
}
