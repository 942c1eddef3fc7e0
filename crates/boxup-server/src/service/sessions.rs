//! Creating, reading and aborting upload sessions (docs/protocol.md §4.1–4.3, §4.10, §4.13).

use boxup_protocol::{ErrorKind, UploadSession};

use super::input::{JsonObject, field, folder_id_value, json_object, size_field, str_field};
use super::names::validate_name;
use super::{
    Caller, Origin, UploadService, now, parse_id, part_size_for, part_size_from, random_hex_upper,
    render,
};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    FileRecord, FolderId, Frontier, SessionId, SessionRecord, SessionState, SessionTarget,
};

impl UploadService {
    /// `POST /files/upload_sessions`.
    pub async fn create_session(
        &self,
        caller: &Caller,
        body: &[u8],
        origin: &Origin,
    ) -> ApiResult<UploadSession> {
        let obj = json_object(body)?;
        let folder_id = match field(&obj, "folder_id") {
            None => {
                return Err(ApiError::new(
                    ErrorKind::MissingDestination,
                    "A destination folder_id is required",
                ));
            }
            Some(v) => folder_id_value(v).ok_or_else(|| {
                ApiError::new(ErrorKind::InvalidFolderId, "folder_id is not valid")
            })?,
        };
        let file_size = self.session_file_size(&obj)?;
        let name = str_field(&obj, "file_name")
            .ok()
            .flatten()
            .ok_or_else(|| ApiError::new(ErrorKind::MissingFileName, "file_name is required"))?
            .to_owned();
        validate_name(&name)?;
        self.check_folder(caller, folder_id).await?;
        if let Some(conflict) = self
            .meta
            .find_by_name(caller.user.id, folder_id, &name)
            .await?
        {
            return Err(ApiError::name_in_use(&conflict));
        }
        let target = SessionTarget::NewFile { folder_id, name };
        self.open_session(caller, target, file_size, origin).await
    }

    /// `POST /files/{file_id}/upload_sessions`.
    pub async fn create_version_session(
        &self,
        caller: &Caller,
        file_id: &str,
        body: &[u8],
        origin: &Origin,
    ) -> ApiResult<UploadSession> {
        let file_id = parse_id(file_id)?;
        let obj = json_object(body)?;
        let file = self
            .meta
            .get_file(caller.user.id, file_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let file_size = self.session_file_size(&obj)?;
        let name = str_field(&obj, "file_name")?.map(str::to_owned);
        if let Some(name) = &name {
            self.check_rename(caller, &file, name).await?;
        }
        let target = SessionTarget::NewVersion { file_id, name };
        self.open_session(caller, target, file_size, origin).await
    }

    /// `GET /files/upload_sessions/{id}`.
    pub async fn get_session(
        &self,
        caller: &Caller,
        id: &str,
        origin: &Origin,
    ) -> ApiResult<UploadSession> {
        let session = self.load_session(caller, id).await?;
        Ok(render::session(&session, origin))
    }

    /// `DELETE /files/upload_sessions/{id}`: aborts an open session (its
    /// parts are discarded) or forgets a committed one (its file stays).
    pub async fn abort_session(&self, caller: &Caller, id: &str) -> ApiResult<()> {
        let session = self.load_session(caller, id).await?;
        self.meta.delete_session(&session.id).await?;
        Ok(())
    }

    /// `POST /files/upload_sessions/{id}/log`: telemetry from Box's web
    /// uploader; accepted and dropped once the session is checked.
    pub async fn log_event(&self, caller: &Caller, id: &str) -> ApiResult<()> {
        self.load_session(caller, id).await.map(|_| ())
    }

    /// Checks a new name for an existing file: valid, and taken by no other
    /// item in its folder (the file itself may keep its name in any case).
    pub(crate) async fn check_rename(
        &self,
        caller: &Caller,
        file: &FileRecord,
        name: &str,
    ) -> ApiResult<()> {
        validate_name(name)?;
        let conflict = self
            .meta
            .find_by_name(caller.user.id, file.parent_id, name)
            .await?;
        match conflict.filter(|c| !c.is_file(file.id)) {
            Some(c) => Err(ApiError::name_in_use(&c)),
            None => Ok(()),
        }
    }

    /// 404 unless `folder_id` is the root or one of the caller's folders.
    pub(crate) async fn check_folder(&self, caller: &Caller, folder_id: FolderId) -> ApiResult<()> {
        if folder_id == FolderId::ROOT
            || self
                .meta
                .get_folder(caller.user.id, folder_id)
                .await?
                .is_some()
        {
            return Ok(());
        }
        Err(crate::store::StoreError::ParentNotFound.into())
    }

    /// Checks a file size against the configured limits.
    pub(crate) fn check_file_size(&self, size: u64, chunked: bool) -> ApiResult<()> {
        if chunked && size < self.config.min_chunked_size {
            return Err(ApiError::new(
                ErrorKind::FileSizeTooSmall,
                format!(
                    "File size {size} is below the minimum of {} bytes for chunked uploads",
                    self.config.min_chunked_size
                ),
            ));
        }
        if size > self.config.max_file_size {
            return Err(ApiError::new(
                ErrorKind::FileSizeLimitExceeded,
                format!(
                    "File size exceeds the limit of {} bytes",
                    self.config.max_file_size
                ),
            ));
        }
        Ok(())
    }

    fn session_file_size(&self, obj: &JsonObject) -> ApiResult<u64> {
        let size = match size_field(obj, "file_size") {
            Ok(Some(size)) => size,
            Ok(None) => {
                return Err(ApiError::new(
                    ErrorKind::MissingFileSize,
                    "file_size is required",
                ));
            }
            Err(()) => {
                return Err(ApiError::new(
                    ErrorKind::InvalidFileSize,
                    "file_size must be a non-negative integer",
                ));
            }
        };
        // Only the 400 here; the 403 over-limit check comes after the
        // parent (404) and name (409) checks, in `open_session` (docs/protocol.md §6.5).
        if size < self.config.min_chunked_size {
            self.check_file_size(size, true)?;
        }
        Ok(size)
    }

    async fn open_session(
        &self,
        caller: &Caller,
        target: SessionTarget,
        file_size: u64,
        origin: &Origin,
    ) -> ApiResult<UploadSession> {
        self.check_file_size(file_size, false)?;
        self.check_quota(caller, file_size).await?;
        let part_size = match self.config.part_size {
            Some(base) => part_size_from(base, file_size),
            None => part_size_for(file_size),
        };
        let total_parts = u32::try_from(file_size.div_ceil(part_size)).map_err(|_| {
            ApiError::new(ErrorKind::InvalidFileSize, "file_size needs too many parts")
        })?;
        let created_at = now();
        let session = SessionRecord {
            id: SessionId(random_hex_upper(16)),
            owner_id: caller.user.id,
            target,
            file_size,
            part_size,
            total_parts,
            num_parts: 0,
            state: SessionState::Open,
            created_at,
            expires_at: created_at + self.config.session_ttl_secs,
            frontier: Frontier::default(),
            committed: None,
        };
        self.meta.create_session(&session).await?;
        Ok(render::session(&session, origin))
    }
}
