//! Who may do what: a user's repository permission and team memberships, read from GitHub and
//! cached briefly (a burst of commands costs one lookup; a revoked permission takes effect
//! within [`TTL`]).

use std::time::Duration;

use serde::Deserialize;

use crate::commands::Permission;
use crate::github::{GithubError, InstallationClient};
use crate::ttl_cache::TtlCache;

/// How long an answer from GitHub is trusted.
pub const TTL: Duration = Duration::from_secs(60);

/// GitHub's answer to `GET /repos/{o}/{r}/collaborators/{user}/permission`, read into our own
/// struct: octocrab's cannot parse `"permission": "write"` and has no `role_name`.
#[derive(Deserialize)]
struct CollaboratorPermission {
    permission: String,
    role_name: Option<String>,
}

/// (repository, user) and (org, team, user), lower-cased where GitHub ignores case.
pub struct AccessCache {
    permissions: TtlCache<(String, String), Permission>,
    memberships: TtlCache<(String, String, String), bool>,
}

impl Default for AccessCache {
    fn default() -> Self {
        Self {
            permissions: TtlCache::new(TTL),
            memberships: TtlCache::new(TTL),
        }
    }
}

impl AccessCache {
    /// The user's permission on `repo` (`owner/name`); `none` for non-collaborators.
    pub async fn permission(
        &self,
        gh: &InstallationClient,
        repo: &str,
        user: &str,
    ) -> Result<Permission, GithubError> {
        let key = (repo.to_owned(), user.to_lowercase());
        if let Some(permission) = self.permissions.get(&key) {
            return Ok(permission);
        }
        let permission = match gh
            .collaborator_permission::<CollaboratorPermission>(repo, user)
            .await
        {
            Ok(answer) => Permission::from_github(answer.role_name.as_deref(), &answer.permission),
            Err(err) if err.is_not_found() => Permission::None,
            Err(err) => return Err(err),
        };
        self.permissions.put(key, permission);
        Ok(permission)
    }

    /// Whether `user` is an active member of `org/team`.
    pub async fn is_team_member(
        &self,
        gh: &InstallationClient,
        org: &str,
        team: &str,
        user: &str,
    ) -> Result<bool, GithubError> {
        let key = (org.to_lowercase(), team.to_lowercase(), user.to_lowercase());
        if let Some(member) = self.memberships.get(&key) {
            return Ok(member);
        }
        #[derive(Deserialize)]
        struct Membership {
            state: String,
        }
        let member = match gh.team_membership::<Membership>(org, team, user).await {
            Ok(membership) => membership.state == "active",
            Err(err) if err.is_not_found() => false,
            Err(err) => return Err(err),
        };
        self.memberships.put(key, member);
        Ok(member)
    }
}
