//! Repository-level reads and writes: contents, who may do what (collaborators' permissions,
//! team memberships and members), deployments.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::github::{GithubError, InstallationClient};

/// A member of a team.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TeamMember {
    pub login: String,
    pub id: u64,
}

impl InstallationClient {
    /// `GET /repos/{repo}/contents/{path}?ref={reference}`.
    pub async fn contents<T: DeserializeOwned>(
        &self,
        repo: &str,
        path: &str,
        reference: &str,
    ) -> Result<T, GithubError> {
        self.get(&format!("/repos/{repo}/contents/{path}?ref={reference}"))
            .await
    }

    /// `user`'s permission on the repository (read into the caller's own type: octocrab's
    /// cannot parse GitHub's `write` / `read` / `none`).
    pub async fn collaborator_permission<T: DeserializeOwned>(
        &self,
        repo: &str,
        user: &str,
    ) -> Result<T, GithubError> {
        let user = super::segment(user);
        self.get(&format!("/repos/{repo}/collaborators/{user}/permission"))
            .await
    }

    /// `user`'s membership of `org`'s team `team`.
    pub async fn team_membership<T: DeserializeOwned>(
        &self,
        org: &str,
        team: &str,
        user: &str,
    ) -> Result<T, GithubError> {
        let (org, team, user) = (
            super::segment(org),
            super::segment(team),
            super::segment(user),
        );
        self.get(&format!("/orgs/{org}/teams/{team}/memberships/{user}"))
            .await
    }

    /// Every member of `org`'s team `team` (all pages), members of its child teams included
    /// as GitHub lists them: for rules such as "two approvals from @acme/release".
    pub async fn team_members(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Vec<TeamMember>, GithubError> {
        let (org, team) = (super::segment(org), super::segment(team));
        self.paginate(&format!("/orgs/{org}/teams/{team}/members"), None)
            .await
    }

    pub async fn create_deployment<T: DeserializeOwned>(
        &self,
        repo: &str,
        body: &Value,
    ) -> Result<T, GithubError> {
        self.post(&format!("/repos/{repo}/deployments"), body).await
    }

    pub async fn create_deployment_status(
        &self,
        repo: &str,
        deployment: i64,
        body: &Value,
    ) -> Result<(), GithubError> {
        let _: Value = self
            .post(
                &format!("/repos/{repo}/deployments/{deployment}/statuses"),
                body,
            )
            .await?;
        Ok(())
    }
}
