//! File writes: decided by the service, executed by the stores.
//!
//! Why decisions are functions: some protocol rules can only be applied to
//! the row as it stands inside the store's transaction, with the row locked:
//! an `If-Match` precondition, the attributes a new version keeps, the etag
//! it gets, what a commit produces for the session it finds. The service
//! builds each rule as a [`Decision`] (see `service::policy`); a store loads
//! the row, calls the decision, and writes what comes back verbatim. So a
//! rule exists once, whatever the number of backends, and a store makes no
//! protocol choice of its own. It does still enforce what only it can:
//! uniqueness of names, existence of parents, and the ownership scoping of
//! every lookup.
//!
//! A decision may be called more than once for one write (a backend may
//! retry a transaction after a serialization failure), so it must be a pure
//! function of its input.

use std::fmt;
use std::sync::Arc;

use super::{
    FileId, FileRecord, FolderId, FolderRecord, NewContent, SessionId, SessionRecord, StoreResult,
    UserId,
};

/// The function behind a [`Decision`].
type Rule<I, O> = dyn Fn(&I) -> StoreResult<O> + Send + Sync;

/// A protocol rule the service hands a store: given the row as it stands
/// in the store's transaction, the values to write, or the error to answer.
pub struct Decision<I: ?Sized, O>(Arc<Rule<I, O>>);

impl<I: ?Sized, O> Decision<I, O> {
    /// Wraps a pure function of the current row.
    pub fn new(f: impl Fn(&I) -> StoreResult<O> + Send + Sync + 'static) -> Self {
        Decision(Arc::new(f))
    }

    /// Applies the rule to the row as the store found it.
    pub fn decide(&self, current: &I) -> StoreResult<O> {
        (self.0)(current)
    }
}

impl<I: ?Sized, O> Clone for Decision<I, O> {
    fn clone(&self) -> Self {
        Decision(Arc::clone(&self.0))
    }
}

impl<I: ?Sized, O> fmt::Debug for Decision<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Decision(..)")
    }
}

/// Every value of a file row that a write sets, chosen by the service.
/// A new file's `created_at` is its `modified_at`; a new version's row is
/// dated `modified_at` too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileValues {
    pub name: String,
    pub description: String,
    /// etag and sequence_id.
    pub etag: i64,
    pub modified_at: i64,
    pub content_created_at: i64,
    pub content_modified_at: i64,
}

/// Every value of a folder row that a write sets, chosen by the service.
/// A new folder's `created_at` is its `modified_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderValues {
    pub name: String,
    pub description: String,
    /// etag and sequence_id.
    pub etag: i64,
    pub modified_at: i64,
}

/// Where an updated file goes (its parent, possibly unchanged) and the
/// row values it gets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMove {
    pub parent_id: FolderId,
    pub values: FileValues,
}

/// Where an updated folder goes and the row values it gets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderMove {
    pub parent_id: FolderId,
    pub values: FolderValues,
}

/// The rule for updating a file (rename, move, description, times).
pub type FileMoveDecision = Decision<FileRecord, FileMove>;
/// The rule for updating a folder.
pub type FolderMoveDecision = Decision<FolderRecord, FolderMove>;
/// The rule for deleting a folder (its preconditions).
pub type FolderDeleteDecision = Decision<FolderRecord, ()>;

/// The rows that copies get, applied to each item copied: the source
/// row as it stands in, the copy's row values out.
#[derive(Debug, Clone)]
pub struct CopyRules {
    pub folder: Decision<FolderRecord, FolderValues>,
    pub file: Decision<FileRecord, FileValues>,
}

/// A copy of one file, into `parent_id`: a new file whose only version
/// shares the source's current version's objects (no byte is copied).
#[derive(Debug, Clone)]
pub struct FileCopy {
    pub owner_id: UserId,
    pub source: FileId,
    pub parent_id: FolderId,
    /// The copy's row, from the source's.
    pub decide: Decision<FileRecord, FileValues>,
}

/// A copy of a folder and everything in it, into `parent_id`.
#[derive(Debug, Clone)]
pub struct FolderCopy {
    pub owner_id: UserId,
    pub source: FolderId,
    pub parent_id: FolderId,
    /// The top copy's row (its name may differ from the source's).
    pub top: Decision<FolderRecord, FolderValues>,
    /// The rows of everything below it.
    pub rules: CopyRules,
}

/// The rule for a new version of an existing file.
pub type VersionDecision = Decision<FileRecord, FileValues>;
/// The rule for deleting a file (its preconditions).
pub type DeleteDecision = Decision<FileRecord, ()>;
/// The rule for committing a session: what it turns into, or why not.
pub type CommitDecision = Decision<SessionRecord, FileWrite>;

/// What a write does to the file tree.
#[derive(Debug, Clone)]
pub enum FileWrite {
    /// A new file in `parent_id` (the root or a folder of the owner).
    Create {
        parent_id: FolderId,
        values: FileValues,
    },
    /// A new current version of `file_id`, with the row values `decide`
    /// picks from the file as it stands.
    NewVersion {
        file_id: FileId,
        decide: VersionDecision,
    },
}

/// A file write with its content, for one owner.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub owner_id: UserId,
    pub write: FileWrite,
    pub content: NewContent,
}

/// Everything a commit needs to turn an open session into a file version.
#[derive(Debug, Clone)]
pub struct CommitSession {
    pub session_id: SessionId,
    /// The whole-file SHA-1 (lowercase hex), already verified by the service.
    pub sha1: String,
    /// Applied to the session row, locked; its owner writes the file.
    pub decide: CommitDecision,
}
