//! Completing the App-manifest flow: trading the one-time code for the new App's credentials.

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;

use super::client::Client;
use super::error::GithubError;
use super::ids::AppId;
use super::request::ApiRequest;

/// What GitHub returns once, right after someone created the App from our manifest. The
/// secrets are wrapped immediately and `Debug` does not show them.
pub struct ManifestConversion {
    pub id: AppId,
    pub slug: String,
    pub name: String,
    pub html_url: String,
    pub owner_login: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Required: gitferry's manifest always asks for webhooks, and deliveries cannot be verified
    /// without the secret, so an answer without one is a decode error.
    pub webhook_secret: SecretString,
    pub pem: SecretString,
}

/// The wire shape; lives only until it is turned into [`ManifestConversion`].
#[derive(Deserialize)]
struct Wire {
    id: AppId,
    slug: String,
    name: String,
    html_url: String,
    owner: Owner,
    client_id: String,
    client_secret: String,
    webhook_secret: String,
    pem: String,
}

#[derive(Deserialize)]
struct Owner {
    login: String,
}

impl fmt::Debug for ManifestConversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestConversion")
            .field("id", &self.id)
            .field("slug", &self.slug)
            .field("name", &self.name)
            .field("html_url", &self.html_url)
            .field("owner_login", &self.owner_login)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("webhook_secret", &"[REDACTED]")
            .field("pem", &"[REDACTED]")
            .finish()
    }
}

impl Client {
    /// `POST /app-manifests/{code}/conversions`, unauthenticated (the code is the credential).
    /// Sent even in dry-run mode: it creates nothing, it only reveals what was just created.
    pub async fn convert_manifest(&self, code: &str) -> Result<ManifestConversion, GithubError> {
        // The code arrives in a redirect's query string; keep it from reshaping the path.
        let well_formed = !code.is_empty()
            && code.len() <= 100
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(GithubError::InvalidRequest(
                "malformed manifest code".to_owned(),
            ));
        }
        let req = ApiRequest::post(format!("/app-manifests/{code}/conversions"));
        let response = self
            .send_unsuppressed(super::request::Auth::None, &req)
            .await?;
        let wire: Wire = response.json()?;
        Ok(ManifestConversion {
            id: wire.id,
            slug: wire.slug,
            name: wire.name,
            html_url: wire.html_url,
            owner_login: wire.owner.login,
            client_id: wire.client_id,
            client_secret: SecretString::from(wire.client_secret),
            webhook_secret: SecretString::from(wire.webhook_secret),
            pem: SecretString::from(wire.pem),
        })
    }
}
