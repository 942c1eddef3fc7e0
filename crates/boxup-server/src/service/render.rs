//! Records to wire models. Only the owner ever sees an item, so the
//! `created_by`/`modified_by`/`owned_by` users are the caller.

use boxup_protocol::time::format_unix;
use boxup_protocol::{
    File, FileVersionMini, Folder, FolderMini, PathCollection, SessionEndpoints, UploadPart,
    UploadSession, UserMini,
};

use super::{Caller, Origin, UploadService};
use crate::error::ApiResult;
use crate::store::{
    FileRecord, FolderId, FolderRecord, PartRecord, SessionRecord, SessionState, UserRecord,
};

pub(super) const ROOT_NAME: &str = "All Files";

pub(super) fn user_mini(user: &UserRecord) -> UserMini {
    UserMini {
        kind: "user".into(),
        id: user.id.to_string(),
        name: Some(user.name.clone()),
        login: Some(user.login.clone()),
    }
}

pub(super) fn root_mini() -> FolderMini {
    FolderMini {
        kind: "folder".into(),
        id: FolderId::ROOT.to_string(),
        sequence_id: None,
        etag: None,
        name: Some(ROOT_NAME.into()),
    }
}

pub(super) fn folder_mini(f: &FolderRecord) -> FolderMini {
    FolderMini {
        kind: "folder".into(),
        id: f.id.to_string(),
        sequence_id: Some(f.etag.to_string()),
        etag: Some(f.etag.to_string()),
        name: Some(f.name.clone()),
    }
}

pub(super) fn session(s: &SessionRecord, origin: &Origin) -> UploadSession {
    let processed = match s.state {
        SessionState::Committed => s.total_parts,
        _ => s.num_parts,
    };
    UploadSession {
        id: s.id.to_string(),
        kind: "upload_session".into(),
        session_expires_at: Some(format_unix(s.expires_at)),
        part_size: Some(s.part_size),
        total_parts: Some(s.total_parts),
        num_parts_processed: Some(processed),
        session_endpoints: Some(SessionEndpoints::under(
            &origin.upload_base(),
            s.id.as_str(),
        )),
    }
}

pub(super) fn part(p: &PartRecord) -> UploadPart {
    UploadPart {
        part_id: p.part_id.clone(),
        offset: p.offset,
        size: p.size,
        sha1: Some(p.sha1.clone()),
    }
}

impl UploadService {
    /// The folders from the root down to `folder_id` itself, inclusive.
    pub(crate) async fn ancestry(
        &self,
        caller: &Caller,
        folder_id: FolderId,
    ) -> ApiResult<Vec<FolderMini>> {
        let mut chain = Vec::new();
        let mut id = folder_id;
        while id != FolderId::ROOT && chain.len() < 1000 {
            let Some(f) = self.meta.get_folder(caller.user.id, id).await? else {
                break;
            };
            chain.push(folder_mini(&f));
            id = f.parent_id;
        }
        chain.push(root_mini());
        chain.reverse();
        Ok(chain)
    }

    pub(crate) async fn render_file(&self, caller: &Caller, f: &FileRecord) -> ApiResult<File> {
        let path = self.ancestry(caller, f.parent_id).await?;
        Ok(file_at(caller, f, path))
    }

    /// A folder without its item collection (the caller adds it).
    pub(crate) async fn render_folder(
        &self,
        caller: &Caller,
        f: Option<&FolderRecord>,
    ) -> ApiResult<Folder> {
        let Some(f) = f else {
            return Ok(root_folder(caller));
        };
        let path = self.ancestry(caller, f.parent_id).await?;
        Ok(folder_at(caller, f, path))
    }
}

/// A file whose ancestors, root first, are `path`.
pub(super) fn file_at(caller: &Caller, f: &FileRecord, path: Vec<FolderMini>) -> File {
    let parent = path.last().cloned();
    let user = user_mini(&caller.user);
    let etag = f.etag.to_string();
    File {
        kind: "file".into(),
        id: f.id.to_string(),
        file_version: Some(FileVersionMini {
            kind: "file_version".into(),
            id: f.version.id.to_string(),
            sha1: Some(f.version.sha1.clone()),
        }),
        sequence_id: Some(etag.clone()),
        etag: Some(etag),
        sha1: Some(f.version.sha1.clone()),
        name: Some(f.name.clone()),
        description: Some(f.description.clone()),
        size: Some(f.version.size),
        path_collection: Some(PathCollection {
            total_count: path.len() as u64,
            entries: path,
        }),
        created_at: Some(format_unix(f.created_at)),
        modified_at: Some(format_unix(f.modified_at)),
        trashed_at: None,
        purged_at: None,
        content_created_at: Some(format_unix(f.content_created_at)),
        content_modified_at: Some(format_unix(f.content_modified_at)),
        created_by: Some(user.clone()),
        modified_by: Some(user.clone()),
        owned_by: Some(user),
        shared_link: None,
        parent,
        item_status: Some("active".into()),
    }
}

/// The caller's root folder, without its item collection.
pub(super) fn root_folder(caller: &Caller) -> Folder {
    let user = user_mini(&caller.user);
    Folder {
        kind: "folder".into(),
        id: FolderId::ROOT.to_string(),
        sequence_id: None,
        etag: None,
        name: Some(ROOT_NAME.into()),
        created_at: None,
        modified_at: None,
        description: Some(String::new()),
        size: Some(0),
        path_collection: Some(PathCollection::default()),
        created_by: Some(UserMini {
            kind: "user".into(),
            id: String::new(),
            name: Some(String::new()),
            login: Some(String::new()),
        }),
        modified_by: Some(user.clone()),
        owned_by: Some(user),
        shared_link: None,
        parent: None,
        item_status: Some("active".into()),
        item_collection: None,
    }
}

/// A folder whose ancestors, root first, are `path` (no item collection).
pub(super) fn folder_at(caller: &Caller, f: &FolderRecord, path: Vec<FolderMini>) -> Folder {
    let user = user_mini(&caller.user);
    let mini = folder_mini(f);
    Folder {
        kind: "folder".into(),
        id: mini.id,
        sequence_id: mini.sequence_id,
        etag: mini.etag,
        name: mini.name,
        created_at: Some(format_unix(f.created_at)),
        modified_at: Some(format_unix(f.modified_at)),
        description: Some(f.description.clone()),
        size: Some(0),
        parent: path.last().cloned(),
        path_collection: Some(PathCollection {
            total_count: path.len() as u64,
            entries: path,
        }),
        created_by: Some(user.clone()),
        modified_by: Some(user.clone()),
        owned_by: Some(user),
        shared_link: None,
        item_status: Some("active".into()),
        item_collection: None,
    }
}
