//! The App's identity: id plus RSA private key, and the JWT made from them.

use std::fmt;

use octocrab::jsonwebtoken::EncodingKey;
use secrecy::SecretString;

use super::error::GithubError;
use super::ids::AppId;

/// What the App authenticates with. The key never leaves this type except as a signature;
/// `Debug` shows only the App id.
#[derive(Clone)]
pub struct AppCredentials {
    app_id: AppId,
    key: EncodingKey,
}

impl AppCredentials {
    /// Reads the PEM GitHub issued for the App (PKCS#1 `RSA PRIVATE KEY` or PKCS#8).
    pub fn from_pem(app_id: impl Into<AppId>, pem: impl AsRef<[u8]>) -> Result<Self, GithubError> {
        let app_id = app_id.into();
        let key = EncodingKey::from_rsa_pem(pem.as_ref()).map_err(|e| GithubError::InvalidKey {
            reason: e.to_string(),
        })?;
        Ok(Self { app_id, key })
    }

    pub fn app_id(&self) -> AppId {
        self.app_id
    }

    /// A fresh RS256 JWT (`iss` = App id, `iat` = now − 60 s for clock drift, `exp` = now + 9
    /// min, inside GitHub's 10-minute limit), via octocrab so the claims match what GitHub
    /// documents.
    pub(crate) fn jwt(&self) -> Result<SecretString, GithubError> {
        octocrab::auth::create_jwt(octocrab::models::AppId(self.app_id.0), &self.key)
            .map(SecretString::from)
            .map_err(|e| GithubError::Auth {
                installation: None,
                status: None,
                message: format!("signing the App JWT: {e}"),
            })
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}
