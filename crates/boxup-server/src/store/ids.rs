//! Typed ids for everything the stores hold.
//!
//! Why newtypes: users, folders, files and versions all have 12-digit
//! decimal ids, and a call such as `get_version(owner, file, version)` with
//! bare integers type-checks with its arguments swapped. A newtype per kind
//! makes that a compile error. The SQL backends bind and read them directly
//! (each backend implements its driver's traits for them in its own folder),
//! so no `.0` leaks into queries. On the wire every id is a decimal string.

use std::fmt;
use std::str::FromStr;

/// Smallest id a metadata store hands out (12 decimal digits). Ids are
/// random in `[ID_MIN, ID_MAX]`, so they do not leak how many items exist.
pub const ID_MIN: i64 = 100_000_000_000;
/// Largest id a metadata store hands out.
pub const ID_MAX: i64 = 999_999_999_999;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            /// A fresh random id in `[ID_MIN, ID_MAX]`; the store checks it
            /// is unused in the transaction that inserts it.
            pub fn random() -> Self {
                $name(rand::random_range(ID_MIN..=ID_MAX))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            /// The decimal form the wire uses.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

numeric_id! {
    /// A user (the owner of every item and session).
    UserId
}
numeric_id! {
    /// A folder; [`FolderId::ROOT`] is every user's root, never stored.
    FolderId
}
numeric_id! {
    /// A file (the stable identity across its versions).
    FileId
}
numeric_id! {
    /// One version of a file's content.
    VersionId
}

impl FolderId {
    /// The root folder's id ("0" on the wire); every user has one.
    pub const ROOT: FolderId = FolderId(0);
}

/// An upload session: 32 uppercase hex characters, random, so it is also
/// the capability the session's URLs carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub String);

impl SessionId {
    /// The id as its text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for SessionId {
    fn from(s: &str) -> Self {
        SessionId(s.to_owned())
    }
}

/// A file or a folder: the two kinds of item a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemId {
    File(FileId),
    Folder(FolderId),
}

impl ItemId {
    /// The decimal id, whichever the kind.
    pub fn number(self) -> i64 {
        match self {
            ItemId::File(id) => id.0,
            ItemId::Folder(id) => id.0,
        }
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.number(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_as_decimals() {
        let id: FileId = "123456789012".parse().unwrap();
        assert_eq!(id, FileId(123_456_789_012));
        assert_eq!(id.to_string(), "123456789012");
        assert!("12a".parse::<FolderId>().is_err());
        assert_eq!(FolderId::ROOT.to_string(), "0");
        assert_eq!(ItemId::Folder(FolderId(7)).to_string(), "7");
    }

    #[test]
    fn random_ids_have_twelve_digits() {
        for _ in 0..100 {
            let id = VersionId::random();
            assert_eq!(id.to_string().len(), 12, "{id}");
        }
    }
}
