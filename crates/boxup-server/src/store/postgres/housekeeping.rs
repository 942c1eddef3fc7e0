//! Session expiry, the garbage queue and object lookups for the sweeper.
//!
//! Why it looks like this: every replica runs a sweeper, so housekeeping
//! must neither block on nor double-process what another replica (or an
//! upload in flight) holds. `expire_sessions` first claims its sessions
//! with `FOR UPDATE SKIP LOCKED` (a session being written to, committed or
//! expired elsewhere is left for a later sweep), then works only on the ids
//! it claimed; `garbage` reads with `SKIP LOCKED` so it never waits for a
//! concurrent `forget_garbage`.

use sqlx::{PgConnection, Row};

use super::{DbResult, page_bound};

/// See `MetadataStore::expire_sessions`. Each session counts once, even if
/// it is expired and forgotten in the same call.
pub(super) async fn expire_sessions(
    c: &mut PgConnection,
    now: i64,
    forget_before: i64,
) -> DbResult<u64> {
    let rows = sqlx::query(
        "SELECT id, state, expires_at FROM sessions \
         WHERE (state IN ('open', 'committed') AND expires_at <= $1) \
            OR (state = 'expired' AND expires_at <= $2) \
         ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .bind(forget_before)
    .fetch_all(&mut *c)
    .await?;
    // Open sessions past expiry lose their parts (objects to the garbage
    // queue) and become expired; committed sessions past expiry and expired
    // sessions past retention go (a committed session's objects belong to
    // its file version); an open session already past retention does both.
    let mut expire = Vec::new();
    let mut remove = Vec::new();
    for row in &rows {
        let id: String = row.try_get(0)?;
        let state: &str = row.try_get(1)?;
        let expires_at: i64 = row.try_get(2)?;
        if state == "open" {
            if expires_at <= forget_before {
                remove.push(id.clone());
            }
            expire.push(id);
        } else {
            remove.push(id);
        }
    }
    if !expire.is_empty() {
        sqlx::query(
            "INSERT INTO garbage (key) SELECT object_key FROM parts \
             WHERE session_id = ANY($1) ORDER BY 1 ON CONFLICT (key) DO NOTHING",
        )
        .bind(&expire)
        .execute(&mut *c)
        .await?;
        sqlx::query("DELETE FROM parts WHERE session_id = ANY($1)")
            .bind(&expire)
            .execute(&mut *c)
            .await?;
        sqlx::query("UPDATE sessions SET state = 'expired', num_parts = 0 WHERE id = ANY($1)")
            .bind(&expire)
            .execute(&mut *c)
            .await?;
    }
    if !remove.is_empty() {
        // Parts (of expired sessions there are none left) go by cascade.
        sqlx::query("DELETE FROM sessions WHERE id = ANY($1)")
            .bind(&remove)
            .execute(&mut *c)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// Up to `limit` keys, skipping rows a concurrent transaction holds (a
/// `forget_garbage` in flight): they are about to disappear anyway.
pub(super) async fn garbage(c: &mut PgConnection, limit: u64) -> DbResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT key FROM garbage ORDER BY key LIMIT $1 FOR UPDATE SKIP LOCKED")
            .bind(page_bound(limit))
            .fetch_all(&mut *c)
            .await?,
    )
}

pub(super) async fn count_open_sessions(c: &mut PgConnection, now: i64) -> DbResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE state = 'open' AND expires_at > $1",
    )
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(n.max(0) as u64)
}

pub(super) async fn forget_garbage(c: &mut PgConnection, keys: &[String]) -> DbResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM garbage WHERE key = ANY($1)")
        .bind(keys)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(super) async fn unknown_objects(
    c: &mut PgConnection,
    keys: &[String],
) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT k FROM UNNEST($1::text[]) WITH ORDINALITY AS u(k, n) \
         WHERE NOT EXISTS (SELECT 1 FROM parts WHERE object_key = k) \
           AND NOT EXISTS (SELECT 1 FROM version_objects WHERE object_key = k) \
           AND NOT EXISTS (SELECT 1 FROM garbage WHERE key = k) \
         ORDER BY n",
    )
    .bind(keys)
    .fetch_all(&mut *c)
    .await?)
}

/// See `MetadataStore::try_lease`. One statement: the row lock of the
/// upsert decides between replicas asking at once.
pub(super) async fn try_lease(
    c: &mut PgConnection,
    name: &str,
    holder: &str,
    now: i64,
    ttl: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, \
             expires_at = EXCLUDED.expires_at \
         WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $4",
    )
    .bind(name)
    .bind(holder)
    .bind(now.saturating_add(ttl))
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues for deletion those of `keys` that no file version uses any more
/// (a copy shares its objects with the original). A concurrent copy of a
/// file holds that file's row lock against its deletion, so a key is never
/// released while a copy that uses it is being written.
pub(super) async fn release_objects(c: &mut PgConnection, keys: &[String]) -> DbResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO garbage (key) SELECT k FROM UNNEST($1::text[]) AS k \
         WHERE NOT EXISTS (SELECT 1 FROM version_objects WHERE object_key = k) \
         ORDER BY 1 ON CONFLICT (key) DO NOTHING",
    )
    .bind(keys)
    .execute(&mut *c)
    .await?;
    Ok(())
}
