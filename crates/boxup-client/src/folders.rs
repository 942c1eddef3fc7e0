//! Folders: pages of items (by offset or marker), every item (walking the
//! pages by marker), creation, update, copy and deletion, named after the
//! official SDKs' `FoldersManager`; and the current user.

use boxup_protocol::{
    CopyItemRequest, CreateFolderRequest, Folder, Item, Items, ParentRef, UpdateItemRequest, User,
};
use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::client::BoxClient;
use crate::error::Result;
use crate::http::Request;

/// The page size used to walk a whole folder (Box's maximum).
const ITEMS_PAGE: u64 = 1000;

/// The fields asked of each item: Box's mini items lack `size` and `sha1`
/// unless they are requested.
const ITEM_FIELDS: &str = "type,id,name,size,sha1,etag,sequence_id,file_version";

impl BoxClient {
    /// `GET {base_url}/2.0/users/me`: who the token belongs to, and the
    /// space their files take.
    pub async fn get_user_me(&self) -> Result<User> {
        let url = self.api_endpoint(&["users", "me"])?;
        let req = Request::new(Method::GET, url, None);
        self.send(&req).await?.json("User")
    }

    /// Folder listings and creation.
    pub fn folders(&self) -> FoldersManager {
        FoldersManager {
            client: self.clone(),
        }
    }
}

/// Folder operations, from [`BoxClient::folders`].
#[derive(Debug, Clone)]
pub struct FoldersManager {
    client: BoxClient,
}

impl FoldersManager {
    /// `GET {base_url}/2.0/folders/{folder_id}/items?offset&limit&fields`:
    /// one page. The root folder is `"0"`.
    pub async fn get_folder_items(
        &self,
        folder_id: &str,
        offset: Option<u64>,
        limit: Option<u64>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<Items> {
        let mut url = self.client.api_endpoint(&["folders", folder_id, "items"])?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("fields", ITEM_FIELDS);
            if let Some(o) = offset {
                q.append_pair("offset", &o.to_string());
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
        }
        let req = Request::new(Method::GET, url, extra_headers);
        self.client.send(&req).await?.json("Items")
    }

    /// `GET {base_url}/2.0/folders/{folder_id}/items?usemarker=true`: one
    /// page by marker. Pass the previous page's `next_marker` to get the
    /// next; the last page has none. Unlike offsets, markers neither skip
    /// nor repeat items when the folder changes between pages.
    pub async fn get_folder_items_by_marker(
        &self,
        folder_id: &str,
        marker: Option<&str>,
        limit: Option<u64>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<Items> {
        let mut url = self.client.api_endpoint(&["folders", folder_id, "items"])?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("fields", ITEM_FIELDS);
            q.append_pair("usemarker", "true");
            if let Some(m) = marker {
                q.append_pair("marker", m);
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
        }
        let req = Request::new(Method::GET, url, extra_headers);
        self.client.send(&req).await?.json("Items")
    }

    /// Every item of `folder_id`, page by page (by marker), in the
    /// server's order.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// for item in client.folders().get_all_folder_items("0").await? {
    ///     println!("{} {} {:?}", item.kind, item.id, item.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_all_folder_items(&self, folder_id: &str) -> Result<Vec<Item>> {
        self.walk_folder_items(folder_id, ITEMS_PAGE).await
    }

    /// [`Self::get_all_folder_items`] with pages of `page_size` items.
    pub async fn walk_folder_items(&self, folder_id: &str, page_size: u64) -> Result<Vec<Item>> {
        let mut items: Vec<Item> = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .get_folder_items_by_marker(folder_id, marker.as_deref(), Some(page_size), None)
                .await?;
            items.extend(page.entries);
            match page.next_marker.filter(|m| !m.is_empty()) {
                Some(next) => marker = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// `PUT {base_url}/2.0/folders/{folder_id}`: rename, move or describe
    /// a folder. Moving a folder into itself or a folder inside it is 400
    /// `cyclical_folder_structure`.
    pub async fn update_folder_by_id(
        &self,
        folder_id: &str,
        update: &UpdateItemRequest,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<Folder> {
        let url = self.client.api_endpoint(&["folders", folder_id])?;
        let req = Request::new(Method::PUT, url, extra_headers).json(update);
        self.client.send(&req).await?.json("Folder")
    }

    /// `DELETE {base_url}/2.0/folders/{folder_id}[?recursive=true]`.
    /// Without `recursive`, a folder that holds anything is 400
    /// `folder_not_empty`.
    pub async fn delete_folder_by_id(
        &self,
        folder_id: &str,
        recursive: bool,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<()> {
        let mut url = self.client.api_endpoint(&["folders", folder_id])?;
        if recursive {
            url.query_pairs_mut().append_pair("recursive", "true");
        }
        let req = Request::new(Method::DELETE, url, extra_headers);
        self.client.send(&req).await.map(drop)
    }

    /// `POST {base_url}/2.0/folders/{folder_id}/copy`: the folder and
    /// everything in it, into `copy.parent`.
    pub async fn copy_folder(
        &self,
        folder_id: &str,
        copy: &CopyItemRequest,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<Folder> {
        let url = self.client.api_endpoint(&["folders", folder_id, "copy"])?;
        let req = Request::new(Method::POST, url, extra_headers).json(copy);
        self.client.send(&req).await?.json("Folder")
    }

    /// `GET {base_url}/2.0/folders/{folder_id}`: the folder with its first
    /// page of items.
    pub async fn get_folder_by_id(
        &self,
        folder_id: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<Folder> {
        let url = self.client.api_endpoint(&["folders", folder_id])?;
        let req = Request::new(Method::GET, url, extra_headers);
        self.client.send(&req).await?.json("Folder")
    }

    /// `POST {base_url}/2.0/folders` with `{"name", "parent": {"id"}}`. A
    /// taken name is 409 `item_name_in_use`.
    pub async fn create_folder(
        &self,
        name: &str,
        parent_id: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<Folder> {
        let body = CreateFolderRequest {
            name: name.to_owned(),
            parent: ParentRef {
                id: parent_id.to_owned(),
            },
        };
        let url = self.client.api_endpoint(&["folders"])?;
        let req = Request::new(Method::POST, url, extra_headers).json(&body);
        self.client.send(&req).await?.json("Folder")
    }
}
