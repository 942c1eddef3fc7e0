//! Folder handlers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use boxup_protocol::{Folder, Items};

use super::AppState;
use super::extract::{Id, Paging, SmallBody};
use crate::error::ApiResult;
use crate::service::Caller;

pub(super) async fn get(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Folder>> {
    Ok(Json(s.service.get_folder(&caller, &id).await?))
}

pub(super) async fn items(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    paging: Paging,
) -> ApiResult<Json<Items>> {
    Ok(Json(
        s.service
            .list_items(&caller, &id, paging.offset, paging.limit)
            .await?,
    ))
}

pub(super) async fn create(
    State(s): State<AppState>,
    caller: Caller,
    SmallBody(body): SmallBody,
) -> ApiResult<(StatusCode, Json<Folder>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_folder(&caller, &body).await?),
    ))
}
