//! Schema and forward migrations, versioned by the `boxup_schema` table.
//!
//! Why it looks like this:
//! - N replicas may start at the same moment against one database. Each
//!   migration step runs in its own transaction that first takes
//!   `pg_advisory_xact_lock` on a key derived from the target schema, then
//!   reads the version, applies exactly one migration and records the new
//!   version, then commits (which releases the lock). A replica that waited
//!   on the lock re-reads the version after the winner committed, so every
//!   migration runs exactly once, and a crash mid-step leaves the previous
//!   version intact (DDL is transactional in PostgreSQL).
//! - `boxup_schema` keeps one row per applied version (with its time) rather
//!   than a single counter: the history is useful to operators and the
//!   primary key makes a double application fail loudly instead of silently.
//! - A database whose version is newer than this build knows is refused: an
//!   old replica must not write rows a newer schema may interpret differently.
//! - `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`. Never edit
//!   a shipped migration; append a new one.

use sqlx::{Connection, PgConnection, Row};

use super::{DbResult, quote_ident};
use crate::store::{StoreError, StoreResult};

/// Version 1: users, folders, files, versions, sessions, parts, garbage.
///
/// The same model as the SQLite schema, with PostgreSQL types:
/// - BIGINT for ids, sizes, counts and times; BYTEA for the hash frontier;
///   TEXT for names and keys. Every text column that is compared or sorted
///   is `COLLATE "C"` (byte order, byte equality), so orderings and unique
///   indexes do not depend on the database's locale and match SQLite's
///   BINARY collation.
/// - `parent_id` 0 is the root, which is never stored, so it carries no
///   foreign key; a non-root parent is checked in the transaction.
/// - `files.current_version_id` and `file_versions.file_id` refer to each
///   other; only the latter is a foreign key (cascading).
/// - `byte_offset` instead of SQLite's `offset`, a reserved word here.
/// - Constraint names are spelled out: the store retries a transaction on
///   a unique violation of some of them (see `conn::is_retryable`).
const V1: &str = r#"
CREATE TABLE users (
    id    BIGINT NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    name  TEXT NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_login_key UNIQUE (login)
);

CREATE TABLE folders (
    id          BIGINT NOT NULL,
    owner_id    BIGINT NOT NULL REFERENCES users(id),
    parent_id   BIGINT NOT NULL CHECK (parent_id >= 0),
    name        TEXT COLLATE "C" NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    etag        BIGINT NOT NULL DEFAULT 0 CHECK (etag >= 0),
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    CONSTRAINT folders_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX folders_by_name ON folders (owner_id, parent_id, name_key);

CREATE TABLE files (
    id                  BIGINT NOT NULL,
    owner_id            BIGINT NOT NULL REFERENCES users(id),
    parent_id           BIGINT NOT NULL CHECK (parent_id >= 0),
    name                TEXT COLLATE "C" NOT NULL,
    name_key            TEXT COLLATE "C" NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    etag                BIGINT NOT NULL DEFAULT 0 CHECK (etag >= 0),
    created_at          BIGINT NOT NULL,
    modified_at         BIGINT NOT NULL,
    content_created_at  BIGINT NOT NULL,
    content_modified_at BIGINT NOT NULL,
    current_version_id  BIGINT NOT NULL,
    CONSTRAINT files_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX files_by_name ON files (owner_id, parent_id, name_key);

CREATE TABLE file_versions (
    id         BIGINT NOT NULL,
    file_id    BIGINT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    size       BIGINT NOT NULL CHECK (size >= 0),
    sha1       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT file_versions_pkey PRIMARY KEY (id)
);
CREATE INDEX file_versions_by_file ON file_versions (file_id);

CREATE TABLE version_objects (
    version_id  BIGINT NOT NULL REFERENCES file_versions(id) ON DELETE CASCADE,
    idx         BIGINT NOT NULL CHECK (idx >= 0),
    object_key  TEXT COLLATE "C" NOT NULL,
    byte_offset BIGINT NOT NULL CHECK (byte_offset >= 0),
    size        BIGINT NOT NULL CHECK (size >= 0),
    CONSTRAINT version_objects_pkey PRIMARY KEY (version_id, idx)
);
CREATE INDEX version_objects_by_key ON version_objects (object_key);

CREATE TABLE sessions (
    id                   TEXT COLLATE "C" NOT NULL,
    owner_id             BIGINT NOT NULL REFERENCES users(id),
    target_folder_id     BIGINT,
    target_file_id       BIGINT,
    target_name          TEXT,
    file_size            BIGINT NOT NULL CHECK (file_size >= 0),
    part_size            BIGINT NOT NULL CHECK (part_size >= 0),
    total_parts          BIGINT NOT NULL CHECK (total_parts BETWEEN 0 AND 4294967295),
    num_parts            BIGINT NOT NULL DEFAULT 0 CHECK (num_parts BETWEEN 0 AND 4294967295),
    state                TEXT NOT NULL DEFAULT 'open'
                         CHECK (state IN ('open', 'committed', 'expired')),
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    frontier_offset      BIGINT NOT NULL DEFAULT 0 CHECK (frontier_offset >= 0),
    frontier_state       BYTEA NOT NULL DEFAULT '\x'::bytea,
    committed_file_id    BIGINT,
    committed_version_id BIGINT,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CHECK ((target_folder_id IS NULL) <> (target_file_id IS NULL)),
    CHECK (target_file_id IS NOT NULL OR target_name IS NOT NULL),
    CHECK ((committed_file_id IS NULL) = (committed_version_id IS NULL))
);
CREATE INDEX sessions_by_expiry ON sessions (state, expires_at);

CREATE TABLE parts (
    session_id  TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx         BIGINT NOT NULL CHECK (idx BETWEEN 0 AND 4294967295),
    part_id     TEXT NOT NULL,
    byte_offset BIGINT NOT NULL CHECK (byte_offset >= 0),
    size        BIGINT NOT NULL CHECK (size >= 0),
    sha1        TEXT NOT NULL,
    object_key  TEXT COLLATE "C" NOT NULL,
    CONSTRAINT parts_pkey PRIMARY KEY (session_id, idx)
);
CREATE INDEX parts_by_offset ON parts (session_id, byte_offset);
CREATE INDEX parts_by_key ON parts (object_key);

CREATE TABLE garbage (
    key TEXT COLLATE "C" NOT NULL,
    CONSTRAINT garbage_pkey PRIMARY KEY (key)
);
"#;

/// Version 2: named leases, so that one replica at a time runs the sweeper.
const V2: &str = r#"
CREATE TABLE leases (
    name       TEXT COLLATE "C" NOT NULL,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT leases_pkey PRIMARY KEY (name)
);
"#;

/// Version 3: credentials. A quota per user (`NULL`: unlimited) and the
/// operator's access tokens, by the SHA-256 of their secret (see
/// `store/credentials.rs`), each with a public id for lists and revocation.
const V3: &str = r#"
ALTER TABLE users ADD COLUMN space_amount BIGINT CHECK (space_amount >= 0);

CREATE TABLE access_tokens (
    secret_sha256 TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    user_id       BIGINT NOT NULL REFERENCES users(id),
    label         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    CONSTRAINT access_tokens_pkey PRIMARY KEY (secret_sha256),
    CONSTRAINT access_tokens_id_key UNIQUE (id)
);
CREATE INDEX access_tokens_by_user ON access_tokens(user_id, created_at);
"#;

/// Forward migrations, in order.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// First half of the two-key advisory lock that serialises migrations (the
/// ASCII of "bxup"); the second half is a hash of the schema name. The
/// two-key space is disjoint from the one-key space of the name locks.
const MIGRATION_LOCK_CLASS: i32 = 0x6278_7570;

/// Brings the schema up to `SCHEMA_VERSION`, creating the PostgreSQL schema
/// `schema` first if given and missing. Refuses a newer database.
pub(super) async fn migrate(conn: &mut PgConnection, schema: Option<&str>) -> StoreResult<()> {
    loop {
        match step(conn, schema).await {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => return Err(e.into_store()),
        }
    }
}

/// One locked transaction: applies the next migration if any. Returns
/// whether it applied one (so the caller loops until none is left). Rolls
/// back explicitly on failure, releasing the lock for the other replicas
/// at once.
async fn step(conn: &mut PgConnection, schema: Option<&str>) -> DbResult<bool> {
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
        .await?;
    match locked_step(&mut tx, schema).await {
        Ok(applied) => {
            tx.commit().await?;
            Ok(applied)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "PostgreSQL rollback failed");
            }
            Err(e)
        }
    }
}

async fn locked_step(tx: &mut PgConnection, schema: Option<&str>) -> DbResult<bool> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(coalesce($2, current_schema(), '')))")
        .bind(MIGRATION_LOCK_CLASS)
        .bind(schema)
        .execute(&mut *tx)
        .await?;
    if let Some(name) = schema {
        ensure_schema(tx, name).await?;
    }
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('boxup_schema') IS NOT NULL")
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        sqlx::raw_sql(
            "CREATE TABLE boxup_schema (
                version    BIGINT PRIMARY KEY CHECK (version > 0),
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .execute(&mut *tx)
        .await?;
    }
    let version: i64 = sqlx::query("SELECT coalesce(max(version), 0) FROM boxup_schema")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if version == SCHEMA_VERSION {
        return Ok(false);
    }
    let Some(migration) = usize::try_from(version)
        .ok()
        .and_then(|v| MIGRATIONS.get(v))
    else {
        return Err(StoreError::backend(format!(
            "database schema version {version} is not supported (this build knows 0..={SCHEMA_VERSION})"
        ))
        .into());
    };
    tracing::info!(
        from = version,
        to = version + 1,
        "migrating the PostgreSQL schema"
    );
    sqlx::raw_sql(*migration).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO boxup_schema (version) VALUES ($1)")
        .bind(version + 1)
        .execute(&mut *tx)
        .await?;
    Ok(true)
}

/// Creates the schema if missing. Checked first rather than with `CREATE
/// SCHEMA IF NOT EXISTS`, which emits a notice on every start; the caller
/// holds the migration lock, so the check and the create do not race.
async fn ensure_schema(conn: &mut PgConnection, name: &str) -> DbResult<()> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        let sql = format!("CREATE SCHEMA {}", quote_ident(name));
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
