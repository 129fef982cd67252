//! Credentials: the App's JWT (RS256, checked like GitHub does) and installation tokens.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderMap;
use chrono::Utc;
use octocrab::jsonwebtoken::{self, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use super::api::ApiError;
use super::log::AuthUsed;
use super::model::Model;

pub const PRIVATE_KEY_PEM: &str = include_str!("../../../fixtures/test-app-key.pem");
pub const PUBLIC_KEY_PEM: &str = include_str!("../../../fixtures/test-app-key.pub.pem");

const JWT_UNDECODABLE: &str = "A JSON web token could not be decoded";

/// Who a request is, once its credentials were checked.
#[derive(Clone, Debug)]
pub enum Auth {
    Anonymous,
    App,
    Installation(TokenAuth),
}

#[derive(Clone, Debug)]
pub struct TokenAuth {
    pub installation_id: u64,
    /// Repository keys the token was scoped to, if it was.
    pub repos: Option<BTreeSet<String>>,
    pub permissions: BTreeMap<String, String>,
}

impl Auth {
    pub fn used(&self) -> AuthUsed {
        match self {
            Auth::Anonymous => AuthUsed::None,
            Auth::App => AuthUsed::Jwt,
            Auth::Installation(t) => AuthUsed::Installation(t.installation_id),
        }
    }

    /// The rate-limit bucket of this caller.
    pub fn rate_key(&self) -> String {
        match self {
            Auth::Anonymous => "anonymous".to_string(),
            Auth::App => "app".to_string(),
            Auth::Installation(t) => format!("installation:{}", t.installation_id),
        }
    }

    pub fn require_app(&self) -> Result<(), ApiError> {
        match self {
            Auth::App => Ok(()),
            _ => Err(ApiError::new(401, JWT_UNDECODABLE)),
        }
    }

    pub fn require_installation(&self) -> Result<&TokenAuth, ApiError> {
        match self {
            Auth::Installation(t) => Ok(t),
            Auth::App => Err(ApiError::new(403, "Resource not accessible by integration")),
            Auth::Anonymous => Err(ApiError::new(401, "Requires authentication")),
        }
    }
}

/// Checks the `Authorization` header. Err is the answer GitHub gives to bad credentials.
pub fn authenticate(m: &Model, headers: &HeaderMap) -> Result<Auth, ApiError> {
    let Some(value) = headers.get("authorization") else {
        return Ok(Auth::Anonymous);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::bad_credentials())?
        .trim();
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    let credential = credential.trim();
    let is_jwt = credential.split('.').count() == 3;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" if is_jwt => verify_jwt(m, credential).map(|_| Auth::App),
        "bearer" | "token" => token_auth(m, credential).map(Auth::Installation),
        _ => Err(ApiError::bad_credentials()),
    }
}

/// What the request log records for these headers.
pub fn auth_used(result: &Result<Auth, ApiError>) -> AuthUsed {
    match result {
        Ok(auth) => auth.used(),
        Err(_) => AuthUsed::Invalid,
    }
}

fn verify_jwt(m: &Model, token: &str) -> Result<(), ApiError> {
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY_PEM.as_bytes())
        .expect("tests/fixtures/test-app-key.pub.pem is a valid RSA public key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|_| ApiError::new(401, JWT_UNDECODABLE))?
        .claims;
    let iss = match &claims["iss"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if iss != Some(m.app.id) {
        return Err(ApiError::new(401, JWT_UNDECODABLE));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err(ApiError::new(401, JWT_UNDECODABLE));
    };
    let now = Utc::now().timestamp();
    if exp <= now {
        return Err(ApiError::new(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    }
    if exp - iat > 600 {
        return Err(ApiError::new(
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    if iat > now + 60 {
        return Err(ApiError::new(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    Ok(())
}

fn token_auth(m: &Model, token: &str) -> Result<TokenAuth, ApiError> {
    let issued = m.tokens.get(token).ok_or_else(ApiError::bad_credentials)?;
    if issued.expires_at <= Utc::now() {
        return Err(ApiError::bad_credentials());
    }
    let installation = m
        .installations
        .get(&issued.installation_id)
        .ok_or_else(ApiError::bad_credentials)?;
    if installation.suspended {
        return Err(ApiError::new(403, "This installation has been suspended"));
    }
    Ok(TokenAuth {
        installation_id: issued.installation_id,
        repos: issued.repos.clone(),
        permissions: issued.permissions.clone(),
    })
}

/// Signs a JWT for the App with the test key (`iat`/`exp` in Unix seconds).
pub fn sign_jwt(app_id: u64, iat: i64, exp: i64) -> String {
    sign_jwt_with(
        PRIVATE_KEY_PEM,
        &json!({ "iss": app_id, "iat": iat, "exp": exp }),
    )
}

/// Signs arbitrary claims with an RSA private key (PEM), RS256.
pub fn sign_jwt_with(private_key_pem: &str, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
        .expect("a valid RSA private key in PEM");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).expect("signing a JWT")
}

/// A random-looking credential with a GitHub prefix (`ghs_…`).
pub fn random_token(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let seed = format!("{n}:{nanos}:{}", std::process::id());
    let digest = super::git::blob_sha(seed.as_bytes());
    format!("{prefix}{}", &digest[..36])
}

/// An RSA key GitHub does not know: JWTs signed with it must be refused.
pub const OTHER_PRIVATE_KEY_PEM: &str = include_str!("other-key.pem");
