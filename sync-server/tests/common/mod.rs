//! Both backends for every storage test: a fresh SQLite file, and the machine's PostgreSQL
//! (`TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`). A PostgreSQL that
//! cannot be reached fails the test: it is never skipped.

use sync_server::db::Db;
use sync_server::AppState;
use uuid::Uuid;

pub const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug)]
pub struct Backend {
    pub state: AppState,
    pub org: Uuid,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh organisation on each backend (organisations isolate tests that share PostgreSQL).
pub async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(&Db::default_sqlite_url(dir.path())).await.expect("sqlite");
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| POSTGRES_DEFAULT.to_owned());
    let postgres =
        Db::connect(&url).await.unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for these tests: {e}"));
    let mut out = Vec::new();
    for (db, dir) in [(sqlite, Some(dir)), (postgres, None)] {
        let org = db.create_organization(&format!("test-{}", Uuid::now_v7())).await.unwrap();
        out.push(Backend { state: AppState::new(db).await.unwrap(), org, _dir: dir });
    }
    out
}
