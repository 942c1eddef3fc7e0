//! Folders: the per-user root "0", sub-folders, and paged listings.

use boxup_protocol::{ErrorKind, Folder, Items, SortOrder};
use serde_json::{Value, json};

use super::fields::Fields;
use super::input::{folder_id_value, json_object, str_field};
use super::links::{open_marker, seal_marker};
use super::names::validate_name;
use super::render::{file_at, folder_at};
use super::{Caller, UploadService, now, parse_id};
use crate::error::{ApiError, ApiResult};
use crate::store::{FolderId, FolderRecord, ItemRecord, ItemsPage, NewFolder, StoreError};

/// How a client asks for a page of a folder's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemsQuery {
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    /// `usemarker=true`: page by marker; the answer has `next_marker`.
    pub usemarker: bool,
    /// The `next_marker` of the previous page.
    pub marker: Option<String>,
}

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

    /// `GET /folders/{id}`: the folder with its first page of items
    /// (`item_collection`, unless `fields` leaves it out).
    pub async fn get_folder(&self, caller: &Caller, id: &str, fields: &Fields) -> ApiResult<Value> {
        let record = self.folder_record(caller, id).await?;
        let folder = self.render_folder(caller, record.as_ref()).await?;
        let mut rendered = fields.folder(&folder);
        if fields.wants("item_collection") || fields == &Fields::default() {
            let folder_id = record.map_or(FolderId::ROOT, |f| f.id);
            let query = ItemsQuery::default();
            let items = self
                .items_page(caller, folder_id, &query, &Fields::default())
                .await?;
            rendered["item_collection"] = items;
        }
        Ok(rendered)
    }

    /// `GET /folders/{id}/items`, by offset or (with `usemarker`) by marker.
    pub async fn list_items(
        &self,
        caller: &Caller,
        id: &str,
        query: &ItemsQuery,
        fields: &Fields,
    ) -> ApiResult<Value> {
        let folder_id = self
            .folder_record(caller, id)
            .await?
            .map_or(FolderId::ROOT, |f| f.id);
        self.items_page(caller, folder_id, query, fields).await
    }

    async fn items_page(
        &self,
        caller: &Caller,
        folder: FolderId,
        query: &ItemsQuery,
        fields: &Fields,
    ) -> ApiResult<Value> {
        let limit = query
            .limit
            .unwrap_or(DEFAULT_ITEMS_LIMIT)
            .clamp(1, MAX_ITEMS_LIMIT);
        let page = if query.usemarker || query.marker.is_some() {
            let after = match &query.marker {
                None => None,
                Some(m) => Some(
                    open_marker(&self.keys.signing, caller.user.id, folder, m).ok_or_else(
                        || ApiError::new(ErrorKind::InvalidMarker, "The marker is not valid"),
                    )?,
                ),
            };
            // One more than asked: whether it comes tells if a page follows.
            ItemsPage::After {
                after,
                limit: limit + 1,
            }
        } else {
            ItemsPage::Offset {
                offset: query.offset.unwrap_or(0),
                limit,
            }
        };
        let chunk = self
            .meta
            .list_items(caller.user.id, folder, page.clone())
            .await?;
        let mut items = chunk.items;
        let next_marker = match page {
            ItemsPage::After { .. } if items.len() as u64 > limit => {
                items.truncate(limit as usize);
                let last = items.last().expect("a full page has a last item");
                Some(seal_marker(
                    &self.keys.signing,
                    caller.user.id,
                    folder,
                    &last.cursor(),
                ))
            }
            _ => None,
        };
        // Every entry sits in `folder`: one path for all of them.
        let path = self.ancestry(caller, folder).await?;
        let entries: Vec<Value> = items
            .iter()
            .map(|item| match item {
                ItemRecord::File(f) => fields.file_entry(&file_at(caller, f, path.clone())),
                ItemRecord::Folder(f) => fields.folder_entry(&folder_at(caller, f, path.clone())),
            })
            .collect();
        let order = json!([{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}]);
        Ok(match page {
            ItemsPage::Offset { offset, limit } => json!({
                "total_count": chunk.total, "entries": entries,
                "offset": offset, "limit": limit, "order": order,
            }),
            ItemsPage::After { .. } => json!({
                "entries": entries, "limit": limit,
                "next_marker": next_marker, "order": order,
            }),
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
                    next_marker: None,
                });
                f
            })
    }
}
