//! Creating, reading and deleting upload sessions.

use boxup_protocol::{
    CreateUploadSessionRequest, CreateVersionUploadSessionRequest, UploadSession,
};
use reqwest::Method;
use reqwest::header::HeaderMap;

use super::ChunkedUploadsManager;
use crate::error::Result;
use crate::http::Request;

impl ChunkedUploadsManager {
    /// `POST {upload_url}/2.0/files/upload_sessions`: a session for a new
    /// file named `file_name` of `file_size` bytes in folder `folder_id`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// let session = client
    ///     .chunked_uploads()
    ///     .create_file_upload_session("0", 104_857_600, "Project.mov", None)
    ///     .await?;
    /// println!("{} parts of {} bytes", session.total_parts.unwrap_or(0), session.part_size.unwrap_or(0));
    /// # Ok(()) }
    /// ```
    pub async fn create_file_upload_session(
        &self,
        folder_id: &str,
        file_size: u64,
        file_name: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadSession> {
        let body = CreateUploadSessionRequest {
            folder_id: folder_id.to_owned(),
            file_size,
            file_name: file_name.to_owned(),
        };
        let url = self.client.upload_endpoint(&["files", "upload_sessions"]);
        let req = Request::new(Method::POST, url, extra_headers).json(&body);
        self.client.send(&req).await?.json("UploadSession")
    }

    /// `POST {upload_url}/2.0/files/{file_id}/upload_sessions`: a session
    /// for a new version of file `file_id`, optionally renaming it.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// let session = client
    ///     .chunked_uploads()
    ///     .create_file_upload_session_for_existing_file("12345", 104_857_600, None, None)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_file_upload_session_for_existing_file(
        &self,
        file_id: &str,
        file_size: u64,
        file_name: Option<&str>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadSession> {
        let body = CreateVersionUploadSessionRequest {
            file_size,
            file_name: file_name.map(str::to_owned),
        };
        let url = self
            .client
            .upload_endpoint(&["files", file_id, "upload_sessions"]);
        let req = Request::new(Method::POST, url, extra_headers).json(&body);
        self.client.send(&req).await?.json("UploadSession")
    }

    /// `GET` a session through its `session_endpoints.status` URL.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, session: boxup_client::UploadSession) -> Result<(), boxup_client::Error> {
    /// let status_url = session.session_endpoints.unwrap().status.unwrap();
    /// let now = client.chunked_uploads().get_file_upload_session_by_url(&status_url, None).await?;
    /// println!("{} parts processed", now.num_parts_processed.unwrap_or(0));
    /// # Ok(()) }
    /// ```
    pub async fn get_file_upload_session_by_url(
        &self,
        url: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadSession> {
        let req = Request::new(Method::GET, self.url(url)?, extra_headers);
        self.client.send(&req).await?.json("UploadSession")
    }

    /// `GET {upload_url}/2.0/files/upload_sessions/{upload_session_id}`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// let session = client
    ///     .chunked_uploads()
    ///     .get_file_upload_session_by_id("F971964745A5CD0C001BBE4E58196BFD", None)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_file_upload_session_by_id(
        &self,
        upload_session_id: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadSession> {
        let req = Request::new(
            Method::GET,
            self.session_url(upload_session_id, None),
            extra_headers,
        );
        self.client.send(&req).await?.json("UploadSession")
    }

    /// `DELETE` (abort) a session through its `session_endpoints.abort`
    /// URL. Uploaded parts are discarded; this cannot be undone.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, session: boxup_client::UploadSession) -> Result<(), boxup_client::Error> {
    /// let abort_url = session.session_endpoints.unwrap().abort.unwrap();
    /// client.chunked_uploads().delete_file_upload_session_by_url(&abort_url, None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_file_upload_session_by_url(
        &self,
        url: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<()> {
        let req = Request::new(Method::DELETE, self.url(url)?, extra_headers);
        self.client.send(&req).await.map(drop)
    }

    /// `DELETE {upload_url}/2.0/files/upload_sessions/{upload_session_id}`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// client
    ///     .chunked_uploads()
    ///     .delete_file_upload_session_by_id("F971964745A5CD0C001BBE4E58196BFD", None)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_file_upload_session_by_id(
        &self,
        upload_session_id: &str,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<()> {
        let req = Request::new(
            Method::DELETE,
            self.session_url(upload_session_id, None),
            extra_headers,
        );
        self.client.send(&req).await.map(drop)
    }
}
