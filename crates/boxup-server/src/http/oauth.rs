//! `POST /oauth2/token` and `POST /oauth2/revoke` (no `/2.0` prefix, as at
//! Box): form-encoded requests, answered with OAuth's own error shape
//! (`service/oauth.rs` says why).

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::ApiError;
use crate::service::Origin;
use crate::service::oauth::OAuthError;

type Fields = Result<Form<HashMap<String, String>>, FormRejection>;

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
    let (status, code) = match e.status_and_code() {
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
    let body = axum::Json(json!({"error": code, "error_description": e.to_string()}));
    let mut response = (status, body).into_response();
    if let OAuthError::RateLimited(secs) = e {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
