//! The rules behind every file write: the one place they are decided.
//!
//! Each function turns what a request asks for into the exact row values a
//! store writes, or into a [`Decision`] that a store applies to the row as
//! it stands inside its transaction (see `store::writes` for why). The
//! stores never choose a default, compare an etag or pick a commit's
//! outcome themselves, so the SQLite and PostgreSQL backends cannot drift
//! apart on any of it.
//!
//! The rules (docs/protocol.md §5.1 and §4.9):
//! - a new file gets etag 0, an empty description unless given, and content
//!   times of `now` unless given;
//! - a new version bumps the etag by one, keeps the name unless renamed,
//!   keeps the description and `content_created_at` unless given, and sets
//!   `content_modified_at` to the given time or `now`;
//! - `If-Match` fails unless the etag is the one named; `If-None-Match`
//!   fails if it is; both are checked on the file as it stands;
//! - a commit of a foreign or unknown session is `NotFound`, of a session
//!   that is not open `SessionNotOpen`; a new-file session ignores
//!   preconditions (there is no etag to compare).

use crate::store::{
    CommitDecision, Decision, DeleteDecision, FileRecord, FileValues, FileWrite, SessionRecord,
    SessionState, SessionTarget, StoreError, StoreResult, UserId, VersionDecision,
};

/// Attributes that a commit or upload may set on the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileAttributes {
    pub description: Option<String>,
    pub content_created_at: Option<i64>,
    pub content_modified_at: Option<i64>,
}

/// `If-Match` / `If-None-Match`, parsed to the etags each names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preconditions {
    /// Fail unless the item's etag is this.
    pub if_match: Option<i64>,
    /// Fail if the item's etag is one of these.
    pub if_none_match: Option<NoneMatch>,
}

/// What an `If-None-Match` header names (RFC 9110 §13.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoneMatch {
    /// `*`: any existing item.
    Any,
    /// A list of etags, weak or strong (ones boxup never issued dropped).
    Etags(Vec<i64>),
}

impl NoneMatch {
    /// Parses the header's value.
    pub fn parse(value: &str) -> Self {
        if value.split(',').any(|v| v.trim() == "*") {
            return NoneMatch::Any;
        }
        NoneMatch::Etags(value.split(',').filter_map(super::parse_etag).collect())
    }

    /// Whether the header names an item whose etag is `etag`.
    pub fn hits(&self, etag: i64) -> bool {
        match self {
            NoneMatch::Any => true,
            NoneMatch::Etags(list) => list.contains(&etag),
        }
    }
}

impl Preconditions {
    /// Only `If-Match`.
    pub fn if_match(etag: Option<i64>) -> Self {
        Preconditions {
            if_match: etag,
            if_none_match: None,
        }
    }

    /// `PreconditionFailed` unless an item with `etag` satisfies both.
    pub fn check(&self, etag: i64) -> StoreResult<()> {
        if self.if_match.is_some_and(|want| want != etag)
            || self.if_none_match.as_ref().is_some_and(|n| n.hits(etag))
        {
            return Err(StoreError::PreconditionFailed);
        }
        Ok(())
    }
}

/// The row of a new file named `name`.
pub fn new_file(name: &str, attributes: &FileAttributes, now: i64) -> FileValues {
    FileValues {
        name: name.to_owned(),
        description: attributes.description.clone().unwrap_or_default(),
        etag: 0,
        modified_at: now,
        content_created_at: attributes.content_created_at.unwrap_or(now),
        content_modified_at: attributes.content_modified_at.unwrap_or(now),
    }
}

/// The rule for a new version of a file, renamed to `rename` if given.
pub fn new_version(
    rename: Option<String>,
    attributes: FileAttributes,
    preconditions: Preconditions,
    now: i64,
) -> VersionDecision {
    Decision::new(move |current: &FileRecord| {
        preconditions.check(current.etag)?;
        Ok(FileValues {
            name: rename.clone().unwrap_or_else(|| current.name.clone()),
            description: attributes
                .description
                .clone()
                .unwrap_or_else(|| current.description.clone()),
            etag: current.etag + 1,
            modified_at: now,
            content_created_at: attributes
                .content_created_at
                .unwrap_or(current.content_created_at),
            content_modified_at: attributes.content_modified_at.unwrap_or(now),
        })
    })
}

/// The rule for deleting a file: its preconditions hold.
pub fn delete_file(preconditions: Preconditions) -> DeleteDecision {
    Decision::new(move |current: &FileRecord| preconditions.check(current.etag))
}

/// The rule for committing a session on behalf of `owner`.
pub fn commit(
    owner: UserId,
    attributes: FileAttributes,
    preconditions: Preconditions,
    now: i64,
) -> CommitDecision {
    Decision::new(move |session: &SessionRecord| {
        if session.owner_id != owner {
            return Err(StoreError::NotFound);
        }
        if session.state != SessionState::Open {
            return Err(StoreError::SessionNotOpen(session.state));
        }
        Ok(match &session.target {
            SessionTarget::NewFile { folder_id, name } => FileWrite::Create {
                parent_id: *folder_id,
                values: new_file(name, &attributes, now),
            },
            SessionTarget::NewVersion { file_id, name } => FileWrite::NewVersion {
                file_id: *file_id,
                decide: new_version(name.clone(), attributes.clone(), preconditions.clone(), now),
            },
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FileId, FolderId, Frontier, SessionId, VersionId, VersionRecord};

    fn file(etag: i64) -> FileRecord {
        FileRecord {
            id: FileId(1),
            owner_id: UserId(2),
            parent_id: FolderId::ROOT,
            name: "a.txt".into(),
            description: "kept".into(),
            etag,
            created_at: 10,
            modified_at: 20,
            content_created_at: 30,
            content_modified_at: 40,
            version: VersionRecord {
                id: VersionId(3),
                file_id: FileId(1),
                size: 1,
                sha1: "00".into(),
                created_at: 20,
            },
        }
    }

    #[test]
    fn preconditions_compare_etags() {
        assert!(Preconditions::default().check(5).is_ok());
        assert!(Preconditions::if_match(Some(5)).check(5).is_ok());
        assert!(matches!(
            Preconditions::if_match(Some(4)).check(5),
            Err(StoreError::PreconditionFailed)
        ));
        let none = Preconditions {
            if_match: None,
            if_none_match: Some(NoneMatch::parse("\"5\"")),
        };
        assert!(matches!(none.check(5), Err(StoreError::PreconditionFailed)));
        assert!(none.check(6).is_ok());
    }

    #[test]
    fn a_new_file_takes_defaults_from_now() {
        let v = new_file("n", &FileAttributes::default(), 99);
        assert_eq!((v.etag, v.description.as_str()), (0, ""));
        assert_eq!(
            (v.modified_at, v.content_created_at, v.content_modified_at),
            (99, 99, 99)
        );
    }

    #[test]
    fn a_new_version_keeps_what_is_not_given() {
        let decide = new_version(
            None,
            FileAttributes::default(),
            Preconditions::default(),
            99,
        );
        let v = decide.decide(&file(7)).unwrap();
        assert_eq!((v.name.as_str(), v.description.as_str()), ("a.txt", "kept"));
        assert_eq!((v.etag, v.modified_at), (8, 99));
        assert_eq!((v.content_created_at, v.content_modified_at), (30, 99));
        let given = FileAttributes {
            description: Some("new".into()),
            content_created_at: Some(1),
            content_modified_at: Some(2),
        };
        let v = new_version(Some("b".into()), given, Preconditions::default(), 99)
            .decide(&file(7))
            .unwrap();
        assert_eq!((v.name.as_str(), v.description.as_str()), ("b", "new"));
        assert_eq!((v.content_created_at, v.content_modified_at), (1, 2));
    }

    #[test]
    fn a_commit_refuses_foreign_and_closed_sessions() {
        let mut s = SessionRecord {
            id: SessionId("S".into()),
            owner_id: UserId(2),
            target: SessionTarget::NewFile {
                folder_id: FolderId::ROOT,
                name: "n".into(),
            },
            file_size: 1,
            part_size: 1,
            total_parts: 1,
            num_parts: 1,
            state: SessionState::Open,
            created_at: 0,
            expires_at: 1,
            frontier: Frontier::default(),
            committed: None,
        };
        let decide = commit(
            UserId(2),
            FileAttributes::default(),
            Preconditions::default(),
            5,
        );
        assert!(matches!(decide.decide(&s), Ok(FileWrite::Create { .. })));
        let foreign = commit(
            UserId(3),
            FileAttributes::default(),
            Preconditions::default(),
            5,
        );
        assert!(matches!(foreign.decide(&s), Err(StoreError::NotFound)));
        s.state = SessionState::Committed;
        assert!(matches!(
            decide.decide(&s),
            Err(StoreError::SessionNotOpen(SessionState::Committed))
        ));
    }
}
