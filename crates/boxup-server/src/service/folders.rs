//! Folders: the per-user root "0", sub-folders, and paged listings.

use boxup_protocol::{ErrorKind, Folder, Items, SortOrder};
use serde_json::Value;

use super::input::{folder_id_value, json_object, str_field};
use super::names::validate_name;
use super::{Caller, UploadService, now, parse_id, render};
use crate::error::{ApiError, ApiResult};
use crate::store::{FolderId, FolderRecord, NewFolder, StoreError};

pub(super) const DEFAULT_ITEMS_LIMIT: u64 = 100;
pub(super) const MAX_ITEMS_LIMIT: u64 = 1000;

impl UploadService {
    async fn folder_record(&self, caller: &Caller, id: &str) -> ApiResult<Option<FolderRecord>> {
        let id = parse_id(id)?;
        if id == FolderId::ROOT {
            return Ok(None);
        }
        match self.meta.get_folder(caller.user.id, id).await? {
            Some(f) => Ok(Some(f)),
            None => Err(ApiError::not_found()),
        }
    }

    /// `GET /folders/{id}`: the folder with its first page of items.
    pub async fn get_folder(&self, caller: &Caller, id: &str) -> ApiResult<Folder> {
        let record = self.folder_record(caller, id).await?;
        let mut folder = self.render_folder(caller, record.as_ref()).await?;
        let folder_id = record.map_or(FolderId::ROOT, |f| f.id);
        folder.item_collection = Some(
            self.items_page(caller, folder_id, 0, DEFAULT_ITEMS_LIMIT)
                .await?,
        );
        Ok(folder)
    }

    /// `GET /folders/{id}/items`.
    pub async fn list_items(
        &self,
        caller: &Caller,
        id: &str,
        offset: Option<u64>,
        limit: Option<u64>,
    ) -> ApiResult<Items> {
        let folder_id = self
            .folder_record(caller, id)
            .await?
            .map_or(FolderId::ROOT, |f| f.id);
        let limit = limit
            .unwrap_or(DEFAULT_ITEMS_LIMIT)
            .clamp(1, MAX_ITEMS_LIMIT);
        self.items_page(caller, folder_id, offset.unwrap_or(0), limit)
            .await
    }

    async fn items_page(
        &self,
        caller: &Caller,
        folder: FolderId,
        offset: u64,
        limit: u64,
    ) -> ApiResult<Items> {
        let (total, items) = self
            .meta
            .list_items(caller.user.id, folder, offset, limit)
            .await?;
        Ok(Items {
            total_count: total,
            entries: items.iter().map(render::item).collect(),
            offset: Some(offset),
            limit: Some(limit),
            order: Some(vec![SortOrder::asc("type"), SortOrder::asc("name")]),
        })
    }

    /// `POST /folders` with `{"name", "parent": {"id"}}`.
    pub async fn create_folder(&self, caller: &Caller, body: &[u8]) -> ApiResult<Folder> {
        let obj = json_object(body)?;
        let name = str_field(&obj, "name")?
            .ok_or_else(|| ApiError::new(ErrorKind::BadRequest, "name is required"))?
            .to_owned();
        validate_name(&name)?;
        let parent = match obj.get("parent") {
            Some(Value::Object(p)) => p.get("id").and_then(folder_id_value),
            _ => None,
        }
        .ok_or_else(|| ApiError::new(ErrorKind::BadRequest, "parent.id is required"))?;
        let new = NewFolder {
            owner_id: caller.user.id,
            parent_id: parent,
            name,
            now: now(),
        };
        let folder = self.meta.create_folder(new).await.map_err(|e| match e {
            StoreError::NameInUse(item) => ApiError::folder_name_in_use(&item),
            e => e.into(),
        })?;
        self.render_folder(caller, Some(&folder))
            .await
            .map(|mut f| {
                f.item_collection = Some(Items {
                    total_count: 0,
                    entries: vec![],
                    offset: Some(0),
                    limit: Some(DEFAULT_ITEMS_LIMIT),
                    order: Some(vec![SortOrder::asc("type"), SortOrder::asc("name")]),
                });
                f
            })
    }
}
