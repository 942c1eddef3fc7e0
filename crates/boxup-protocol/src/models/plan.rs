//! The upload-session plan (`POST …/upload_sessions/{id}/plan`), added to
//! Box's API and SDKs in 2026: the client lists its parts with their
//! SHA-512, and the server answers which it already holds (`hits`, with a
//! `part_id`) and which must be uploaded (`misses`). Field names follow the
//! generated SDKs' `UploadPartPlan`, `UploadPartPlanHit` and
//! `UploadSessionPlanResponse`; the SDKs require both arrays, even empty.

use serde::{Deserialize, Serialize};

/// One part the client intends to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPartPlan {
    pub offset: u64,
    pub size: u64,
    /// Lowercase hex SHA-512 of the part's bytes.
    pub sha512: String,
}

/// A planned part the server already holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPartPlanHit {
    pub offset: u64,
    pub size: u64,
    pub sha512: String,
    pub part_id: String,
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSessionPlanRequest {
    pub parts: Vec<UploadPartPlan>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSessionPlanResponse {
    pub upload_session_id: String,
    pub hits: Vec<UploadPartPlanHit>,
    pub misses: Vec<UploadPartPlan>,
}
