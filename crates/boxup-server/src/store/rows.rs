//! Records from result rows, decoded once for every SQL backend.
//!
//! Why: both SQL backends select the same columns, in the same order, for
//! each record (the column-list macros below are the contract). Decoding
//! them by hand in each backend wrote every record twice and let the two
//! drift. A backend now only says how to read one column of its driver's
//! row ([`Columns`]); every record is built here.
//!
//! Unsigned values (sizes, offsets, counts) are `BIGINT` in both schemas,
//! so every crossing is checked and an out-of-range value is an error
//! naming its column, never a wrap.

use super::{
    AppRecord, CommittedVersion, FileId, FileRecord, FolderId, FolderRecord, Frontier, ItemRef,
    ItemVersion, ObjectRef, PartRecord, SessionId, SessionRecord, SessionState, SessionTarget,
    TokenRecord, UserId, UserRecord, VersionId, VersionRecord,
};

// The column lists, as macros so that `concat!` makes whole static
// statements of them in both backends.

/// The file columns, current version last (`f` files, `v` versions).
macro_rules! file_columns {
    () => {
        "f.id, f.owner_id, f.parent_id, f.name, f.description, f.etag, f.created_at, \
         f.modified_at, f.content_created_at, f.content_modified_at, \
         v.id, v.file_id, v.size, v.sha1, v.created_at"
    };
}
/// The version columns (`v` versions).
macro_rules! version_columns {
    () => {
        "v.id, v.file_id, v.size, v.sha1, v.created_at"
    };
}
/// The folder columns.
macro_rules! folder_columns {
    () => {
        "id, owner_id, parent_id, name, description, etag, created_at, modified_at"
    };
}
/// The app columns.
macro_rules! app_columns {
    () => {
        "client_id, name, user_id, secret_phc, public_key_id, public_key_pem, created_at"
    };
}
/// The access-token columns.
macro_rules! token_columns {
    () => {
        "id, user_id, label, created_at, expires_at"
    };
}
/// The token columns then its user's, from `access_tokens t JOIN users u`.
macro_rules! token_user_columns {
    () => {
        "t.id, t.user_id, t.label, t.created_at, t.expires_at, u.id, u.login, u.name"
    };
}
/// The user columns.
macro_rules! user_columns {
    () => {
        "id, login, name"
    };
}
/// The session columns.
macro_rules! session_columns {
    () => {
        "id, owner_id, target_folder_id, target_file_id, target_name, file_size, part_size, \
         total_parts, num_parts, state, created_at, expires_at, frontier_offset, \
         frontier_state, committed_file_id, committed_version_id"
    };
}
pub(crate) use {
    app_columns, file_columns, folder_columns, session_columns, token_columns, token_user_columns,
    user_columns, version_columns,
};

/// One column of a driver's result row, by index.
pub(crate) trait Columns {
    /// The driver's error.
    type Error;
    fn i64(&self, idx: usize) -> Result<i64, Self::Error>;
    fn opt_i64(&self, idx: usize) -> Result<Option<i64>, Self::Error>;
    fn text(&self, idx: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, idx: usize) -> Result<Option<String>, Self::Error>;
    fn bytes(&self, idx: usize) -> Result<Vec<u8>, Self::Error>;
    /// The error for a value the column holds but no record may.
    fn invalid(&self, idx: usize, why: String) -> Self::Error;

    /// A non-negative integer column as u64.
    fn u64(&self, idx: usize) -> Result<u64, Self::Error> {
        let v = self.i64(idx)?;
        u64::try_from(v).map_err(|_| self.invalid(idx, format!("{v} is out of range")))
    }

    /// An integer column holding a u32 (indexes and part counts).
    fn u32(&self, idx: usize) -> Result<u32, Self::Error> {
        let v = self.i64(idx)?;
        u32::try_from(v).map_err(|_| self.invalid(idx, format!("{v} is out of range")))
    }
}

/// The columns of `row` from `first` on, as a row of their own: for a
/// join, whose second record's columns follow the first's.
pub(crate) struct Tail<'a, R> {
    pub row: &'a R,
    pub first: usize,
}

impl<R: Columns> Columns for Tail<'_, R> {
    type Error = R::Error;
    fn i64(&self, idx: usize) -> Result<i64, R::Error> {
        self.row.i64(self.first + idx)
    }
    fn opt_i64(&self, idx: usize) -> Result<Option<i64>, R::Error> {
        self.row.opt_i64(self.first + idx)
    }
    fn text(&self, idx: usize) -> Result<String, R::Error> {
        self.row.text(self.first + idx)
    }
    fn opt_text(&self, idx: usize) -> Result<Option<String>, R::Error> {
        self.row.opt_text(self.first + idx)
    }
    fn bytes(&self, idx: usize) -> Result<Vec<u8>, R::Error> {
        self.row.bytes(self.first + idx)
    }
    fn invalid(&self, idx: usize, why: String) -> R::Error {
        self.row.invalid(self.first + idx, why)
    }
}

/// A user from `user_columns!`.
pub(crate) fn user<R: Columns>(r: &R) -> Result<UserRecord, R::Error> {
    Ok(UserRecord {
        id: UserId(r.i64(0)?),
        login: r.text(1)?,
        name: r.text(2)?,
    })
}

/// An app from `app_columns!`.
pub(crate) fn app<R: Columns>(r: &R) -> Result<AppRecord, R::Error> {
    let key = match (r.opt_text(4)?, r.opt_text(5)?) {
        (Some(id), Some(pem)) => Some((id, pem)),
        _ => None,
    };
    Ok(AppRecord {
        client_id: r.text(0)?,
        name: r.text(1)?,
        user: UserId(r.i64(2)?),
        secret_phc: r.text(3)?,
        public_key: key,
        created_at: r.i64(6)?,
    })
}

/// An access token from `token_columns!`.
pub(crate) fn token<R: Columns>(r: &R) -> Result<TokenRecord, R::Error> {
    Ok(TokenRecord {
        id: r.text(0)?,
        user: UserId(r.i64(1)?),
        label: r.text(2)?,
        created_at: r.i64(3)?,
        expires_at: r.opt_i64(4)?,
    })
}

/// A token and its user, from `token_user_columns!`.
pub(crate) fn token_and_user<R: Columns>(r: &R) -> Result<(TokenRecord, UserRecord), R::Error> {
    Ok((token(r)?, user(&Tail { row: r, first: 5 })?))
}

/// A folder from `folder_columns!`.
pub(crate) fn folder<R: Columns>(r: &R) -> Result<FolderRecord, R::Error> {
    Ok(FolderRecord {
        id: FolderId(r.i64(0)?),
        owner_id: UserId(r.i64(1)?),
        parent_id: FolderId(r.i64(2)?),
        name: r.text(3)?,
        description: r.text(4)?,
        etag: r.i64(5)?,
        created_at: r.i64(6)?,
        modified_at: r.i64(7)?,
    })
}

/// A version from `version_columns!` starting at column `at`.
pub(crate) fn version_at<R: Columns>(r: &R, at: usize) -> Result<VersionRecord, R::Error> {
    Ok(VersionRecord {
        id: VersionId(r.i64(at)?),
        file_id: FileId(r.i64(at + 1)?),
        size: r.u64(at + 2)?,
        sha1: r.text(at + 3)?,
        created_at: r.i64(at + 4)?,
    })
}

/// A file from `file_columns!`.
pub(crate) fn file<R: Columns>(r: &R) -> Result<FileRecord, R::Error> {
    Ok(FileRecord {
        id: FileId(r.i64(0)?),
        owner_id: UserId(r.i64(1)?),
        parent_id: FolderId(r.i64(2)?),
        name: r.text(3)?,
        description: r.text(4)?,
        etag: r.i64(5)?,
        created_at: r.i64(6)?,
        modified_at: r.i64(7)?,
        content_created_at: r.i64(8)?,
        content_modified_at: r.i64(9)?,
        version: version_at(r, 10)?,
    })
}

/// An object from `object_key, offset, size` (whatever the offset column
/// is called).
pub(crate) fn object<R: Columns>(r: &R) -> Result<ObjectRef, R::Error> {
    Ok(ObjectRef {
        key: r.text(0)?,
        offset: r.u64(1)?,
        size: r.u64(2)?,
    })
}

/// An item from `kind (0 folder, 1 file), id, name, etag, version id,
/// sha1, size`; the version columns are NULL for folders.
pub(crate) fn item<R: Columns>(r: &R) -> Result<ItemRef, R::Error> {
    let version = match r.opt_i64(4)? {
        Some(id) => Some(ItemVersion {
            id: VersionId(id),
            sha1: r.text(5)?,
            size: r.u64(6)?,
        }),
        None => None,
    };
    let is_file = r.i64(0)? != 0;
    Ok(ItemRef::from_columns(
        is_file,
        r.i64(1)?,
        r.text(2)?,
        r.i64(3)?,
        version,
    ))
}

/// A session from `session_columns!`.
pub(crate) fn session<R: Columns>(r: &R) -> Result<SessionRecord, R::Error> {
    let target = SessionTarget::from_columns(
        r.opt_i64(2)?.map(FolderId),
        r.opt_i64(3)?.map(FileId),
        r.opt_text(4)?,
    )
    .ok_or_else(|| r.invalid(2, "the session's target is inconsistent".into()))?;
    let state = r.text(9)?;
    let state = SessionState::from_column(&state)
        .ok_or_else(|| r.invalid(9, format!("unknown session state {state:?}")))?;
    let committed = match (r.opt_i64(14)?, r.opt_i64(15)?) {
        (Some(file), Some(version)) => Some(CommittedVersion {
            file_id: FileId(file),
            version_id: VersionId(version),
        }),
        _ => None,
    };
    Ok(SessionRecord {
        id: SessionId(r.text(0)?),
        owner_id: UserId(r.i64(1)?),
        target,
        file_size: r.u64(5)?,
        part_size: r.u64(6)?,
        total_parts: r.u32(7)?,
        num_parts: r.u32(8)?,
        state,
        created_at: r.i64(10)?,
        expires_at: r.i64(11)?,
        frontier: Frontier {
            offset: r.u64(12)?,
            state: r.bytes(13)?,
        },
        committed,
    })
}

/// A part from `session_id, idx, part_id, offset, size, sha1, object_key`.
pub(crate) fn part<R: Columns>(r: &R) -> Result<PartRecord, R::Error> {
    Ok(PartRecord {
        session_id: SessionId(r.text(0)?),
        index: r.u32(1)?,
        part_id: r.text(2)?,
        offset: r.u64(3)?,
        size: r.u64(4)?,
        sha1: r.text(5)?,
        object_key: r.text(6)?,
    })
}
