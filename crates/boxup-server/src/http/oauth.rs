//! `POST /oauth2/token` and `POST /oauth2/revoke` (no `/2.0` prefix, as at
//! Box): form-encoded requests, answered with OAuth's own error shape
//! (`service/oauth.rs` says why).

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boxup_protocol::BoxError;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::ApiError;
use crate::service::Origin;
use crate::service::oauth::{AccessToken, OAuthError};

type Fields = Result<Form<HashMap<String, String>>, FormRejection>;

/// OAuth's error (RFC 6749 §5.2), Box's `OAuth2Error`.
#[derive(Serialize, ToSchema)]
pub(super) struct OAuth2Error {
    /// `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unsupported_grant_type`, or (with 429) `rate_limit_exceeded`.
    #[schema(example = "invalid_client")]
    error: &'static str,
    /// What was wrong, for people.
    error_description: String,
}

/// `POST /oauth2/token`'s form (Box's `PostOAuth2Token`): a client
/// credentials grant names its subject, a JWT bearer grant signs it.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used; the handler reads a map.
pub(super) struct PostOAuth2Token {
    /// `client_credentials` or `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    #[schema(example = "client_credentials")]
    grant_type: String,
    /// The app's client id (`boxup admin app add`).
    client_id: String,
    /// The app's client secret.
    client_secret: String,
    /// Client credentials grant: `user` or `enterprise`.
    box_subject_type: Option<String>,
    /// Client credentials grant: the app's user's id, or any for `enterprise`.
    box_subject_id: Option<String>,
    /// JWT bearer grant: the signed assertion.
    assertion: Option<String>,
}

/// `POST /oauth2/revoke`'s form (Box's `PostOAuth2Revoke`).
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used; the handler reads a map.
pub(super) struct PostOAuth2Revoke {
    /// The app's client id.
    client_id: String,
    /// The app's client secret.
    client_secret: String,
    /// The access token to forget.
    token: String,
}

/// An access token for an app's client credentials or JWT bearer grant.
#[utoipa::path(post, path = "/oauth2/token", tag = "Authorization",
    request_body(content = PostOAuth2Token, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "A new access token (`Cache-Control: no-store`)",
            body = AccessToken),
        (status = 400, description = "Malformed request, unknown client or refused grant",
            body = OAuth2Error),
        (status = 429, description = "Over the app's budget of grants; `Retry-After` says \
            when to try again", body = OAuth2Error),
        (status = "default", description = "A server failure: Box's error object",
            body = BoxError)),
    security(()))]
pub(super) async fn token(State(s): State<AppState>, origin: Origin, form: Fields) -> Response {
    let own_token_url = format!("{}/oauth2/token", origin.base);
    let answer = match form {
        Ok(Form(form)) => s.service.oauth_token(&form, &own_token_url).await,
        Err(e) => Err(OAuthError::InvalidRequest(e.body_text())),
    };
    match answer {
        Ok(token) => {
            let mut response = axum::Json(token).into_response();
            // Tokens must not be cached anywhere (RFC 6749 §5.1).
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => oauth_error(e),
    }
}

/// Forgets an access token the app was given; an unknown token is not an
/// error (RFC 7009).
#[utoipa::path(post, path = "/oauth2/revoke", tag = "Authorization",
    request_body(content = PostOAuth2Revoke, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Revoked, or not a token of this app's (empty)"),
        (status = 400, description = "Malformed request or unknown client", body = OAuth2Error),
        (status = 429, description = "Over the app's budget of grants; `Retry-After` says \
            when to try again", body = OAuth2Error),
        (status = "default", description = "A server failure: Box's error object",
            body = BoxError)),
    security(()))]
pub(super) async fn revoke(State(s): State<AppState>, form: Fields) -> Response {
    let answer = match form {
        Ok(Form(form)) => s.service.oauth_revoke(&form).await,
        Err(e) => Err(OAuthError::InvalidRequest(e.body_text())),
    };
    match answer {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => oauth_error(e),
    }
}

fn oauth_error(e: OAuthError) -> Response {
    let (status, error) = match e.status_and_code() {
        Some(answer) => answer,
        // A store failure is the server's (503 if it is unavailable).
        None => {
            return match e {
                OAuthError::Store(e) => ApiError::from(e).into_response(),
                e => ApiError::internal(format!("OAuth grant failed: {e:?}")).into_response(),
            };
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = OAuth2Error {
        error,
        error_description: e.to_string(),
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let OAuthError::RateLimited(secs) = e {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
