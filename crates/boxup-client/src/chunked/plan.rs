//! The upload-session plan (added to Box's API and SDKs in 2026): before
//! sending parts, list them with their SHA-512 and learn which the server
//! already holds (`hits`) and which to upload (`misses`). Named as in the
//! official SDKs: `create_file_upload_session_plan[_by_url]`.
//!
//! `upload_big_file` does not call it (nor do the official SDKs' own
//! `upload_big_file`): it would cost a SHA-512 pass over the file before
//! the first byte is sent, and boxup answers every part as a miss.

use boxup_protocol::{UploadPartPlan, UploadSessionPlanRequest, UploadSessionPlanResponse};
use reqwest::Method;
use reqwest::header::HeaderMap;

use super::ChunkedUploadsManager;
use crate::error::Result;
use crate::http::Request;

impl ChunkedUploadsManager {
    /// `POST` a plan through the session's `session_endpoints.plan` URL.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient, session: boxup_client::UploadSession) -> Result<(), boxup_client::Error> {
    /// use boxup_client::boxup_protocol::UploadPartPlan;
    /// let plan_url = session.session_endpoints.unwrap().plan.unwrap();
    /// let parts = vec![UploadPartPlan { offset: 0, size: 8_388_608, sha512: "…".into() }];
    /// let plan = client.chunked_uploads().create_file_upload_session_plan_by_url(&plan_url, parts, None).await?;
    /// println!("{} parts to upload", plan.misses.len());
    /// # Ok(()) }
    /// ```
    pub async fn create_file_upload_session_plan_by_url(
        &self,
        url: &str,
        parts: Vec<UploadPartPlan>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadSessionPlanResponse> {
        let req = Request::new(Method::POST, self.url(url)?, extra_headers)
            .json(&UploadSessionPlanRequest { parts });
        self.client
            .send(&req)
            .await?
            .json("UploadSessionPlanResponse")
    }

    /// `POST {upload_url}/2.0/files/upload_sessions/{upload_session_id}/plan`.
    ///
    /// ```no_run
    /// # async fn example(client: boxup_client::BoxClient) -> Result<(), boxup_client::Error> {
    /// let plan = client
    ///     .chunked_uploads()
    ///     .create_file_upload_session_plan("F971964745A5CD0C001BBE4E58196BFD", Vec::new(), None)
    ///     .await?;
    /// assert!(plan.hits.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn create_file_upload_session_plan(
        &self,
        upload_session_id: &str,
        parts: Vec<UploadPartPlan>,
        extra_headers: Option<&HeaderMap>,
    ) -> Result<UploadSessionPlanResponse> {
        let url = self.session_url(upload_session_id, Some("plan"));
        let req = Request::new(Method::POST, url, extra_headers)
            .json(&UploadSessionPlanRequest { parts });
        self.client
            .send(&req)
            .await?
            .json("UploadSessionPlanResponse")
    }
}
