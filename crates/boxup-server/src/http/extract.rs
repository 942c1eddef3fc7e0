//! Extractors whose every rejection is an [`ApiError`], so a malformed
//! path, query, header or body never produces axum's plain-text errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use boxup_protocol::ErrorKind;

use super::AppState;
use crate::error::ApiError;
use crate::service::{Caller, Fields, ItemsQuery, Origin};

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(ApiError::unauthorized)?;
        // Tokens given on the command line first (no I/O), then those the
        // operator issued, which live in the metadata store.
        let user = match state.tokens.get(token) {
            Some(user) => user.clone(),
            None => state
                .service
                .user_for_token(token)
                .await?
                .ok_or_else(ApiError::unauthorized)?,
        };
        super::access::note_user(&parts.extensions, &user);
        // Here, so that every authenticated route and only those count
        // against a budget (see `rate_limit.rs`).
        if let Some(limiter) = &state.rate_limiter {
            limiter.check(&user.id).map_err(ApiError::rate_limited)?;
        }
        Ok(Caller { user })
    }
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(url) = &state.public_url {
            return Ok(Origin {
                base: url.trim_end_matches('/').to_owned(),
            });
        }
        let h = &parts.headers;
        let proto = header(h, "x-forwarded-proto").unwrap_or("http");
        let host = header(h, "x-forwarded-host")
            .or_else(|| header(h, "host"))
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or("localhost");
        let proto = proto.split(',').next().unwrap_or("http").trim();
        let host = host.split(',').next().unwrap_or("localhost").trim();
        Ok(Origin {
            base: format!("{proto}://{host}"),
        })
    }
}

/// Whether a proxy forwarded the request (it names another client): what
/// trusts "a connection from this machine" must not trust it.
pub(super) fn forwarded(headers: &HeaderMap) -> bool {
    [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-real-ip",
    ]
    .iter()
    .any(|name| headers.contains_key(*name))
}

/// A header as text, if present and printable.
pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The one path parameter of a route, as text. A parameter that does not
/// decode is an id that cannot exist: 404.
pub(super) struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Id(id))
            .map_err(|_| ApiError::not_found())
    }
}

/// A small request body (JSON), read whole within axum's default limit.
pub(super) struct SmallBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for SmallBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(SmallBody)
            .map_err(|e| {
                let kind = if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorKind::PayloadTooLarge
                } else {
                    ErrorKind::BadRequest
                };
                ApiError::new(kind, e.body_text())
            })
    }
}

/// The query parameters any route may take; a malformed number is a 400.
pub(super) struct QueryParams {
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub version: Option<String>,
    /// `fields=a,b`: which fields the answer's items carry.
    pub fields: Fields,
    /// `usemarker=true` and `marker`: marker-based paging.
    pub usemarker: bool,
    pub marker: Option<String>,
    /// `recursive=true` (folder delete).
    pub recursive: bool,
}

impl QueryParams {
    pub(super) fn items_query(&self) -> ItemsQuery {
        ItemsQuery {
            offset: self.offset,
            limit: self.limit,
            usemarker: self.usemarker,
            marker: self.marker.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).map_err(|_| {
                ApiError::new(ErrorKind::BadRequest, "The query string is malformed")
            })?;
        let last = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let number = |name: &str, kind: ErrorKind| -> Result<Option<u64>, ApiError> {
            match last(name) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| {
                    ApiError::new(kind, format!("'{name}' must be a non-negative integer"))
                }),
            }
        };
        let flag = |name: &str| last(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(QueryParams {
            offset: number("offset", ErrorKind::InvalidOffset)?,
            limit: number("limit", ErrorKind::InvalidLimit)?,
            version: last("version").map(str::to_owned),
            fields: Fields::parse(last("fields")),
            usemarker: flag("usemarker"),
            marker: last("marker").filter(|m| !m.is_empty()).map(str::to_owned),
            recursive: flag("recursive"),
        })
    }
}
