//! Session expiry, the garbage queue and object lookups for the sweeper.

use rusqlite::{Transaction, params};

use super::{DbResult, page_bound};

/// See `MetadataStore::expire_sessions`. Each session counts once, even if
/// it is expired and forgotten in the same call.
pub(super) fn expire_sessions(tx: &Transaction<'_>, now: i64, forget_before: i64) -> DbResult<u64> {
    // Expired sessions past their retention (counted here, before the
    // sessions that expire now join them).
    let forgotten = tx
        .prepare_cached("DELETE FROM sessions WHERE state = 'expired' AND expires_at <= ?1")?
        .execute([forget_before])?;
    // Open sessions past their expiry: their parts' objects are garbage,
    // their part rows go, and they become expired.
    tx.prepare_cached(
        "INSERT OR IGNORE INTO garbage (key) SELECT p.object_key FROM parts p \
         JOIN sessions s ON s.id = p.session_id WHERE s.state = 'open' AND s.expires_at <= ?1",
    )?
    .execute([now])?;
    tx.prepare_cached(
        "DELETE FROM parts WHERE session_id IN \
         (SELECT id FROM sessions WHERE state = 'open' AND expires_at <= ?1)",
    )?
    .execute([now])?;
    let expired = tx
        .prepare_cached(
            "UPDATE sessions SET state = 'expired', num_parts = 0 \
             WHERE state = 'open' AND expires_at <= ?1",
        )?
        .execute([now])?;
    // Sessions that just expired and are already past retention go too
    // (already counted as expired).
    tx.prepare_cached("DELETE FROM sessions WHERE state = 'expired' AND expires_at <= ?1")?
        .execute([forget_before])?;
    // Committed sessions past expiry: only the rows go; their objects
    // belong to the file version.
    let committed = tx
        .prepare_cached("DELETE FROM sessions WHERE state = 'committed' AND expires_at <= ?1")?
        .execute([now])?;
    Ok((forgotten + expired + committed) as u64)
}

pub(super) fn garbage(tx: &Transaction<'_>, limit: u64) -> DbResult<Vec<String>> {
    let mut stmt = tx.prepare_cached("SELECT key FROM garbage ORDER BY key LIMIT ?1")?;
    let rows = stmt.query_map([page_bound(limit)], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

pub(super) fn count_open_sessions(tx: &Transaction<'_>, now: i64) -> DbResult<u64> {
    let n: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM sessions WHERE state = 'open' AND expires_at > ?1")?
        .query_row([now], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

pub(super) fn forget_garbage(tx: &Transaction<'_>, keys: &[String]) -> DbResult<()> {
    let mut stmt = tx.prepare_cached("DELETE FROM garbage WHERE key = ?1")?;
    for key in keys {
        stmt.execute([key])?;
    }
    Ok(())
}

/// The keys travel as one JSON array, so the page is one statement.
pub(super) fn unknown_objects(tx: &Transaction<'_>, keys: &[String]) -> DbResult<Vec<String>> {
    let keys = serde_json::to_string(keys).expect("a list of strings is JSON");
    let mut stmt = tx.prepare_cached(
        "SELECT k.value FROM json_each(?1) AS k \
         WHERE NOT EXISTS (SELECT 1 FROM parts WHERE object_key = k.value) \
           AND NOT EXISTS (SELECT 1 FROM version_objects WHERE object_key = k.value) \
           AND NOT EXISTS (SELECT 1 FROM garbage WHERE key = k.value) \
         ORDER BY k.key",
    )?;
    let rows = stmt.query_map(params![keys], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

/// See `MetadataStore::try_lease`.
pub(super) fn try_lease(
    tx: &Transaction<'_>,
    name: &str,
    holder: &str,
    now: i64,
    ttl: i64,
) -> DbResult<bool> {
    let changed = tx
        .prepare_cached(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4",
        )?
        .execute(params![name, holder, now.saturating_add(ttl), now])?;
    Ok(changed == 1)
}

/// Queues for deletion those of `keys` that no file version uses any more
/// (a copied file shares its objects with the original, so deleting one
/// of them frees nothing while the other lives).
pub(super) fn release_objects(tx: &Transaction<'_>, keys: &[String]) -> DbResult<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO garbage (key) SELECT ?1 \
         WHERE NOT EXISTS (SELECT 1 FROM version_objects WHERE object_key = ?1)",
    )?;
    for key in keys {
        stmt.execute([key])?;
    }
    Ok(())
}
