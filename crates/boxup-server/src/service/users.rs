//! `GET /users/me`: who the caller is, and how much space they use.

use serde_json::{Value, json};

use super::{Caller, UploadService};
use crate::error::ApiResult;

/// What Box reports as the space of an account without a limit. boxup has
/// no quotas yet, so every account is unlimited in the same way.
pub const UNLIMITED_SPACE: u64 = 999_999_999_999_999;

impl UploadService {
    /// The caller as Box's user object, with `space_amount`, `space_used`
    /// (every version of every file) and `max_upload_size`.
    pub async fn current_user(&self, caller: &Caller) -> ApiResult<Value> {
        let used = self.meta.space_used(caller.user.id).await?;
        let user = &caller.user;
        Ok(json!({
            "type": "user",
            "id": user.id.to_string(),
            "name": user.name,
            "login": user.login,
            "status": "active",
            "language": "en",
            "timezone": "UTC",
            "space_amount": UNLIMITED_SPACE,
            "space_used": used,
            "max_upload_size": self.config.max_file_size,
        }))
    }
}
