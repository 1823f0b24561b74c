//! Migrations 2 and 3 on a database written by version 1: the REST API's filter columns are
//! filled for customers stored before them, so they are found by name, city and source at once,
//! and their records, written with field clocks as a JSON map, still read with every clock.
//! Both backends (a fresh SQLite file; a fresh PostgreSQL database, dropped afterwards). And
//! SQLite's page size: 16 KiB for a database the server creates, its own for one made before.

use sqlx::{AnyPool, AssertSqlSafe};
use sync_server::db::{CustomerFilter, Db, Ordering};
use uuid::Uuid;

const V1_SQLITE: &str = include_str!("../../migrations/server-sqlite/0001_init.sql");
const V1_POSTGRES: &str = include_str!("../../migrations/server-postgres/0001_init.sql");

/// Writes version 1's schema and one customer the way version 1 stored it.
async fn version_1(url: &str, schema: &str, org: Uuid) -> pos_core::Customer {
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(schema)).execute(&pool).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z');
         INSERT INTO organizations (id, name, seq, created_at) VALUES ('{org}', 'old', 1, '2026-01-01T00:00:00Z');"
    )))
    .execute(&pool)
    .await
    .unwrap();
    let mut c = pos_core::Customer::blank(Uuid::now_v7(), org, chrono::Utc::now());
    c.first_name = "José".into();
    c.surname = "Pérez".into();
    c.phone = Some("+584141234567".into());
    c.city = Some("Mérida".into());
    c.source = pos_core::Source::Lead;
    let clock = |wall_ms| pos_core::Hlc { wall_ms, counter: 0, node: 9 };
    c.clocks = pos_core::customer::MERGED_FIELDS.iter().map(|f| ((*f).to_owned(), clock(1_000))).collect();
    c.clocks.insert("city".into(), clock(2_000));
    // Version 1 wrote the clocks as a map of field to clock.
    let mut record = serde_json::to_value(&c).unwrap();
    record["clocks"] = serde_json::to_value(&c.clocks).unwrap();
    sqlx::query(AssertSqlSafe(
        "INSERT INTO customers (organization_id, id, seq, phone, merged_into, is_active, created_at, data) \
         VALUES ($1, $2, 1, $3, NULL, 1, $4, $5)"
            .replace('$', if url.starts_with("sqlite") { "?" } else { "$" }),
    ))
    .bind(org.to_string())
    .bind(c.id.to_string())
    .bind(c.phone.clone().unwrap())
    .bind(c.created_at.to_rfc3339())
    .bind(record.to_string())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    c
}

async fn check(url: &str, org: Uuid, stored: &pos_core::Customer) {
    let db = Db::connect(url).await.unwrap();
    let filter = CustomerFilter {
        search: Some("jose pe".into()),
        city: Some("MERIDA".into()),
        source: Some(pos_core::Source::Lead),
        ordering: Ordering::Surname,
        page: 1,
        page_size: 10,
        ..Default::default()
    };
    let (count, found) = db.list_customers(org, &filter).await.unwrap();
    assert_eq!((count, found.iter().map(|c| c.id).collect::<Vec<_>>()), (1, vec![stored.id]), "{url}");
    assert_eq!(found[0].clocks, stored.clocks, "{url}");
}

#[tokio::test]
async fn later_migrations_keep_older_rows_findable_with_their_clocks() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("{}?mode=rwc", Db::default_sqlite_url(dir.path()));
    let org = Uuid::now_v7();
    let stored = version_1(&sqlite, V1_SQLITE, org).await;
    check(&sqlite, org, &stored).await;

    let base = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(&base).await.expect("PostgreSQL is required");
    let name = format!("migration_{}", Uuid::now_v7().simple());
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let url = format!("{prefix}/{name}");
    let stored = version_1(&url, V1_POSTGRES, org).await;
    check(&url, org, &stored).await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&admin).await.unwrap();
}

async fn page_size(url: &str) -> i64 {
    let pool = AnyPool::connect(url).await.unwrap();
    let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&pool).await.unwrap();
    pool.close().await;
    size
}

#[tokio::test]
async fn a_new_sqlite_database_gets_16_kib_pages_and_an_older_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let new = Db::default_sqlite_url(dir.path());
    drop(Db::connect(&new).await.unwrap());
    assert_eq!(page_size(&new).await, 16_384);

    // Version 1's file as deployed: created with SQLite's default pages, in WAL mode (in which
    // a page size cannot change), then migrated and written to.
    let older = format!("sqlite://{}?mode=rwc", dir.path().join("older.db").display());
    let pool = AnyPool::connect(&older).await.unwrap();
    sqlx::raw_sql("PRAGMA journal_mode = WAL").execute(&pool).await.unwrap();
    pool.close().await;
    let org = Uuid::now_v7();
    let stored = version_1(&older, V1_SQLITE, org).await;
    check(&older, org, &stored).await;
    assert_eq!(page_size(&older).await, 4_096);
}
