//! `POST /files/upload_sessions/{id}/plan`: which of the client's parts the
//! server already holds.
//!
//! Box answers from a store of previously uploaded parts keyed by SHA-512,
//! so a client can skip them. boxup keeps no SHA-512 of its parts (it would
//! cost a third hash pass over every byte on the server), so it answers
//! every planned part as a miss. That is always a correct plan: a miss only
//! means "upload this part", which is what a client without the endpoint
//! does anyway, and the SDKs accept an empty `hits` array.

use boxup_protocol::{ErrorKind, UploadPartPlan, UploadSessionPlanResponse};
use serde_json::Value;

use super::input::json_object;
use super::{Caller, UploadService};
use crate::error::{ApiError, ApiResult};
use crate::store::SessionState;

/// The most parts one plan may list: a session's most parts.
const MAX_PLANNED_PARTS: usize = 10_000;

impl UploadService {
    /// `POST /files/upload_sessions/{id}/plan`.
    pub async fn plan_session(
        &self,
        caller: &Caller,
        id: &str,
        body: &[u8],
    ) -> ApiResult<UploadSessionPlanResponse> {
        let session = self.load_session(caller, id).await?;
        let mut obj = json_object(body)?;
        let parts: Vec<UploadPartPlan> = match obj.remove("parts") {
            Some(v @ Value::Array(_)) => serde_json::from_value(v).map_err(|e| {
                ApiError::new(ErrorKind::BadRequest, format!("'parts' is malformed: {e}"))
            })?,
            _ => {
                return Err(ApiError::new(
                    ErrorKind::BadRequest,
                    "'parts' (an array of {offset, size, sha512}) is required",
                ));
            }
        };
        if parts.len() > MAX_PLANNED_PARTS {
            return Err(ApiError::new(
                ErrorKind::BadRequest,
                format!("a plan lists at most {MAX_PLANNED_PARTS} parts"),
            ));
        }
        if session.state == SessionState::Committed {
            return Err(crate::store::StoreError::SessionNotOpen(SessionState::Committed).into());
        }
        Ok(UploadSessionPlanResponse {
            upload_session_id: session.id.to_string(),
            hits: Vec::new(),
            misses: parts,
        })
    }
}
