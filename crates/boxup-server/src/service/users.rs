//! `GET /users/me`: who the caller is, and how much space they use.

use serde_json::{Value, json};

use boxup_protocol::ErrorKind;

use super::{Caller, UploadService};
use crate::error::{ApiError, ApiResult};

/// What Box reports as the space of an account without a limit.
pub const UNLIMITED_SPACE: u64 = 999_999_999_999_999;

impl UploadService {
    /// The caller as Box's user object, with `space_amount`, `space_used`
    /// (every version of every file) and `max_upload_size`.
    pub async fn current_user(&self, caller: &Caller) -> ApiResult<Value> {
        let used = self.meta.space_used(caller.user.id).await?;
        let amount = self.meta.space_amount(caller.user.id).await?;
        let user = &caller.user;
        Ok(json!({
            "type": "user",
            "id": user.id.to_string(),
            "name": user.name,
            "login": user.login,
            "status": "active",
            "language": "en",
            "timezone": "UTC",
            "space_amount": amount.unwrap_or(UNLIMITED_SPACE),
            "space_used": used,
            "max_upload_size": self.config.max_file_size,
        }))
    }
}

impl UploadService {
    /// How many more bytes the caller may store: `None` without a quota.
    ///
    /// Quotas count what `space_used` counts, every version of every file;
    /// the parts of open sessions are not counted (as at Box), so that an
    /// abandoned session does not hold space until it expires. A session
    /// is checked when it is created, for the whole file it announces, and
    /// again when it commits, since other uploads may have used the space
    /// meanwhile. The check and the write are not one transaction: two
    /// commits racing for the last space can each pass, so a quota can be
    /// exceeded by what is in flight at that moment, never more.
    pub(crate) async fn space_left(&self, caller: &Caller) -> ApiResult<Option<u64>> {
        let Some(amount) = self.meta.space_amount(caller.user.id).await? else {
            return Ok(None);
        };
        let used = self.meta.space_used(caller.user.id).await?;
        Ok(Some(amount.saturating_sub(used)))
    }

    /// 403 `storage_limit_exceeded` if `size` more bytes would take the
    /// caller past their quota.
    pub(crate) async fn check_quota(&self, caller: &Caller, size: u64) -> ApiResult<()> {
        match self.space_left(caller).await? {
            Some(left) if size > left => Err(storage_limit_exceeded(left)),
            _ => Ok(()),
        }
    }
}

/// Box's answer to a file that does not fit in what is left of the quota.
pub(crate) fn storage_limit_exceeded(left: u64) -> ApiError {
    ApiError::new(
        ErrorKind::StorageLimitExceeded,
        format!("Account storage limit reached: {left} bytes left"),
    )
}
