//! Upload sessions, their parts, the hash frontier and the commit.

use rusqlite::{OptionalExtension, Transaction, params};

use super::files::write_file;
use super::{DbResult, page_bound, to_db};
use crate::store::rows::{self, session_columns};
use crate::store::{
    CommitSession, FileRecord, Frontier, NewContent, ObjectRef, PartInsert, PartRecord, SessionId,
    SessionRecord, SessionState, StoreError,
};

const PART_SELECT: &str =
    "SELECT session_id, idx, part_id, offset, size, sha1, object_key FROM parts";

pub(super) fn create_session(tx: &Transaction<'_>, s: &SessionRecord) -> DbResult<()> {
    let (folder_id, file_id, name) = s.target.columns();
    tx.prepare_cached(
        "INSERT INTO sessions (id, owner_id, target_folder_id, target_file_id, target_name, \
         file_size, part_size, total_parts, num_parts, state, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 'open', ?9, ?10)",
    )?
    .execute(params![
        s.id,
        s.owner_id,
        folder_id,
        file_id,
        name,
        to_db(s.file_size)?,
        to_db(s.part_size)?,
        s.total_parts,
        s.created_at,
        s.expires_at,
    ])?;
    Ok(())
}

pub(super) fn get_session(tx: &Transaction<'_>, id: &SessionId) -> DbResult<Option<SessionRecord>> {
    let sql = concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions WHERE id = ?1"
    );
    Ok(tx
        .prepare_cached(sql)?
        .query_row([id], |row| rows::session(row))
        .optional()?)
}

fn session_state(tx: &Transaction<'_>, id: &SessionId) -> DbResult<Option<SessionState>> {
    let state: Option<String> = tx
        .prepare_cached("SELECT state FROM sessions WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(state.map(|s| SessionState::decode(&s)).transpose()?)
}

pub(super) fn get_part(
    tx: &Transaction<'_>,
    session_id: &SessionId,
    index: u32,
) -> DbResult<Option<PartRecord>> {
    let sql = format!("{PART_SELECT} WHERE session_id = ?1 AND idx = ?2");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![session_id, index], |row| rows::part(row))
        .optional()?)
}

pub(super) fn insert_part(tx: &Transaction<'_>, part: &PartRecord) -> DbResult<PartInsert> {
    match session_state(tx, &part.session_id)? {
        None => return Err(StoreError::NotFound.into()),
        Some(SessionState::Open) => {}
        Some(state) => return Err(StoreError::SessionNotOpen(state).into()),
    }
    if let Some(existing) = get_part(tx, &part.session_id, part.index)? {
        return Ok(PartInsert::Existing(existing));
    }
    tx.prepare_cached(
        "INSERT INTO parts (session_id, idx, part_id, offset, size, sha1, object_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        part.session_id,
        part.index,
        part.part_id,
        to_db(part.offset)?,
        to_db(part.size)?,
        part.sha1,
        part.object_key,
    ])?;
    tx.prepare_cached("UPDATE sessions SET num_parts = num_parts + 1 WHERE id = ?1")?
        .execute([&part.session_id])?;
    Ok(PartInsert::Inserted)
}

pub(super) fn list_parts(
    tx: &Transaction<'_>,
    session_id: &SessionId,
    offset: u64,
    limit: u64,
) -> DbResult<(u64, Vec<PartRecord>)> {
    let total: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM parts WHERE session_id = ?1")?
        .query_row([session_id], |r| r.get(0))?;
    let sql =
        format!("{PART_SELECT} WHERE session_id = ?1 ORDER BY offset, idx LIMIT ?2 OFFSET ?3");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![session_id, page_bound(limit), page_bound(offset)],
        |row| rows::part(row),
    )?;
    let parts = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total.unsigned_abs(), parts))
}

pub(super) fn advance_frontier(
    tx: &Transaction<'_>,
    session_id: &SessionId,
    from: u64,
    to: &Frontier,
) -> DbResult<bool> {
    let changed = tx
        .prepare_cached(
            "UPDATE sessions SET frontier_offset = ?1, frontier_state = ?2 \
             WHERE id = ?3 AND frontier_offset = ?4",
        )?
        .execute(params![
            to_db(to.offset)?,
            to.state,
            session_id,
            to_db(from)?
        ])?;
    if changed == 0 && session_state(tx, session_id)?.is_none() {
        return Err(StoreError::NotFound.into());
    }
    Ok(changed == 1)
}

/// The session's part objects in index (= file) order.
fn part_objects(tx: &Transaction<'_>, session_id: &SessionId) -> DbResult<Vec<ObjectRef>> {
    let mut stmt = tx.prepare_cached(
        "SELECT object_key, offset, size FROM parts WHERE session_id = ?1 ORDER BY idx",
    )?;
    let objects = stmt.query_map([session_id], |row| rows::object(row))?;
    Ok(objects.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn commit_session(tx: &Transaction<'_>, commit: &CommitSession) -> DbResult<FileRecord> {
    // The write transaction excludes every other writer: the session read
    // here is the one marked committed below.
    let session = get_session(tx, &commit.session_id)?.ok_or(StoreError::NotFound)?;
    let write = commit.decide.decide(&session)?;
    let content = NewContent {
        size: session.file_size,
        sha1: commit.sha1.clone(),
        objects: part_objects(tx, &session.id)?,
    };
    let file = write_file(tx, session.owner_id, &write, &content)?;
    tx.prepare_cached(
        "UPDATE sessions SET state = 'committed', committed_file_id = ?1, \
         committed_version_id = ?2 WHERE id = ?3",
    )?
    .execute(params![file.id, file.version.id, session.id])?;
    Ok(file)
}

pub(super) fn delete_session(tx: &Transaction<'_>, id: &SessionId) -> DbResult<()> {
    let state = session_state(tx, id)?.ok_or(StoreError::NotFound)?;
    if state != SessionState::Committed {
        // The parts' objects belong to no version: queue them for deletion.
        tx.prepare_cached(
            "INSERT OR IGNORE INTO garbage (key) SELECT object_key FROM parts WHERE session_id = ?1",
        )?
        .execute([id])?;
    }
    // Parts go by ON DELETE CASCADE.
    tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}
