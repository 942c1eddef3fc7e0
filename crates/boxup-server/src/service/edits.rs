//! File and folder updates, copies and folder deletes
//! (docs/protocol.md §5.9–§5.11). The rules are in `tree_policy`; this
//! reads the request and renders the answer.

use boxup_protocol::{ErrorKind, File, Folder};
use serde_json::Value;

use super::input::{JsonObject, field, folder_id_value, json_object, str_field, time_field};
use super::names::validate_name;
use super::policy::Preconditions;
use super::tree_policy::{self, ItemUpdate};
use super::{Caller, UploadService, if_match_etag, now, parse_id};
use crate::error::{ApiError, ApiResult};
use crate::store::{FileCopy, FolderCopy, FolderId, StoreError};

/// `parent.id` of a body: `None` if absent, 400 if present but unusable.
fn parent_field(obj: &JsonObject) -> ApiResult<Option<FolderId>> {
    let Some(parent) = field(obj, "parent") else {
        return Ok(None);
    };
    let id = match parent {
        Value::Object(p) => p.get("id").and_then(folder_id_value),
        _ => None,
    };
    id.map(Some).ok_or_else(|| {
        ApiError::new(
            ErrorKind::BadRequest,
            "parent must be an object with the id of a folder",
        )
    })
}

/// A validated `name`, if given.
fn name_field(obj: &JsonObject) -> ApiResult<Option<String>> {
    let name = str_field(obj, "name")?.map(str::to_owned);
    if let Some(name) = &name {
        validate_name(name)?;
    }
    Ok(name)
}

/// What a `PUT` body asks to change; `files` reads the content times too.
fn item_update(body: &[u8], files: bool) -> ApiResult<ItemUpdate> {
    let obj = json_object(body)?;
    let mut update = ItemUpdate {
        name: name_field(&obj)?,
        parent_id: parent_field(&obj)?,
        description: str_field(&obj, "description")?.map(str::to_owned),
        ..ItemUpdate::default()
    };
    if files {
        update.content_created_at = time_field(&obj, "content_created_at")?;
        update.content_modified_at = time_field(&obj, "content_modified_at")?;
    }
    Ok(update)
}

fn preconditions(if_match: Option<&str>) -> Preconditions {
    Preconditions::if_match(if_match.and_then(if_match_etag))
}

/// A copy's destination: `parent.id` is required.
fn copy_target(body: &[u8]) -> ApiResult<(FolderId, Option<String>)> {
    let obj = json_object(body)?;
    let parent = parent_field(&obj)?
        .ok_or_else(|| ApiError::new(ErrorKind::BadRequest, "parent.id is required"))?;
    Ok((parent, name_field(&obj)?))
}

impl UploadService {
    /// `PUT /files/{id}`: rename, move, describe, set content times.
    pub async fn update_file(
        &self,
        caller: &Caller,
        id: &str,
        body: &[u8],
        if_match: Option<&str>,
    ) -> ApiResult<File> {
        let id = parse_id(id)?;
        let update = item_update(body, true)?;
        let decide = tree_policy::update_file(update, preconditions(if_match), now());
        let file = self.meta.update_file(caller.user.id, id, decide).await?;
        self.render_file(caller, &file).await
    }

    /// `PUT /folders/{id}`. The root cannot be changed.
    pub async fn update_folder(
        &self,
        caller: &Caller,
        id: &str,
        body: &[u8],
        if_match: Option<&str>,
    ) -> ApiResult<Folder> {
        let id = self.stored_folder_id(id, "updated")?;
        let update = item_update(body, false)?;
        let decide = tree_policy::update_folder(update, preconditions(if_match), now());
        let folder = self
            .meta
            .update_folder(caller.user.id, id, decide)
            .await
            .map_err(folder_error)?;
        self.render_folder(caller, Some(&folder)).await
    }

    /// `DELETE /folders/{id}[?recursive=true]`.
    pub async fn delete_folder(
        &self,
        caller: &Caller,
        id: &str,
        recursive: bool,
        if_match: Option<&str>,
    ) -> ApiResult<()> {
        let id = self.stored_folder_id(id, "deleted")?;
        let decide = tree_policy::delete_folder(preconditions(if_match));
        self.meta
            .delete_folder(caller.user.id, id, recursive, decide)
            .await?;
        Ok(())
    }

    /// `POST /files/{id}/copy` with `{"parent": {"id"}, "name"?}`: a new
    /// file sharing the source's bytes.
    pub async fn copy_file(&self, caller: &Caller, id: &str, body: &[u8]) -> ApiResult<File> {
        let source = parse_id(id)?;
        let (parent_id, name) = copy_target(body)?;
        let copy = FileCopy {
            owner_id: caller.user.id,
            source,
            parent_id,
            decide: tree_policy::copy_file(name, now()),
        };
        let file = self.meta.copy_file(copy).await?;
        self.render_file(caller, &file).await
    }

    /// `POST /folders/{id}/copy`: the folder and everything in it.
    pub async fn copy_folder(&self, caller: &Caller, id: &str, body: &[u8]) -> ApiResult<Folder> {
        let source = self.stored_folder_id(id, "copied")?;
        let (parent_id, name) = copy_target(body)?;
        let now = now();
        let copy = FolderCopy {
            owner_id: caller.user.id,
            source,
            parent_id,
            top: tree_policy::copy_folder(name, now),
            rules: tree_policy::copy_rules(now),
        };
        let folder = self.meta.copy_folder(copy).await.map_err(folder_error)?;
        self.render_folder(caller, Some(&folder)).await
    }

    /// A folder id from a path that names a stored folder: the root is
    /// every user's, and cannot be updated, copied or deleted.
    fn stored_folder_id(&self, id: &str, what: &str) -> ApiResult<FolderId> {
        let id: FolderId = parse_id(id)?;
        if id == FolderId::ROOT {
            return Err(ApiError::new(
                ErrorKind::BadRequest,
                format!("The root folder cannot be {what}"),
            ));
        }
        Ok(id)
    }
}

/// A folder operation's conflict lists its conflicts as an array.
fn folder_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NameInUse(item) => ApiError::folder_name_in_use(&item),
        e => e.into(),
    }
}
