//! Schema and forward migrations, versioned by `PRAGMA user_version`.
//!
//! `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`. Each runs
//! in its own `BEGIN IMMEDIATE` transaction together with the version bump,
//! so a crash mid-migration leaves the previous version intact. Never edit
//! a shipped migration; append a new one.

use rusqlite::{Connection, TransactionBehavior};

use super::{DbResult, StoreError};

/// Version 1: users, folders, files, versions, sessions, parts, garbage.
///
/// - `parent_id` 0 is the root, which is never stored, so it carries no
///   foreign key; a non-root parent is checked in the transaction.
/// - `files.current_version_id` and `file_versions.file_id` refer to each
///   other; only the latter is a foreign key (cascading).
/// - `sessions.state` is `'open' | 'committed' | 'expired'`; a target is
///   either (`target_folder_id`, `target_name`) for a new file or
///   (`target_file_id`, optional `target_name`) for a new version.
/// - `sessions.num_parts` counts the session's `parts` rows and is kept in
///   the same transaction as every insert or delete of parts.
const V1: &str = r#"
CREATE TABLE users (
    id      INTEGER PRIMARY KEY,
    login   TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL
);

CREATE TABLE folders (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    parent_id   INTEGER NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    etag        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX folders_by_name ON folders(owner_id, parent_id, name_key);

CREATE TABLE files (
    id                  INTEGER PRIMARY KEY,
    owner_id            INTEGER NOT NULL REFERENCES users(id),
    parent_id           INTEGER NOT NULL,
    name                TEXT NOT NULL,
    name_key            TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    etag                INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    modified_at         INTEGER NOT NULL,
    content_created_at  INTEGER NOT NULL,
    content_modified_at INTEGER NOT NULL,
    current_version_id  INTEGER NOT NULL
);
CREATE UNIQUE INDEX files_by_name ON files(owner_id, parent_id, name_key);

CREATE TABLE file_versions (
    id         INTEGER PRIMARY KEY,
    file_id    INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    size       INTEGER NOT NULL CHECK (size >= 0),
    sha1       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX file_versions_by_file ON file_versions(file_id);

CREATE TABLE version_objects (
    version_id INTEGER NOT NULL REFERENCES file_versions(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    object_key TEXT NOT NULL,
    offset     INTEGER NOT NULL CHECK (offset >= 0),
    size       INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (version_id, idx)
) WITHOUT ROWID;
CREATE INDEX version_objects_by_key ON version_objects(object_key);

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    owner_id             INTEGER NOT NULL REFERENCES users(id),
    target_folder_id     INTEGER,
    target_file_id       INTEGER,
    target_name          TEXT,
    file_size            INTEGER NOT NULL CHECK (file_size >= 0),
    part_size            INTEGER NOT NULL CHECK (part_size >= 0),
    total_parts          INTEGER NOT NULL,
    num_parts            INTEGER NOT NULL DEFAULT 0,
    state                TEXT NOT NULL DEFAULT 'open'
                         CHECK (state IN ('open', 'committed', 'expired')),
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    frontier_offset      INTEGER NOT NULL DEFAULT 0,
    frontier_state       BLOB NOT NULL DEFAULT x'',
    committed_file_id    INTEGER,
    committed_version_id INTEGER,
    CHECK ((target_folder_id IS NULL) <> (target_file_id IS NULL)),
    CHECK (target_file_id IS NOT NULL OR target_name IS NOT NULL)
) WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions(state, expires_at);

CREATE TABLE parts (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    part_id    TEXT NOT NULL,
    offset     INTEGER NOT NULL CHECK (offset >= 0),
    size       INTEGER NOT NULL CHECK (size >= 0),
    sha1       TEXT NOT NULL,
    object_key TEXT NOT NULL,
    PRIMARY KEY (session_id, idx)
) WITHOUT ROWID;
CREATE INDEX parts_by_offset ON parts(session_id, offset);
CREATE INDEX parts_by_key ON parts(object_key);

CREATE TABLE garbage (
    key TEXT PRIMARY KEY
) WITHOUT ROWID;
"#;

/// Version 2: named leases, so that one process at a time runs the sweeper.
const V2: &str = r#"
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Version 3: credentials. A quota per user (`NULL`: unlimited) and the
/// operator's access tokens, by the SHA-256 of their secret (see
/// `store/credentials.rs`), each with a public id for lists and revocation.
const V3: &str = r#"
ALTER TABLE users ADD COLUMN space_amount INTEGER CHECK (space_amount >= 0);

CREATE TABLE access_tokens (
    secret_sha256 TEXT PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    label         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX access_tokens_by_user ON access_tokens(user_id, created_at);
"#;

/// Forward migrations, in order.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this code writes.
pub(super) const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to `CURRENT_VERSION`. Refuses a database written
/// by a newer version of this code.
pub(super) fn migrate(conn: &mut Connection) -> DbResult<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version == CURRENT_VERSION {
            return Ok(());
        }
        let Some(step) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Err(StoreError::backend(format!(
                "database schema version {version} is not supported (this build knows 0..={CURRENT_VERSION})"
            ))
            .into());
        };
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}
