//! Setting up the App's world: installations, repositories, teams, tokens and rate limits.

use std::time::Duration;

use chrono::Utc;

use super::FakeGitHub;
use super::auth::random_token;
use super::model::{Installation, IssuedToken, repo_key};
use super::repo_handle::RepoHandle;

impl FakeGitHub {
    /// Installs the App on an organisation; returns the installation id.
    pub fn add_installation(&self, account: &str) -> u64 {
        self.add_installation_of_type(account, "Organization")
    }

    /// Installs the App on an account of type "User" or "Organization".
    pub fn add_installation_of_type(&self, account: &str, account_type: &str) -> u64 {
        let mut m = self.model();
        let id = m.next_id();
        let permissions = m.app.permissions.clone();
        let events = m.app.events.clone();
        m.installations.insert(
            id,
            Installation {
                id,
                account: account.to_string(),
                account_type: account_type.to_string(),
                suspended: false,
                repository_selection: "selected".to_string(),
                repos: Default::default(),
                permissions,
                events,
                created_at: Utc::now(),
            },
        );
        id
    }

    pub fn set_installation_suspended(&self, installation: u64, suspended: bool) {
        let mut m = self.model();
        let inst = m
            .installations
            .get_mut(&installation)
            .expect("unknown installation");
        inst.suspended = suspended;
    }

    /// Replaces what the installation was granted (`metadata: read` is always kept).
    pub fn set_installation_permissions(&self, installation: u64, permissions: &[(&str, &str)]) {
        let mut m = self.model();
        let inst = m
            .installations
            .get_mut(&installation)
            .expect("unknown installation");
        inst.permissions = permissions
            .iter()
            .map(|(p, a)| (p.to_string(), a.to_string()))
            .collect();
        inst.permissions.insert("metadata".into(), "read".into());
    }

    /// Creates a private repository (`owner/name`, default branch `main`, no commits yet) in
    /// an installation.
    pub fn add_repo(&self, installation: u64, full_name: &str) -> RepoHandle {
        let handle = self.create_repo(full_name, None);
        let mut m = self.model();
        let inst = m
            .installations
            .get_mut(&installation)
            .expect("unknown installation");
        inst.repos.insert(handle.key().to_string());
        drop(m);
        handle
    }

    /// Creates a repository that no installation of the App can reach (private).
    pub fn add_foreign_repo(&self, full_name: &str) -> RepoHandle {
        self.create_repo(full_name, None)
    }

    fn create_repo(&self, full_name: &str, fork_of: Option<String>) -> RepoHandle {
        let (owner, name) = full_name
            .split_once('/')
            .expect("repository name is owner/name");
        let key = self.model().insert_repo(owner, name, fork_of);
        RepoHandle::new(self.state.clone(), key)
    }

    /// A handle on an existing repository.
    pub fn repo(&self, full_name: &str) -> RepoHandle {
        let (owner, name) = full_name
            .split_once('/')
            .expect("repository name is owner/name");
        let key = repo_key(owner, name);
        assert!(
            self.model().repos.contains_key(&key),
            "no repository {full_name}"
        );
        RepoHandle::new(self.state.clone(), key)
    }

    /// Makes `user` a member of `org`'s team `team` (role "member" or "maintainer").
    pub fn add_team_member(&self, org: &str, team: &str, user: &str, role: &str) {
        self.model()
            .teams
            .entry((org.to_lowercase(), team.to_lowercase()))
            .or_default()
            .insert(user.to_lowercase(), role.to_string());
    }

    /// How long new installation tokens live (default one hour).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.model().app.token_lifetime = lifetime;
    }

    /// Tokens issued through `POST /app/installations/{id}/access_tokens`.
    pub fn tokens_issued(&self, installation: u64) -> u32 {
        self.model()
            .tokens_issued
            .get(&installation)
            .copied()
            .unwrap_or(0)
    }

    /// Makes every issued token expired now.
    pub fn expire_tokens(&self) {
        let past = Utc::now() - chrono::Duration::seconds(1);
        for t in self.model().tokens.values_mut() {
            t.expires_at = past;
        }
    }

    /// A valid token for the installation, made without the API (not counted in
    /// `tokens_issued`): for tests that call the fake directly.
    pub fn installation_token(&self, installation: u64) -> String {
        let mut m = self.model();
        let permissions = m
            .installations
            .get(&installation)
            .expect("unknown installation")
            .permissions
            .clone();
        let token = random_token("ghs_");
        let lifetime = chrono::Duration::from_std(m.app.token_lifetime).unwrap_or_default();
        m.tokens.insert(
            token.clone(),
            IssuedToken {
                token: token.clone(),
                installation_id: installation,
                expires_at: Utc::now() + lifetime,
                repos: None,
                permissions,
            },
        );
        token
    }

    /// The core rate limit per caller (default 5000 an hour).
    pub fn set_rate_limit(&self, limit: u32) {
        let mut m = self.model();
        m.rate.limit = limit;
        m.rate.windows.clear();
    }

    /// Sets what is left for an installation's tokens in the current window; at 0 GitHub
    /// answers 403 "API rate limit exceeded" until the window resets.
    pub fn set_rate_limit_remaining(&self, installation: u64, remaining: u32, reset_in: Duration) {
        let key = format!("installation:{installation}");
        let mut m = self.model();
        let mut w = m.rate_window(&key);
        w.remaining = remaining;
        w.reset = Utc::now().timestamp() + reset_in.as_secs() as i64;
        m.rate.windows.insert(key, w);
    }

    /// Added to every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.model().latency = latency;
    }

    /// Manifests posted to the registration form, oldest first.
    pub fn manifests(&self) -> Vec<super::model::ManifestRegistration> {
        self.model().manifests.clone()
    }
}
