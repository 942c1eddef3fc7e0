//! Files: metadata, delete, download with `Range`, simple upload, new
//! version and preflight (docs/protocol.md §5).

use boxup_protocol::{ErrorKind, File, Files, PreflightResponse, Sha1Digest, UploadAttributes};
use futures::{StreamExt, TryStreamExt, stream};

use super::input::{json_object, parse_time, size_field, str_field};
use super::names::validate_name;
use super::policy::{self, FileAttributes, Preconditions};
use super::ranges::{parse_byte_range, resolve_range};
use super::verify::{Expect, VerifyingStream, body_error_to_api};
use super::{Caller, Origin, UploadService, if_match_etag, now, parse_id, random_hex_upper};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    ByteStream, FileChange, FileId, FileRecord, FileWrite, NewContent, ObjectRef, UserId,
    VersionId, VersionRecord,
};

/// A multipart upload, already split into its attributes and file stream.
pub struct UploadFileRequest {
    pub attributes: UploadAttributes,
    /// `Content-MD5` (which Box defines as the SHA-1 hex of the file).
    pub content_sha1: Option<String>,
    pub if_match: Option<String>,
    pub body: ByteStream,
}

/// A download: the full size, the served byte range and its bytes.
pub struct Download {
    pub total: u64,
    /// `Some` for a 206 answer to a `Range` request.
    pub range: Option<(u64, u64)>,
    pub name: String,
    pub sha1: String,
    pub etag: i64,
    pub body: ByteStream,
}

impl UploadService {
    /// `GET /files/{id}`.
    pub async fn get_file(&self, caller: &Caller, id: &str) -> ApiResult<File> {
        let file = self
            .meta
            .get_file(caller.user.id, parse_id(id)?)
            .await?
            .ok_or_else(ApiError::not_found)?;
        self.render_file(caller, &file).await
    }

    /// `DELETE /files/{id}`.
    pub async fn delete_file(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<&str>,
    ) -> ApiResult<()> {
        let decide = policy::delete_file(Preconditions::if_match(if_match.and_then(if_match_etag)));
        self.meta
            .delete_file(caller.user.id, parse_id(id)?, &decide)
            .await?;
        Ok(())
    }

    /// One version of one of `owner`'s files (the current one unless
    /// `version` names another): 404 if either is unknown or foreign.
    pub(super) async fn file_version(
        &self,
        owner: UserId,
        id: FileId,
        version: Option<VersionId>,
    ) -> ApiResult<(FileRecord, VersionRecord)> {
        let file = self
            .meta
            .get_file(owner, id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let version = match version {
            None => file.version.clone(),
            Some(v) => self
                .meta
                .get_version(owner, file.id, v)
                .await?
                .ok_or_else(ApiError::not_found)?,
        };
        Ok((file, version))
    }

    /// The bytes of `version` of `file`, honouring a single `Range`
    /// (anything else is served whole, as RFC 9110 allows).
    pub(super) async fn serve_version(
        &self,
        file: FileRecord,
        version: VersionRecord,
        range: Option<&str>,
    ) -> ApiResult<Download> {
        let total = version.size;
        let range = match range.and_then(parse_byte_range) {
            None => None,
            Some(spec) => Some(resolve_range(spec, total).ok_or_else(|| {
                ApiError::new(
                    ErrorKind::RangeNotSatisfiable,
                    format!("The range is outside the file's {total} bytes"),
                )
                .with_header("content-range", format!("bytes */{total}"))
            })?),
        };
        let (start, end) = range.unwrap_or((0, total));
        let objects = self.meta.version_objects(version.id).await?;
        Ok(Download {
            total,
            range: range.map(|(s, e)| (s, e - 1)),
            name: file.name,
            sha1: version.sha1,
            etag: file.etag,
            body: self.stream_objects(objects, start, end),
        })
    }

    /// The bytes `[start, end)` of a file made of `objects`, fetched one
    /// object at a time so memory stays at one read buffer.
    fn stream_objects(&self, objects: Vec<ObjectRef>, start: u64, end: u64) -> ByteStream {
        let parts = self.parts.clone();
        let wanted = objects
            .into_iter()
            .filter(move |o| o.offset < end && o.offset + o.size > start)
            .map(move |o| {
                let from = start.saturating_sub(o.offset);
                let to = (end - o.offset).min(o.size);
                (o.key, from..to)
            });
        stream::iter(wanted)
            .then(move |(key, range)| {
                let parts = parts.clone();
                async move { parts.get(&key, range).await.map_err(std::io::Error::other) }
            })
            .try_flatten()
            .boxed()
    }

    /// `POST /files/content`: a new file from a multipart upload.
    pub async fn upload_file(&self, caller: &Caller, req: UploadFileRequest) -> ApiResult<Files> {
        let name = req.attributes.name.clone().ok_or_else(|| {
            ApiError::new(ErrorKind::MissingFileName, "attributes.name is required")
        })?;
        validate_name(&name)?;
        let parent = req
            .attributes
            .parent
            .as_ref()
            .and_then(|p| parse_id(&p.id).ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::MissingDestination,
                    "attributes.parent.id is required",
                )
            })?;
        self.check_folder(caller, parent).await?;
        if let Some(conflict) = self
            .meta
            .find_by_name(caller.user.id, parent, &name)
            .await?
        {
            return Err(ApiError::name_in_use(&conflict));
        }
        let attributes = upload_attributes(&req.attributes)?;
        let left = self.space_left(caller).await?;
        let content = self
            .store_content(req.body, req.content_sha1.as_deref(), left)
            .await?;
        let write = FileWrite::Create {
            parent_id: parent,
            values: policy::new_file(&name, &attributes, now()),
        };
        self.record_content(caller, write, content).await
    }

    /// `POST /files/{id}/content`: a new version from a multipart upload.
    pub async fn upload_version(
        &self,
        caller: &Caller,
        id: &str,
        req: UploadFileRequest,
    ) -> ApiResult<Files> {
        let file_id = parse_id(id)?;
        let file = self
            .meta
            .get_file(caller.user.id, file_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let rename = req.attributes.name.clone().filter(|n| *n != file.name);
        if let Some(name) = &rename {
            self.check_rename(caller, &file, name).await?;
        }
        // Checked now, before any byte is stored, and again by the store on
        // the file as it stands when the version is written.
        let preconditions =
            Preconditions::if_match(req.if_match.as_deref().and_then(if_match_etag));
        preconditions.check(file.etag)?;
        let attributes = upload_attributes(&req.attributes)?;
        let left = self.space_left(caller).await?;
        let content = self
            .store_content(req.body, req.content_sha1.as_deref(), left)
            .await?;
        let write = FileWrite::NewVersion {
            file_id,
            decide: policy::new_version(rename, attributes, preconditions, now()),
        };
        self.record_content(caller, write, content).await
    }

    /// Records stored content as `write` (a new file or version) and
    /// renders the result; if recording fails, the content's objects are
    /// discarded, since no row will ever name them.
    async fn record_content(
        &self,
        caller: &Caller,
        write: FileWrite,
        content: NewContent,
    ) -> ApiResult<Files> {
        let keys: Vec<String> = content.objects.iter().map(|o| o.key.clone()).collect();
        let change = FileChange {
            owner_id: caller.user.id,
            write,
            content,
        };
        match self.meta.write_file(change).await {
            Ok(file) => Ok(Files {
                total_count: 1,
                entries: vec![self.render_file(caller, &file).await?],
            }),
            Err(e) => {
                for key in keys {
                    self.discard(&key).await;
                }
                Err(e.into())
            }
        }
    }

    /// `OPTIONS /files/content` (new file) or `OPTIONS /files/{id}/content`
    /// (new version): checks an upload before its bytes are sent.
    pub async fn preflight(
        &self,
        caller: &Caller,
        file_id: Option<&str>,
        body: &[u8],
        origin: &Origin,
    ) -> ApiResult<PreflightResponse> {
        let obj = json_object(body)?;
        let size = size_field(&obj, "size").map_err(|()| {
            ApiError::new(
                ErrorKind::InvalidFileSize,
                "size must be a non-negative integer",
            )
        })?;
        if let Some(size) = size {
            self.check_file_size(size, false)?;
            self.check_quota(caller, size).await?;
        }
        let name = str_field(&obj, "name")?;
        let token = random_hex_upper(16);
        let Some(file_id) = file_id else {
            let name =
                name.ok_or_else(|| ApiError::new(ErrorKind::MissingFileName, "name is required"))?;
            validate_name(name)?;
            let parent = obj
                .get("parent")
                .and_then(|p| p.get("id"))
                .and_then(super::input::folder_id_value)
                .ok_or_else(|| {
                    ApiError::new(ErrorKind::MissingDestination, "parent.id is required")
                })?;
            self.check_folder(caller, parent).await?;
            if let Some(conflict) = self.meta.find_by_name(caller.user.id, parent, name).await? {
                return Err(ApiError::name_in_use(&conflict));
            }
            return Ok(PreflightResponse {
                upload_url: format!(
                    "{}/files/content?upload_session_id={token}",
                    origin.upload_base()
                ),
                upload_token: None,
            });
        };
        let file = self
            .meta
            .get_file(caller.user.id, parse_id(file_id)?)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if let Some(name) = name.filter(|n| *n != file.name) {
            self.check_rename(caller, &file, name).await?;
        }
        Ok(PreflightResponse {
            upload_url: format!(
                "{}/files/{}/content?upload_session_id={token}",
                origin.upload_base(),
                file.id
            ),
            upload_token: None,
        })
    }

    /// Streams a simple upload's bytes into one new object, refusing them
    /// as soon as they pass the maximum file size or what is `left` of the
    /// uploader's quota.
    async fn store_content(
        &self,
        body: ByteStream,
        content_sha1: Option<&str>,
        left: Option<u64>,
    ) -> ApiResult<NewContent> {
        let expected = content_sha1
            .map(|h| {
                Sha1Digest::from_hex(h).map_err(|_| {
                    ApiError::new(
                        ErrorKind::BadDigest,
                        "Content-MD5 must be the SHA-1 of the file in hex",
                    )
                })
            })
            .transpose()?;
        let max = self.config.max_file_size;
        let quota_binds = left.is_some_and(|left| left < max);
        let limit = left.map_or(max, |left| left.min(max));
        let (verified, result) = VerifyingStream::new(body, Expect::AtMost(limit), expected);
        let key = format!("f/{}", random_hex_upper(16));
        self.parts
            .put(&key, Box::pin(verified))
            .await
            .map_err(|e| {
                body_error_to_api(e, |limit| {
                    if quota_binds {
                        super::users::storage_limit_exceeded(limit)
                    } else {
                        ApiError::new(
                            ErrorKind::FileSizeLimitExceeded,
                            format!("File size exceeds the limit of {limit} bytes"),
                        )
                    }
                })
            })?;
        let (size, sha1) = *result
            .get()
            .ok_or_else(|| ApiError::internal("a finished upload stream left no digest"))?;
        Ok(NewContent {
            size,
            sha1: sha1.to_hex(),
            objects: vec![ObjectRef {
                key,
                offset: 0,
                size,
            }],
        })
    }
}

fn upload_attributes(a: &UploadAttributes) -> ApiResult<FileAttributes> {
    let time =
        |name: &str, v: &Option<String>| v.as_deref().map(|s| parse_time(name, s)).transpose();
    Ok(FileAttributes {
        description: a.description.clone(),
        content_created_at: time("content_created_at", &a.content_created_at)?,
        content_modified_at: time("content_modified_at", &a.content_modified_at)?,
    })
}
