//! File metadata, updates, copies and deletion (`{base_url}/2.0/files/{id}`),
//! named after the official SDKs' `FilesManager`.
//!
//! These live on the API host (`base_url`), unlike the upload-session
//! calls. This module also holds [`BoxClient::api_endpoint`], the one place
//! that builds API-host URLs, shared by `folders.rs` and `downloads.rs`.

use boxup_protocol::{CopyItemRequest, File, UpdateItemRequest};
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

use crate::client::BoxClient;
use crate::error::{Error, Result};
use crate::http::Request;

impl BoxClient {
    /// File metadata, updates, copies and deletion.
    pub fn files(&self) -> FilesManager {
        FilesManager {
            client: self.clone(),
        }
    }

    /// `{base_url}/2.0/{segments...}`, each segment percent-encoded.
    pub(crate) fn api_endpoint(&self, segments: &[&str]) -> Result<Url> {
        let base = &self.inner.urls.base_url;
        let mut url =
            Url::parse(base).map_err(|e| Error::InvalidInput(format!("base_url {base:?}: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| Error::InvalidInput(format!("base_url {base:?} is not hierarchical")))?
            .pop_if_empty()
            .push("2.0")
            .extend(segments);
        Ok(url)
    }
}

/// File metadata, updates, copies and deletion, from [`BoxClient::files`].
#[derive(Debug, Clone)]
pub struct FilesManager {
    client: BoxClient,
}

impl FilesManager {
    /// `GET {base_url}/2.0/files/{file_id}`: the file's standard
    /// representation (name, size, sha1, parent, version...).
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// let file = client.files().get_file_by_id("12345", None).await?;
    /// println!("{:?} has sha1 {:?}", file.name, file.sha1);
    /// # Ok(()) }
    /// ```
    pub async fn get_file_by_id(
        &self,
        file_id: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<File> {
        let url = self.client.api_endpoint(&["files", file_id])?;
        let req = Request::new(Method::GET, url, extra_headers);
        self.client.send(&req).await?.json("File")
    }

    /// `PUT {base_url}/2.0/files/{file_id}`: rename, move (a new
    /// `parent`), describe or re-date a file. A taken name is 409
    /// `item_name_in_use`; `If-Match` in the extra headers makes it
    /// conditional.
    pub async fn update_file_by_id(
        &self,
        file_id: &str,
        update: &UpdateItemRequest,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<File> {
        let url = self.client.api_endpoint(&["files", file_id])?;
        let req = Request::new(Method::PUT, url, extra_headers).json(update);
        self.client.send(&req).await?.json("File")
    }

    /// `POST {base_url}/2.0/files/{file_id}/copy`: a new file with the
    /// same content in `copy.parent` (boxup shares the bytes, copying none).
    pub async fn copy_file(
        &self,
        file_id: &str,
        copy: &CopyItemRequest,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<File> {
        let url = self.client.api_endpoint(&["files", file_id, "copy"])?;
        let req = Request::new(Method::POST, url, extra_headers).json(copy);
        self.client.send(&req).await?.json("File")
    }

    /// `DELETE {base_url}/2.0/files/{file_id}`. Pass `If-Match` in the
    /// extra headers to delete only an unchanged file (412 otherwise).
    pub async fn delete_file_by_id(
        &self,
        file_id: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<()> {
        let url = self.client.api_endpoint(&["files", file_id])?;
        let req = Request::new(Method::DELETE, url, extra_headers);
        self.client.send(&req).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use crate::{BaseUrls, BoxClient};

    #[test]
    fn api_endpoints_sit_under_base_url_and_escape_ids() {
        let c = BoxClient::builder()
            .token("t")
            .base_urls(BaseUrls::single_origin("http://127.0.0.1:9/"))
            .build()
            .unwrap();
        let url = c.api_endpoint(&["files", "1 2/3"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/2.0/files/1%202%2F3");
        let real = BoxClient::new("t").unwrap();
        assert_eq!(
            real.api_endpoint(&["folders", "0", "items"])
                .unwrap()
                .as_str(),
            "https://api.box.com/2.0/folders/0/items"
        );
    }
}
