//! Whole items and the pages of a folder listing.
//!
//! Why two paging styles: Box lists folders by offset (`offset`, `limit`,
//! `total_count`) and by marker (`usemarker`, `marker`, `next_marker`).
//! Offsets shift when items are inserted or deleted between pages, so a
//! client may see an item twice or miss one; a marker names the last item
//! returned (its position in the listing order), so the next page starts
//! right after it whatever changed in between. The order is total (kind,
//! case-folded name, exact name, id), so a position is never ambiguous.

use super::{FileRecord, FolderRecord, ItemId, ItemRef, ItemVersion, name_key};

/// A file or a folder, whole: what a listing with `fields` renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRecord {
    Folder(FolderRecord),
    File(FileRecord),
}

impl ItemRecord {
    pub fn id(&self) -> ItemId {
        match self {
            ItemRecord::Folder(f) => ItemId::Folder(f.id),
            ItemRecord::File(f) => ItemId::File(f.id),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            ItemRecord::Folder(f) => &f.name,
            ItemRecord::File(f) => &f.name,
        }
    }

    /// The item in brief, as a conflict names it.
    pub fn brief(&self) -> ItemRef {
        match self {
            ItemRecord::Folder(f) => ItemRef {
                id: ItemId::Folder(f.id),
                name: f.name.clone(),
                etag: f.etag,
                version: None,
            },
            ItemRecord::File(f) => ItemRef {
                id: ItemId::File(f.id),
                name: f.name.clone(),
                etag: f.etag,
                version: Some(ItemVersion {
                    id: f.version.id,
                    sha1: f.version.sha1.clone(),
                    size: f.version.size,
                }),
            },
        }
    }

    /// This item's position in the listing order.
    pub fn cursor(&self) -> ItemCursor {
        let (is_file, id) = match self {
            ItemRecord::Folder(f) => (false, f.id.0),
            ItemRecord::File(f) => (true, f.id.0),
        };
        ItemCursor {
            is_file,
            name_key: name_key(self.name()),
            name: self.name().to_owned(),
            id,
        }
    }
}

/// A position in a folder's listing order: folders before files, then by
/// case-folded name, exact name and id. Compared as a tuple in that order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ItemCursor {
    pub is_file: bool,
    pub name_key: String,
    pub name: String,
    pub id: i64,
}

/// Which page of a folder's items to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemsPage {
    /// `limit` items from position `offset`.
    Offset { offset: u64, limit: u64 },
    /// `limit` items after `after` (from the first item if `None`).
    After {
        after: Option<ItemCursor>,
        limit: u64,
    },
}

impl ItemsPage {
    pub fn limit(&self) -> u64 {
        match self {
            ItemsPage::Offset { limit, .. } | ItemsPage::After { limit, .. } => *limit,
        }
    }
}

/// A page of items, with the number of items in the whole folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemsChunk {
    pub total: u64,
    pub items: Vec<ItemRecord>,
}

/// One half of a page, as a backend queries it: the items of one kind
/// after `after` (if it is of that kind), skipping `offset`, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HalfQuery<'a> {
    pub after: Option<&'a ItemCursor>,
    pub offset: u64,
    pub limit: u64,
}

impl ItemsPage {
    /// The folders' half of this page, given how many folders there are;
    /// `None` if the page holds no folder.
    pub(crate) fn folders_query(&self, folders: u64) -> Option<HalfQuery<'_>> {
        match self {
            ItemsPage::Offset { offset, limit } => (*offset < folders).then_some(HalfQuery {
                after: None,
                offset: *offset,
                limit: *limit,
            }),
            ItemsPage::After { after, limit } => match after {
                Some(c) if c.is_file => None,
                after => Some(HalfQuery {
                    after: after.as_ref(),
                    offset: 0,
                    limit: *limit,
                }),
            },
        }
    }

    /// The files' half, once the folders' half returned `got` folders;
    /// `None` if the page is already full.
    pub(crate) fn files_query(&self, folders: u64, got: usize) -> Option<HalfQuery<'_>> {
        let limit = self.limit().saturating_sub(got as u64);
        if limit == 0 {
            return None;
        }
        Some(match self {
            ItemsPage::Offset { offset, .. } => HalfQuery {
                after: None,
                offset: offset.saturating_sub(folders),
                limit,
            },
            ItemsPage::After { after, .. } => HalfQuery {
                after: after.as_ref().filter(|c| c.is_file),
                offset: 0,
                limit,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(is_file: bool) -> ItemCursor {
        ItemCursor {
            is_file,
            name_key: "b".into(),
            name: "B".into(),
            id: 5,
        }
    }

    #[test]
    fn offset_pages_split_between_folders_and_files() {
        let page = ItemsPage::Offset {
            offset: 2,
            limit: 3,
        };
        let folders = page.folders_query(4).unwrap();
        assert_eq!((folders.offset, folders.limit), (2, 3));
        // Two folders came back: one file fills the page, from the start.
        let files = page.files_query(4, 2).unwrap();
        assert_eq!((files.offset, files.limit, files.after), (0, 1, None));
        // Past the folders: only files, from offset - folders.
        let page = ItemsPage::Offset {
            offset: 6,
            limit: 3,
        };
        assert_eq!(page.folders_query(4), None);
        let files = page.files_query(4, 0).unwrap();
        assert_eq!((files.offset, files.limit), (2, 3));
        assert_eq!(page.files_query(4, 3), None);
    }

    #[test]
    fn marker_pages_resume_after_their_item() {
        let folder = cursor(false);
        let page = ItemsPage::After {
            after: Some(folder.clone()),
            limit: 2,
        };
        assert_eq!(page.folders_query(9).unwrap().after, Some(&folder));
        // Files after a folder start at the first file.
        assert_eq!(page.files_query(9, 1).unwrap().after, None);
        let file = cursor(true);
        let page = ItemsPage::After {
            after: Some(file.clone()),
            limit: 2,
        };
        assert_eq!(page.folders_query(9), None);
        assert_eq!(page.files_query(9, 0).unwrap().after, Some(&file));
        assert!(cursor(false) < cursor(true), "folders sort before files");
    }
}
