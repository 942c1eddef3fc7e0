//! Shared by the PostgreSQL store tests: the server URL, a per-test
//! schema dropped when the test ends, a connection budget sized from the
//! server's `max_connections`, and record builders.
//!
//! Needs a server: `BOXUP_TEST_DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`. [`probe`] tells the harness
//! whether there is one (see `main.rs`). Every test works in its own schema
//! (random name), dropped when the test ends.
//!
//! Connections: pools are small (4, or 2 per store where a test opens 8),
//! and every test first reserves its peak number of connections from a
//! budget sized once from the server (`max_connections` minus reserved
//! slots, minus what is already connected, minus a margin), so any number
//! of test threads stays under the server's limit: tests beyond the budget
//! wait for a running one to finish instead of failing to connect.
#![allow(dead_code, unused_imports, unreachable_pub)]

pub use std::sync::Arc;
pub use std::time::Duration;

pub use boxup_server::service::policy::{self, FileAttributes, Preconditions};
pub use boxup_server::store::conformance::metadata::listed;
pub use boxup_server::store::postgres::{PostgresMetadataStore, PostgresOptions, SCHEMA_VERSION};
pub use boxup_server::store::{
    CommitSession, FileChange, FileCopy, FileId, FileWrite, FolderId, Frontier, ID_MAX, ID_MIN,
    ItemId, ItemRef, MetadataStore, NewContent, NewFolder, ObjectRef, PartInsert, PartRecord,
    SessionId, SessionRecord, SessionState, SessionTarget, StoreError, UserId,
};
pub use futures::future::join_all;
pub use sqlx::{AssertSqlSafe, Connection, PgConnection};
pub use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const NOW: i64 = 1_700_000_000;
/// Bounds every wait on another transaction's lock, so a regression that
/// blocks fails instead of hanging.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

pub fn database_url() -> String {
    std::env::var("BOXUP_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The server went away after `probe` found it: fail, saying why.
pub fn unreachable_server(e: impl std::fmt::Display) -> ! {
    panic!(
        "cannot use the test PostgreSQL server at {}: {e}",
        redacted(&database_url())
    )
}

/// `url` without its password, for messages.
pub fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether the test server answers (within a few seconds); `Err` is the
/// one line a newcomer needs: which URL was tried and how to get a server.
pub fn probe() -> Result<(), String> {
    let url = database_url();
    let attempt = async {
        let connect = PgConnection::connect(&url);
        match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(Ok(conn)) => conn.close().await.map_err(|e| e.to_string()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 5 s".to_owned()),
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(attempt).map_err(|e| {
        format!(
            "PostgreSQL tests: cannot connect to {} ({e}); start a server \
             (`pg_ctlcluster <version> main start` on Debian) or set BOXUP_TEST_DATABASE_URL",
            redacted(&url)
        )
    })
}

pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Connection slots kept free for other clients and for backends of
/// finished tests that the server has not reaped yet.
pub const SPARE_CONNECTIONS: i64 = 10;

/// The connections this test process may hold at once, as permits, and
/// their number.
pub static BUDGET: OnceCell<(Arc<Semaphore>, u32)> = OnceCell::const_new();

pub async fn budget() -> (Arc<Semaphore>, u32) {
    let (semaphore, size) = BUDGET
        .get_or_init(|| async {
            let mut conn = PgConnection::connect(&database_url())
                .await
                .unwrap_or_else(|e| unreachable_server(e));
            let free: i64 = sqlx::query_scalar(
                "SELECT current_setting('max_connections')::bigint \
                      - current_setting('superuser_reserved_connections')::bigint \
                      - coalesce(current_setting('reserved_connections', true)::bigint, 0) \
                      - (SELECT count(*) FROM pg_stat_activity \
                         WHERE backend_type = 'client backend')",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
            let size = u32::try_from(free - SPARE_CONNECTIONS).unwrap_or(0).max(1);
            (Arc::new(Semaphore::new(size as usize)), size)
        })
        .await;
    (Arc::clone(semaphore), *size)
}

/// Drops its schema (and everything in it) when the test ends, pass or
/// fail. `Drop` is synchronous, so the drop runs on a thread of its own
/// with a small runtime and one connection, and is joined. Holds the
/// test's share of the connection budget until then.
pub struct SchemaGuard {
    pub url: String,
    pub schema: String,
    pub _slots: OwnedSemaphorePermit,
}

impl SchemaGuard {
    /// A guard for a test that holds at most `connections` connections at
    /// once (its pools, raw connections and this guard's own).
    pub async fn new(connections: u32) -> Self {
        let (budget, size) = budget().await;
        // A test needing more than the whole budget runs alone.
        let slots = budget
            .acquire_many_owned(connections.min(size))
            .await
            .expect("the budget is never closed");
        SchemaGuard {
            url: database_url(),
            schema: format!("boxup_test_{:016x}", rand::random::<u64>()),
            _slots: slots,
        }
    }

    pub fn options(&self, max_connections: u32) -> PostgresOptions {
        PostgresOptions {
            schema: Some(self.schema.clone()),
            max_connections,
        }
    }

    /// A store on this schema (migrating it if needed); panics with a
    /// pointer to the env variable if the server cannot be reached.
    pub async fn store(&self, max_connections: u32) -> PostgresMetadataStore {
        self.store_at(&self.url, max_connections).await
    }

    pub async fn store_at(&self, url: &str, max_connections: u32) -> PostgresMetadataStore {
        PostgresMetadataStore::connect(url, self.options(max_connections))
            .await
            .unwrap_or_else(|e| unreachable_server(e))
    }

    /// A plain connection with `search_path` on this schema, for checks
    /// and for holding locks behind the store's back.
    pub async fn raw(&self) -> PgConnection {
        let mut conn = PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| unreachable_server(e));
        sqlx::query("SELECT set_config('search_path', quote_ident($1), false)")
            .bind(&self.schema)
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let url = self.url.clone();
        // A connection left holding a lock in the schema fails the drop
        // after a while instead of hanging the test run.
        let sql = format!(
            "SET lock_timeout = '60s'; DROP SCHEMA IF EXISTS {} CASCADE",
            quote(&self.schema)
        );
        let outcome = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&url).await?;
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await
            })
            .map_err(|e| e.to_string())
        })
        .join();
        let failure = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the drop thread panicked".to_owned(),
        };
        let message = format!("cannot drop test schema {}: {failure}", self.schema);
        if std::thread::panicking() {
            eprintln!("{message}");
        } else {
            panic!("{message}");
        }
    }
}

/// A fresh store in a fresh schema; the guard drops the schema.
pub async fn pg_store() -> (PostgresMetadataStore, SchemaGuard) {
    // A pool of 4 and the guard's connection.
    let guard = SchemaGuard::new(5).await;
    let store = guard.store(4).await;
    (store, guard)
}

// ---- helpers ----

pub async fn user(store: &dyn MetadataStore, login: &str) -> UserId {
    store.ensure_user(login, "U").await.unwrap().id
}

pub fn folder(owner: UserId, parent: FolderId, name: &str) -> NewFolder {
    NewFolder {
        owner_id: owner,
        parent_id: parent,
        name: name.into(),
        now: NOW,
    }
}

/// A new file with the service's defaults, dated `NOW`.
pub fn file(owner: UserId, parent: FolderId, name: &str, key: &str) -> FileChange {
    FileChange {
        owner_id: owner,
        write: FileWrite::Create {
            parent_id: parent,
            values: policy::new_file(name, &FileAttributes::default(), NOW),
        },
        content: NewContent {
            size: 3,
            sha1: "a".repeat(40),
            objects: vec![ObjectRef {
                key: key.into(),
                offset: 0,
                size: 3,
            }],
        },
    }
}

/// An open session of `parts` parts of 10 bytes into `name` at the root.
pub fn session(owner: UserId, name: &str, parts: u32, expires_at: i64) -> SessionRecord {
    SessionRecord {
        id: SessionId(format!("{:032X}", rand::random::<u128>())),
        owner_id: owner,
        target: SessionTarget::NewFile {
            folder_id: FolderId::ROOT,
            name: name.into(),
        },
        file_size: u64::from(parts) * 10,
        part_size: 10,
        total_parts: parts,
        num_parts: 0,
        state: SessionState::Open,
        created_at: NOW,
        expires_at,
        frontier: Frontier::default(),
        committed: None,
    }
}

pub fn part(s: &SessionRecord, index: u32, tag: &str) -> PartRecord {
    PartRecord {
        session_id: s.id.clone(),
        index,
        part_id: format!("{:08X}", rand::random::<u32>()),
        offset: u64::from(index) * 10,
        size: 10,
        sha1: "b".repeat(40),
        object_key: format!("part/{tag}/{}/{index}", s.id),
    }
}

/// The service's commit of `s` by its owner, dated `NOW + 1`.
pub fn commit(s: &SessionRecord) -> CommitSession {
    CommitSession {
        session_id: s.id.clone(),
        sha1: "c".repeat(40),
        decide: policy::commit(
            s.owner_id,
            FileAttributes::default(),
            Preconditions::default(),
            NOW + 1,
        ),
    }
}

/// `n` stores on the guard's schema, each with its own pool: what `n`
/// replicas see.
pub async fn replicas(guard: &SchemaGuard, n: usize) -> Vec<PostgresMetadataStore> {
    join_all((0..n).map(|_| guard.store(2))).await
}

pub async fn schema_versions(guard: &SchemaGuard) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM boxup_schema ORDER BY version")
        .fetch_all(&mut guard.raw().await)
        .await
        .unwrap()
}

// ---- persistence, migrations, connection ----
