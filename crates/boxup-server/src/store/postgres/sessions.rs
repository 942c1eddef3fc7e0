//! Upload sessions, their parts, the hash frontier and the commit.
//!
//! Why it looks like this: the session row is the lock that orders
//! everything done to a session across replicas. Part inserts take it `FOR
//! NO KEY UPDATE` (they update `num_parts`); commit and delete take it `FOR
//! UPDATE`; the frontier's compare-and-set is a conditional UPDATE of it.
//! Whoever waits re-reads the row once the holder committed (READ
//! COMMITTED), so it acts on the state the holder left: a part never lands
//! in a committed or expired session, and a second commit sees `committed`.

use sqlx::{PgConnection, Row};

use super::files::write_file;
use super::{DbResult, page_bound, to_db};
use crate::store::rows::{self, session_columns};
use crate::store::{
    CommitSession, FileRecord, Frontier, NewContent, ObjectRef, PartInsert, PartRecord, SessionId,
    SessionRecord, SessionState, StoreError, frontier_index,
};

macro_rules! session_select {
    () => {
        concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id = $1"
        )
    };
}

macro_rules! part_select {
    () => {
        "SELECT session_id, idx, part_id, byte_offset, size, sha1, object_key FROM parts"
    };
}

pub(super) async fn create_session(c: &mut PgConnection, s: &SessionRecord) -> DbResult<()> {
    let (folder_id, file_id, name) = s.target.columns();
    sqlx::query(
        "INSERT INTO sessions (id, owner_id, target_folder_id, target_file_id, target_name, \
         file_size, part_size, total_parts, num_parts, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'open', $9, $10)",
    )
    .bind(&s.id)
    .bind(s.owner_id)
    .bind(folder_id)
    .bind(file_id)
    .bind(name)
    .bind(to_db(s.file_size)?)
    .bind(to_db(s.part_size)?)
    .bind(i64::from(s.total_parts))
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(super) async fn get_session(
    c: &mut PgConnection,
    id: &SessionId,
) -> DbResult<Option<SessionRecord>> {
    let row = sqlx::query(session_select!())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(rows::session).transpose()
}

/// Locks the session row and returns its state; `None` if there is none.
/// `strength` is a row-lock clause, `FOR UPDATE` or `FOR NO KEY UPDATE`.
async fn lock_session(
    c: &mut PgConnection,
    id: &SessionId,
    strength: LockStrength,
) -> DbResult<Option<SessionState>> {
    let sql = match strength {
        LockStrength::Update => "SELECT state FROM sessions WHERE id = $1 FOR UPDATE",
        LockStrength::NoKeyUpdate => "SELECT state FROM sessions WHERE id = $1 FOR NO KEY UPDATE",
    };
    let state: Option<String> = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(state.as_deref().map(SessionState::decode).transpose()?)
}

#[derive(Clone, Copy)]
enum LockStrength {
    /// For commit and delete: excludes every other lock on the row.
    Update,
    /// For part inserts, which update only non-key columns.
    NoKeyUpdate,
}

pub(super) async fn get_part(
    c: &mut PgConnection,
    session_id: &SessionId,
    index: u32,
) -> DbResult<Option<PartRecord>> {
    let row = sqlx::query(concat!(
        part_select!(),
        " WHERE session_id = $1 AND idx = $2"
    ))
    .bind(session_id)
    .bind(i64::from(index))
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(rows::part).transpose()
}

pub(super) async fn insert_part(c: &mut PgConnection, part: &PartRecord) -> DbResult<PartInsert> {
    match lock_session(c, &part.session_id, LockStrength::NoKeyUpdate).await? {
        None => return Err(StoreError::NotFound.into()),
        Some(SessionState::Open) => {}
        Some(state) => return Err(StoreError::SessionNotOpen(state).into()),
    }
    // First row wins; `num_parts` moves in the same statement, and only if
    // the row went in.
    let inserted = sqlx::query(
        "WITH ins AS ( \
             INSERT INTO parts (session_id, idx, part_id, byte_offset, size, sha1, object_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (session_id, idx) DO NOTHING RETURNING 1) \
         UPDATE sessions SET num_parts = num_parts + 1 \
         WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)",
    )
    .bind(&part.session_id)
    .bind(i64::from(part.index))
    .bind(&part.part_id)
    .bind(to_db(part.offset)?)
    .bind(to_db(part.size)?)
    .bind(&part.sha1)
    .bind(&part.object_key)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(PartInsert::Inserted);
    }
    let existing = get_part(c, &part.session_id, part.index)
        .await?
        .ok_or_else(|| StoreError::backend("a conflicting part vanished under the session lock"))?;
    Ok(PartInsert::Existing(existing))
}

/// Runs in one REPEATABLE READ snapshot, so the count and the page agree.
pub(super) async fn list_parts(
    c: &mut PgConnection,
    session_id: &SessionId,
    offset: u64,
    limit: u64,
) -> DbResult<(u64, Vec<PartRecord>)> {
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM parts WHERE session_id = $1")
        .bind(session_id)
        .fetch_one(&mut *c)
        .await?;
    let found = sqlx::query(concat!(
        part_select!(),
        " WHERE session_id = $1 ORDER BY byte_offset, idx LIMIT $2 OFFSET $3"
    ))
    .bind(session_id)
    .bind(page_bound(limit))
    .bind(page_bound(offset))
    .fetch_all(&mut *c)
    .await?;
    let parts = found.iter().map(rows::part).collect::<DbResult<Vec<_>>>()?;
    Ok((total.unsigned_abs(), parts))
}

/// One statement (atomic on its own): the compare-and-set, and whether the
/// session exists at all, to tell `false` from `NotFound`.
pub(super) async fn advance_frontier(
    c: &mut PgConnection,
    session_id: &SessionId,
    from: u64,
    to: &Frontier,
) -> DbResult<bool> {
    let row = sqlx::query(
        "WITH upd AS ( \
             UPDATE sessions SET frontier_offset = $1, frontier_state = $2 \
             WHERE id = $3 AND frontier_offset = $4 RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM upd), EXISTS (SELECT 1 FROM sessions WHERE id = $3)",
    )
    .bind(to_db(to.offset)?)
    .bind(&to.state)
    .bind(session_id)
    .bind(to_db(from)?)
    .fetch_one(&mut *c)
    .await?;
    let (changed, exists): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
    if !changed && !exists {
        return Err(StoreError::NotFound.into());
    }
    Ok(changed)
}

/// `insert_part` and, if the row went in, `advance_frontier`, in the
/// caller's transaction: one commit for a part hashed in-stream.
pub(super) async fn insert_hashed_part(
    c: &mut PgConnection,
    part: &PartRecord,
    to: &Frontier,
) -> DbResult<PartInsert> {
    let inserted = insert_part(c, part).await?;
    if inserted == PartInsert::Inserted {
        advance_frontier(c, &part.session_id, part.offset, to).await?;
    }
    Ok(inserted)
}

/// The session, then the part at its frontier, on one connection. Not one
/// snapshot, and need not be: a part row never changes once in, so the
/// part read second is the part at the frontier the session showed.
pub(super) async fn frontier_step(
    c: &mut PgConnection,
    session_id: &SessionId,
) -> DbResult<Option<(SessionRecord, Option<PartRecord>)>> {
    let Some(session) = get_session(c, session_id).await? else {
        return Ok(None);
    };
    let part = match frontier_index(&session) {
        Some(index) => get_part(c, session_id, index).await?,
        None => None,
    };
    Ok(Some((session, part)))
}

/// The session's part objects in index (= file) order.
async fn part_objects(c: &mut PgConnection, session_id: &SessionId) -> DbResult<Vec<ObjectRef>> {
    let found = sqlx::query(
        "SELECT object_key, byte_offset, size FROM parts WHERE session_id = $1 ORDER BY idx",
    )
    .bind(session_id)
    .fetch_all(&mut *c)
    .await?;
    found.iter().map(rows::object).collect()
}

/// Lock order: the session row here, then the file row and the name lock
/// in `insert_new_version` / `insert_file`.
pub(super) async fn commit_session(
    c: &mut PgConnection,
    commit: &CommitSession,
) -> DbResult<FileRecord> {
    // A single-table `FOR UPDATE` that waited returns the row as the
    // previous holder left it.
    let row = sqlx::query(concat!(session_select!(), " FOR UPDATE"))
        .bind(&commit.session_id)
        .fetch_optional(&mut *c)
        .await?;
    let session = row
        .as_ref()
        .map(rows::session)
        .transpose()?
        .ok_or(StoreError::NotFound)?;
    let write = commit.decide.decide(&session)?;
    let content = NewContent {
        size: session.file_size,
        sha1: commit.sha1.clone(),
        objects: part_objects(c, &session.id).await?,
    };
    let file = write_file(c, session.owner_id, &write, &content).await?;
    sqlx::query(
        "UPDATE sessions SET state = 'committed', committed_file_id = $1, \
         committed_version_id = $2 WHERE id = $3",
    )
    .bind(file.id)
    .bind(file.version.id)
    .bind(&session.id)
    .execute(&mut *c)
    .await?;
    Ok(file)
}

pub(super) async fn delete_session(c: &mut PgConnection, id: &SessionId) -> DbResult<()> {
    let state = lock_session(c, id, LockStrength::Update)
        .await?
        .ok_or(StoreError::NotFound)?;
    if state != SessionState::Committed {
        // The parts' objects belong to no version: queue them for deletion.
        sqlx::query(
            "INSERT INTO garbage (key) SELECT object_key FROM parts WHERE session_id = $1 \
             ORDER BY 1 ON CONFLICT (key) DO NOTHING",
        )
        .bind(id)
        .execute(&mut *c)
        .await?;
    }
    // Parts go by ON DELETE CASCADE.
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
