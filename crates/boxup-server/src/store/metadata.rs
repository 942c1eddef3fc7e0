//! The metadata trait. Every method is one atomic transaction; "owner"
//! arguments scope every lookup so that a foreign id is simply not found.

use async_trait::async_trait;

use super::*;

#[async_trait]
pub trait MetadataStore: Send + Sync + 'static {
    // ---- users ----

    /// Returns the user with this login, creating it (with a new decimal id)
    /// if it does not exist yet. Idempotent.
    async fn ensure_user(&self, login: &str, name: &str) -> StoreResult<UserRecord>;
    async fn get_user(&self, id: i64) -> StoreResult<Option<UserRecord>>;

    // ---- folders and items ----

    /// A stored folder owned by `owner` (the root, id 0, is never stored).
    async fn get_folder(&self, owner: i64, id: i64) -> StoreResult<Option<FolderRecord>>;
    /// Creates a folder. `ParentNotFound` if `parent_id` is neither the root
    /// nor a folder of the owner; `NameInUse` if a file or folder with the
    /// same name (compared case-insensitively) is in the parent.
    async fn create_folder(&self, new: NewFolder) -> StoreResult<FolderRecord>;
    /// The file or folder named `name` (case-insensitively) in `parent`.
    async fn find_by_name(
        &self,
        owner: i64,
        parent: i64,
        name: &str,
    ) -> StoreResult<Option<ItemRef>>;
    /// Folders first, then files, each ordered by name; returns the total
    /// count of items in the folder and the requested page.
    async fn list_items(
        &self,
        owner: i64,
        parent: i64,
        offset: u64,
        limit: u64,
    ) -> StoreResult<(u64, Vec<ItemRef>)>;

    // ---- files ----

    async fn get_file(&self, owner: i64, id: i64) -> StoreResult<Option<FileRecord>>;
    /// A version of one of the owner's files.
    async fn get_version(
        &self,
        owner: i64,
        file_id: i64,
        version_id: i64,
    ) -> StoreResult<Option<VersionRecord>>;
    /// The objects of a version, in file order.
    async fn version_objects(&self, version_id: i64) -> StoreResult<Vec<ObjectRef>>;
    /// `ParentNotFound` / `NameInUse` as for folders.
    async fn create_file(&self, new: NewFile) -> StoreResult<FileRecord>;
    /// A new current version; `NotFound`, `PreconditionFailed`, `NameInUse`.
    async fn add_version(&self, new: NewVersion) -> StoreResult<FileRecord>;
    /// Deletes the file and all its versions; their objects go to the
    /// garbage queue. `NotFound`, or `PreconditionFailed` on an etag mismatch.
    async fn delete_file(&self, owner: i64, id: i64, if_match: Option<i64>) -> StoreResult<()>;

    // ---- upload sessions ----

    /// Stores a new open session. `num_parts`, `frontier` and `committed`
    /// of the record are ignored (a new session has none).
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// Any session by id, whoever owns it (the service checks ownership so
    /// that it can tell foreign from unknown in its logs, and answers 404
    /// for both).
    async fn get_session(&self, id: &str) -> StoreResult<Option<SessionRecord>>;
    /// Records a durable part. `Existing` if the index is taken (the row is
    /// left as it was); `SessionNotOpen` / `NotFound` if the session cannot
    /// take parts. Increments the session's distinct part count.
    async fn insert_part(&self, part: &PartRecord) -> StoreResult<PartInsert>;
    /// The part at `index`, if stored.
    async fn get_part(&self, session_id: &str, index: u32) -> StoreResult<Option<PartRecord>>;
    /// A page of parts in offset order, with the total number stored.
    async fn list_parts(
        &self,
        session_id: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<(u64, Vec<PartRecord>)>;
    /// Moves the frontier from `from` to `to` with a compare-and-set on its
    /// offset. Returns false (and changes nothing) if the stored offset is
    /// no longer `from`, so two advancers never move it backwards.
    async fn advance_frontier(
        &self,
        session_id: &str,
        from: u64,
        to: &Frontier,
    ) -> StoreResult<bool>;
    /// Turns an open session whose parts tile the file into a new file (or
    /// a new version) made of those parts' objects, and marks the session
    /// committed with the resulting (file id, version id). Fails with
    /// `SessionNotOpen(Committed)` if a concurrent commit won, `NotFound`,
    /// `ParentNotFound`, `NameInUse`, `PreconditionFailed`.
    async fn commit_session(&self, commit: CommitSession) -> StoreResult<FileRecord>;
    /// Removes a session. Parts of an open or expired session go to the
    /// garbage queue; parts of a committed one belong to its file version
    /// and stay. `NotFound` if there is no such session.
    async fn delete_session(&self, id: &str) -> StoreResult<()>;

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
    /// Whether any part, version or garbage row names this object key.
    async fn is_object_known(&self, key: &str) -> StoreResult<bool>;
}
