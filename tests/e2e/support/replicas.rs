//! Two gitferry processes on one PostgreSQL store, in front of one fake GitHub: what the
//! "never twice" scenarios (one release per push, one merge per promotion) run against.

use super::db::TestDb;
use super::fake_github::{FakeGitHub, RepoHandle};
use super::gitferry::Gitferry;

pub struct Replicas {
    /// Kept for as long as the processes run: dropping it drops the schema.
    pub db: TestDb,
    pub fake: FakeGitHub,
    pub repo: RepoHandle,
    pub installation: u64,
    pub a: Gitferry,
    pub b: Gitferry,
}

impl Replicas {
    /// `octocat/shop` with `files` on `main`, and two processes polling every 100 ms; `None`
    /// (the scenario is skipped) without a PostgreSQL to share.
    pub async fn start(files: &[(&str, String)]) -> Option<Replicas> {
        let Some(db) = TestDb::postgres().await else {
            eprintln!("GITFERRY_TEST_DATABASE_URL not set: skipped");
            return None;
        };
        let fake = FakeGitHub::start().await;
        let installation = fake.add_installation("octocat");
        let repo = fake.add_repo(installation, "octocat/shop");
        repo.commit_files("main", files, "init");
        let flags = ["--poll-interval", "100ms"];
        let a = Gitferry::start_with(&db, &fake, gitferry::app::router(), &flags).await;
        let b = Gitferry::start_with(&db, &fake, gitferry::app::router(), &flags).await;
        Some(Replicas {
            db,
            fake,
            repo,
            installation,
            a,
            b,
        })
    }

    pub async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
    }
}
