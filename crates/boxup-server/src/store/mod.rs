//! The storage boundary: two narrow traits and the records they speak.
//!
//! [`MetadataStore`] holds users, folders, files, versions, sessions and
//! parts; it is the concurrency authority (every method is one atomic
//! transaction, and uniqueness is enforced there, not in the service).
//! [`PartStore`] holds immutable byte objects under opaque keys that the
//! service makes from hex ids only, so a user's file name never becomes a
//! path. Each trait has one conformance suite in [`conformance`], run
//! against every implementation.
//!
//! Invariants shared by both:
//! - a part row exists only after its object is durable (the service calls
//!   `PartStore::put` first and `MetadataStore::insert_part` second);
//! - an object that no row references is garbage: the store hands its key
//!   out through the garbage queue or the orphan sweep, never as data.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod disk;
mod metadata;
mod parts;
pub mod postgres;
pub mod sqlite;

pub use metadata::MetadataStore;
pub use parts::{ByteStream, PartStore};

/// The root folder's id; every user has one, and it is never stored.
pub const ROOT_FOLDER_ID: i64 = 0;

/// Smallest id a metadata store hands out (12 decimal digits). Ids are
/// random in `[ID_MIN, ID_MAX]`, so they do not leak how many items exist.
pub const ID_MIN: i64 = 100_000_000_000;
/// Largest id a metadata store hands out.
pub const ID_MAX: i64 = 999_999_999_999;

/// The key names are compared by: unique per parent, case-insensitively.
/// Every backend stores and compares this, so they agree on conflicts.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Errors at the storage boundary, converted once into the API's errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("parent folder not found")]
    ParentNotFound,
    #[error("an item with the same name already exists")]
    NameInUse(ItemRef),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("upload session is not open")]
    SessionNotOpen(SessionState),
    /// The body stream given to `PartStore::put` failed; nothing was stored.
    #[error("body stream failed: {0}")]
    Body(std::io::Error),
    /// The backend is out of space (disk full, quota): the server's
    /// problem, but one worth telling apart from a crash.
    #[error("storage is full: {0}")]
    StorageFull(String),
    #[error("storage backend failed: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn backend(e: impl std::fmt::Display) -> Self {
        StoreError::Backend(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub login: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    File,
    Folder,
}

/// A file or folder in brief: what a conflict or a folder listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    /// etag and sequence_id (they move together).
    pub etag: i64,
    /// Files only: the current version's id, sha1 and size.
    pub version: Option<(i64, String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRecord {
    pub id: i64,
    pub owner_id: i64,
    /// `ROOT_FOLDER_ID` for a top-level folder.
    pub parent_id: i64,
    pub name: String,
    pub description: String,
    pub etag: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFolder {
    pub owner_id: i64,
    pub parent_id: i64,
    pub name: String,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub id: i64,
    pub file_id: i64,
    pub size: u64,
    /// Lowercase hex.
    pub sha1: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub id: i64,
    pub owner_id: i64,
    pub parent_id: i64,
    pub name: String,
    pub description: String,
    /// etag and sequence_id; starts at 0 and grows by one per new version.
    pub etag: i64,
    pub created_at: i64,
    pub modified_at: i64,
    pub content_created_at: i64,
    pub content_modified_at: i64,
    pub version: VersionRecord,
}

/// One byte object of a file version, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub key: String,
    pub offset: u64,
    pub size: u64,
}

/// The content of a new file version (from a simple upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContent {
    pub size: u64,
    pub sha1: String,
    pub objects: Vec<ObjectRef>,
}

/// Attributes that a commit or upload may set on the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileAttributes {
    pub description: Option<String>,
    pub content_created_at: Option<i64>,
    pub content_modified_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub owner_id: i64,
    pub parent_id: i64,
    pub name: String,
    pub attributes: FileAttributes,
    pub content: NewContent,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub owner_id: i64,
    pub file_id: i64,
    /// A new name for the file, checked for conflicts in its folder.
    pub rename: Option<String>,
    /// `If-Match`: fail with `PreconditionFailed` unless the etag is this.
    pub if_match: Option<i64>,
    pub attributes: FileAttributes,
    pub content: NewContent,
    pub now: i64,
}

/// What an upload session will produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionTarget {
    NewFile { folder_id: i64, name: String },
    NewVersion { file_id: i64, name: Option<String> },
}

impl SessionTarget {
    /// The three columns a session row stores its target in:
    /// (`target_folder_id`, `target_file_id`, `target_name`).
    pub fn columns(&self) -> (Option<i64>, Option<i64>, Option<&str>) {
        match self {
            SessionTarget::NewFile { folder_id, name } => (Some(*folder_id), None, Some(name)),
            SessionTarget::NewVersion { file_id, name } => (None, Some(*file_id), name.as_deref()),
        }
    }

    /// The target those columns describe; `None` if they are inconsistent.
    pub fn from_columns(
        folder_id: Option<i64>,
        file_id: Option<i64>,
        name: Option<String>,
    ) -> Option<Self> {
        match (folder_id, file_id, name) {
            (Some(folder_id), None, Some(name)) => Some(SessionTarget::NewFile { folder_id, name }),
            (None, Some(file_id), name) => Some(SessionTarget::NewVersion { file_id, name }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Open,
    Committed,
    Expired,
}

impl SessionState {
    /// The state as a `sessions.state` column spells it (`'open'`, …).
    pub fn from_column(s: &str) -> Option<Self> {
        match s {
            "open" => Some(SessionState::Open),
            "committed" => Some(SessionState::Committed),
            "expired" => Some(SessionState::Expired),
            _ => None,
        }
    }
}

/// The persisted position of a session's whole-file SHA-1: the bytes
/// `[0, offset)` are hashed, and `state` is the serialised midstate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    pub offset: u64,
    pub state: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// 32 uppercase hex characters.
    pub id: String,
    pub owner_id: i64,
    pub target: SessionTarget,
    pub file_size: u64,
    pub part_size: u64,
    pub total_parts: u32,
    /// Distinct stored parts; computed by the store, ignored on create.
    pub num_parts: u32,
    pub state: SessionState,
    pub created_at: i64,
    pub expires_at: i64,
    pub frontier: Frontier,
    /// Set once committed: the file and version the commit produced.
    pub committed: Option<(i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub session_id: String,
    /// `offset / part_size`.
    pub index: u32,
    /// 8 uppercase hex characters.
    pub part_id: String,
    pub offset: u64,
    pub size: u64,
    /// Lowercase hex.
    pub sha1: String,
    pub object_key: String,
}

/// The answer of `insert_part`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartInsert {
    Inserted,
    /// Another part already holds this index; the new row was not written.
    Existing(PartRecord),
}

/// Everything a commit needs to turn an open session into a file version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSession {
    pub session_id: String,
    pub owner_id: i64,
    /// The whole-file SHA-1 (lowercase hex), already verified by the service.
    pub sha1: String,
    pub attributes: FileAttributes,
    pub if_match: Option<i64>,
    pub if_none_match: Option<i64>,
    pub now: i64,
}
