//! The upload-session plan (`POST …/upload_sessions/{id}/plan`), added to
//! Box's API and SDKs in 2026: the client lists its parts with their
//! SHA-512, and the server answers which it already holds (`hits`, with a
//! `part_id`) and which must be uploaded (`misses`). Field names follow the
//! generated SDKs' `UploadPartPlan`, `UploadPartPlanHit` and
//! `UploadSessionPlanResponse`; the SDKs require both arrays, even empty.

use serde::{Deserialize, Serialize};

/// One part the client intends to upload.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPartPlan {
    /// Offset of the part in the file.
    pub offset: u64,
    /// Size of the part in bytes.
    pub size: u64,
    /// Lowercase hex SHA-512 of the part's bytes.
    pub sha512: String,
}

/// A planned part the server already holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPartPlanHit {
    /// Offset of the part in the file, as planned.
    pub offset: u64,
    /// Size of the part in bytes, as planned.
    pub size: u64,
    /// The planned SHA-512, lowercase hex.
    pub sha512: String,
    /// The id of the stored part, to list in the commit.
    pub part_id: String,
}

/// The request body.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSessionPlanRequest {
    /// Every part the client means to upload.
    pub parts: Vec<UploadPartPlan>,
}

/// The answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSessionPlanResponse {
    /// The session the plan is for.
    pub upload_session_id: String,
    /// Planned parts already stored: not to be uploaded again.
    pub hits: Vec<UploadPartPlanHit>,
    /// Planned parts still to upload.
    pub misses: Vec<UploadPartPlan>,
}
