//! Folders: one page of items, every item (walking the pages), and folder
//! creation, named after the official SDKs' `FoldersManager`.

use boxup_protocol::{CreateFolderRequest, Folder, Item, Items, ParentRef};
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

    /// Every item of `folder_id`, page by page, in the server's order.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// for item in client.folders().get_all_folder_items("0").await? {
    ///     println!("{} {} {:?}", item.kind, item.id, item.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_all_folder_items(&self, folder_id: &str) -> Result<Vec<Item>> {
        let mut items: Vec<Item> = Vec::new();
        loop {
            let page = self
                .get_folder_items(folder_id, Some(items.len() as u64), Some(ITEMS_PAGE), None)
                .await?;
            let got = page.entries.len();
            items.extend(page.entries);
            if got == 0 || items.len() as u64 >= page.total_count {
                return Ok(items);
            }
        }
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
