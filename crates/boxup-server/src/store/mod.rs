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
mod credentials;
pub mod disk;
mod failures;
mod ids;
mod in_flight;
mod items;
mod metadata;
pub mod object;
mod parts;
pub mod postgres;
mod rows;
pub mod sqlite;
mod writes;

pub use credentials::{AppRecord, CredentialStore, TokenRecord};
pub(crate) use credentials::{quota_column, quota_value};
pub use failures::{FailureFn, FailureHook};
pub use ids::{FileId, FolderId, ID_MAX, ID_MIN, ItemId, SessionId, UserId, VersionId};
pub use items::{ItemCursor, ItemRecord, ItemsChunk, ItemsPage};
pub use metadata::{MetadataStore, frontier_index};
pub use parts::{ByteStream, KeyStream, PartStore, list_all_older_than};
pub use writes::{
    CommitDecision, CommitSession, CopyRules, Decision, DeleteDecision, FileChange, FileCopy,
    FileMove, FileMoveDecision, FileValues, FileWrite, FolderCopy, FolderDeleteDecision,
    FolderMove, FolderMoveDecision, FolderValues, VersionDecision,
};

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
    /// A folder to delete without `recursive` still holds items.
    #[error("the folder is not empty")]
    FolderNotEmpty,
    /// A folder would be moved or copied into itself or its own subtree.
    #[error("a folder cannot go inside itself")]
    FolderCycle,
    #[error("upload session is not open")]
    SessionNotOpen(SessionState),
    /// The body stream given to `PartStore::put` failed; nothing was stored.
    #[error("body stream failed: {0}")]
    Body(std::io::Error),
    /// The backend is out of space (disk full, quota): the server's
    /// problem, but one worth telling apart from a crash.
    #[error("storage is full: {0}")]
    StorageFull(String),
    /// The backend is out of reach (connection refused or lost, timed
    /// out, overloaded): worth retrying soon, and nothing was changed.
    #[error("backend unavailable: {0}")]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
    /// The backend failed: the error says how, with its whole cause chain
    /// (an operator reads it in the log, the client sees a generic 500).
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A backend failure caused by `e`: an error (kept with its own cause
    /// chain) or a message.
    pub fn backend(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Backend(e.into())
    }

    /// An unreachable backend: what was being done, caused by `e`.
    pub fn unavailable_context(
        context: impl Into<String>,
        e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError::Unavailable(Box::new(Context {
            context: context.into(),
            source: e.into(),
        }))
    }

    /// A backend failure: what was being done, caused by `e`.
    pub fn backend_context(
        context: impl Into<String>,
        e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError::Backend(Box::new(Context {
            context: context.into(),
            source: e.into(),
        }))
    }
}

/// What a backend was doing when `source` failed it.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
struct Context {
    context: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub login: String,
    pub name: String,
}

/// A file or folder in brief: what a conflict or a folder listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    pub id: ItemId,
    pub name: String,
    /// etag and sequence_id (they move together).
    pub etag: i64,
    /// Files only: the current version in brief.
    pub version: Option<ItemVersion>,
}

impl ItemRef {
    /// An item from the columns every backend's item query selects: a
    /// kind flag, the id, name and etag, and the version (files only).
    pub fn from_columns(
        is_file: bool,
        id: i64,
        name: String,
        etag: i64,
        version: Option<ItemVersion>,
    ) -> Self {
        let id = if is_file {
            ItemId::File(FileId(id))
        } else {
            ItemId::Folder(FolderId(id))
        };
        ItemRef {
            id,
            name,
            etag,
            version,
        }
    }

    /// Whether this is the file `file` (a file may take its own name).
    pub fn is_file(&self, file: FileId) -> bool {
        self.id == ItemId::File(file)
    }
}

/// A file's current version, as a listing or a conflict shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemVersion {
    pub id: VersionId,
    /// Lowercase hex.
    pub sha1: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRecord {
    pub id: FolderId,
    pub owner_id: UserId,
    /// `FolderId::ROOT` for a top-level folder.
    pub parent_id: FolderId,
    pub name: String,
    pub description: String,
    pub etag: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFolder {
    pub owner_id: UserId,
    pub parent_id: FolderId,
    pub name: String,
    pub now: i64,
}

impl NewFolder {
    /// The values this folder's row is stored with: every backend inserts
    /// exactly these (a new folder is undescribed, at etag 0).
    pub fn values(&self) -> FolderValues {
        FolderValues {
            name: self.name.clone(),
            description: String::new(),
            etag: 0,
            modified_at: self.now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub id: VersionId,
    pub file_id: FileId,
    pub size: u64,
    /// Lowercase hex.
    pub sha1: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub id: FileId,
    pub owner_id: UserId,
    pub parent_id: FolderId,
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

/// What an upload session will produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionTarget {
    NewFile {
        folder_id: FolderId,
        name: String,
    },
    NewVersion {
        file_id: FileId,
        name: Option<String>,
    },
}

impl SessionTarget {
    /// The three columns a session row stores its target in:
    /// (`target_folder_id`, `target_file_id`, `target_name`).
    pub fn columns(&self) -> (Option<FolderId>, Option<FileId>, Option<&str>) {
        match self {
            SessionTarget::NewFile { folder_id, name } => (Some(*folder_id), None, Some(name)),
            SessionTarget::NewVersion { file_id, name } => (None, Some(*file_id), name.as_deref()),
        }
    }

    /// The target those columns describe; `None` if they are inconsistent.
    pub fn from_columns(
        folder_id: Option<FolderId>,
        file_id: Option<FileId>,
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

    /// The state a `sessions.state` column holds, or a backend error: a
    /// value no version of boxup writes.
    pub fn decode(s: &str) -> StoreResult<Self> {
        Self::from_column(s)
            .ok_or_else(|| StoreError::backend(format!("unknown session state {s:?}")))
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
    pub id: SessionId,
    pub owner_id: UserId,
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
    pub committed: Option<CommittedVersion>,
}

/// The file version a committed session produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommittedVersion {
    pub file_id: FileId,
    pub version_id: VersionId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub session_id: SessionId,
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
