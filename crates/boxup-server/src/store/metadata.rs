//! The metadata trait. Every method is one atomic transaction (the
//! defaults of the two combined methods, which a backend overrides, run
//! two); "owner" arguments scope every lookup so that a foreign id is
//! simply not found.

use async_trait::async_trait;

use super::*;

/// Every metadata store also keeps the credentials ([`CredentialStore`]):
/// tokens and quotas live in the same database as what they guard.
#[async_trait]
pub trait MetadataStore: CredentialStore {
    /// Calls `f` with each failed transaction from now on (`failures.rs`
    /// says why); a store that cannot tell ignores it. Set once.
    fn on_failure(&self, f: FailureFn) {
        drop(f);
    }

    // ---- users ----

    /// Returns the user with this login, creating it (with a new decimal id)
    /// if it does not exist yet. Idempotent.
    async fn ensure_user(&self, login: &str, name: &str) -> StoreResult<UserRecord>;
    async fn get_user(&self, id: UserId) -> StoreResult<Option<UserRecord>>;

    // ---- folders and items ----

    /// A stored folder owned by `owner` (the root is never stored).
    async fn get_folder(&self, owner: UserId, id: FolderId) -> StoreResult<Option<FolderRecord>>;
    /// Creates a folder. `ParentNotFound` if `parent_id` is neither the root
    /// nor a folder of the owner; `NameInUse` if a file or folder with the
    /// same name (compared case-insensitively) is in the parent.
    async fn create_folder(&self, new: NewFolder) -> StoreResult<FolderRecord>;
    /// The file or folder named `name` (case-insensitively) in `parent`.
    async fn find_by_name(
        &self,
        owner: UserId,
        parent: FolderId,
        name: &str,
    ) -> StoreResult<Option<ItemRef>>;
    /// A page of the items in `parent` (the root or a folder of the
    /// owner), in listing order: folders first, then files, each by
    /// case-folded name, exact name and id. `total` counts the whole folder.
    async fn list_items(
        &self,
        owner: UserId,
        parent: FolderId,
        page: ItemsPage,
    ) -> StoreResult<ItemsChunk>;
    /// Renames, moves or re-describes a folder once `decide` accepts it as
    /// it stands (locked): `NotFound`, the decision's error, then
    /// `ParentNotFound`, `FolderCycle` (the new parent is the folder or
    /// inside it), `NameInUse`.
    async fn update_folder(
        &self,
        owner: UserId,
        id: FolderId,
        decide: FolderMoveDecision,
    ) -> StoreResult<FolderRecord>;
    /// Deletes a folder once `decide` accepts it: `NotFound`, the
    /// decision's error, then `FolderNotEmpty` unless `recursive` or empty.
    /// Everything inside goes too; objects that no remaining version uses
    /// go to the garbage queue.
    async fn delete_folder(
        &self,
        owner: UserId,
        id: FolderId,
        recursive: bool,
        decide: FolderDeleteDecision,
    ) -> StoreResult<()>;
    /// Copies a folder and everything in it (files share their objects
    /// with the originals): `NotFound`, `ParentNotFound`, `FolderCycle`
    /// (the destination is the folder or inside it), `NameInUse`.
    async fn copy_folder(&self, copy: FolderCopy) -> StoreResult<FolderRecord>;
    /// Bytes of every version of every file the owner has (a copy's
    /// shared objects count for each file, as at Box).
    async fn space_used(&self, owner: UserId) -> StoreResult<u64>;

    // ---- files ----

    async fn get_file(&self, owner: UserId, id: FileId) -> StoreResult<Option<FileRecord>>;
    /// A version of one of the owner's files.
    async fn get_version(
        &self,
        owner: UserId,
        file_id: FileId,
        version_id: VersionId,
    ) -> StoreResult<Option<VersionRecord>>;
    /// The objects of a version, in file order.
    async fn version_objects(&self, version_id: VersionId) -> StoreResult<Vec<ObjectRef>>;
    /// Writes a new file (`ParentNotFound` / `NameInUse` as for folders) or
    /// a new current version of one: `NotFound` if the owner has no such
    /// file, then whatever the decision answers for the file as it stands
    /// (locked), then `NameInUse` if its chosen name is another item's.
    /// The row gets exactly the decided values.
    async fn write_file(&self, change: FileChange) -> StoreResult<FileRecord>;
    /// Renames, moves or re-describes a file once `decide` accepts it as it
    /// stands (locked): `NotFound`, the decision's error, then
    /// `ParentNotFound`, `NameInUse`. Its versions are untouched.
    async fn update_file(
        &self,
        owner: UserId,
        id: FileId,
        decide: FileMoveDecision,
    ) -> StoreResult<FileRecord>;
    /// Copies a file's current version into a new file whose version
    /// shares the same objects: `NotFound`, `ParentNotFound`, `NameInUse`.
    async fn copy_file(&self, copy: FileCopy) -> StoreResult<FileRecord>;
    /// Deletes the file and all its versions once `decide` accepts the file
    /// as it stands (locked); objects that no other file's version uses go
    /// to the garbage queue.
    /// `NotFound`, or the decision's error.
    async fn delete_file(
        &self,
        owner: UserId,
        id: FileId,
        decide: &DeleteDecision,
    ) -> StoreResult<()>;

    // ---- upload sessions ----

    /// Stores a new open session. `num_parts`, `frontier` and `committed`
    /// of the record are ignored (a new session has none).
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// Any session by id, whoever owns it (the service checks ownership so
    /// that it can tell foreign from unknown in its logs, and answers 404
    /// for both).
    async fn get_session(&self, id: &SessionId) -> StoreResult<Option<SessionRecord>>;
    /// Records a durable part. `Existing` if the index is taken (the row is
    /// left as it was); `SessionNotOpen` / `NotFound` if the session cannot
    /// take parts. Increments the session's distinct part count.
    async fn insert_part(&self, part: &PartRecord) -> StoreResult<PartInsert>;
    /// The part at `index`, if stored.
    async fn get_part(&self, session_id: &SessionId, index: u32)
    -> StoreResult<Option<PartRecord>>;
    /// A page of parts in offset order, with the total number stored.
    async fn list_parts(
        &self,
        session_id: &SessionId,
        offset: u64,
        limit: u64,
    ) -> StoreResult<(u64, Vec<PartRecord>)>;
    /// Moves the frontier from `from` to `to` with a compare-and-set on its
    /// offset. Returns false (and changes nothing) if the stored offset is
    /// no longer `from`, so two advancers never move it backwards.
    async fn advance_frontier(
        &self,
        session_id: &SessionId,
        from: u64,
        to: &Frontier,
    ) -> StoreResult<bool>;
    /// [`Self::insert_part`] for a part hashed as it streamed in, from the
    /// frontier at `part.offset`: if the row goes in and the frontier still
    /// stands at `part.offset`, the frontier moves to `to` in the same
    /// transaction. A backend overrides this to make one durable write of
    /// the two; the default runs them one after the other.
    async fn insert_hashed_part(
        &self,
        part: &PartRecord,
        to: &Frontier,
    ) -> StoreResult<PartInsert> {
        let inserted = self.insert_part(part).await?;
        if inserted == PartInsert::Inserted {
            self.advance_frontier(&part.session_id, part.offset, to)
                .await?;
        }
        Ok(inserted)
    }
    /// The session and the stored part that starts where its frontier
    /// stands (`None` when no such part is stored, or the frontier is at
    /// the end): what the frontier's next step needs. `None` overall for
    /// no such session. A backend overrides this to read both at once.
    async fn frontier_step(
        &self,
        session_id: &SessionId,
    ) -> StoreResult<Option<(SessionRecord, Option<PartRecord>)>> {
        let Some(session) = self.get_session(session_id).await? else {
            return Ok(None);
        };
        let part = match frontier_index(&session) {
            Some(index) => self.get_part(session_id, index).await?,
            None => None,
        };
        Ok(Some((session, part)))
    }
    /// Locks the session, asks `commit.decide` what it turns into (or why
    /// not: a concurrent commit that won, a foreign owner, a precondition),
    /// writes that file or version made of the session's part objects in
    /// index order, and marks the session committed with it. `NotFound` for
    /// no such session; the write fails as in [`Self::write_file`].
    async fn commit_session(&self, commit: CommitSession) -> StoreResult<FileRecord>;
    /// Removes a session. Parts of an open or expired session go to the
    /// garbage queue; parts of a committed one belong to its file version
    /// and stay. `NotFound` if there is no such session.
    async fn delete_session(&self, id: &SessionId) -> StoreResult<()>;

    // ---- housekeeping ----

    /// Expires open sessions whose `expires_at <= now` (their parts go to
    /// the garbage queue and they become `Expired`), removes committed
    /// sessions past `expires_at`, and removes expired sessions whose
    /// `expires_at <= forget_before`. Returns how many sessions it changed.
    async fn expire_sessions(&self, now: i64, forget_before: i64) -> StoreResult<u64>;
    /// Up to `limit` object keys waiting to be deleted.
    async fn garbage(&self, limit: u64) -> StoreResult<Vec<String>>;
    /// Drops keys from the garbage queue (after their objects are deleted).
    async fn forget_garbage(&self, keys: &[String]) -> StoreResult<()>;
    /// Those of `keys` that no part, version or garbage row names, in one
    /// query (the orphan sweep asks about a listed page of keys at once).
    async fn unknown_objects(&self, keys: &[String]) -> StoreResult<Vec<String>>;
    /// Takes or renews the lease `name` for `holder` until `now + ttl`,
    /// unless another holder's lease is still running. True if `holder`
    /// holds it now. The sweeper runs only on the replica that holds its
    /// lease, so replicas never sweep at the same time.
    async fn try_lease(&self, name: &str, holder: &str, now: i64, ttl: i64) -> StoreResult<bool>;
    /// How many sessions are open and not yet past `expires_at` at `now`:
    /// one indexed count, read when `/metrics` is scraped.
    async fn count_open_sessions(&self, now: i64) -> StoreResult<u64>;
}

/// The index of the part that starts at the session's frontier, if the
/// frontier is not at the end.
pub fn frontier_index(session: &SessionRecord) -> Option<u32> {
    (session.frontier.offset < session.file_size && session.part_size > 0)
        .then(|| (session.frontier.offset / session.part_size) as u32)
}
