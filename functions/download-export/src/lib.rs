//! `GET /exports/{exportId}/file`: the export's ZIP. Deployed, 302 to a pre-signed S3 URL valid
//! 15 minutes that downloads it as an attachment; locally (the folder store), the bytes. 409
//! `not_ready` while it is built (or when it failed), 410 `gone` once expired, 404 for an
//! unknown export.

use std::time::Duration;

use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::http::header::{
    CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS,
};
use lambda_http::{Body, Request};
use shared::access::Concerning;
use shared::dates::to_chrono;
use shared::db::ExportStatus;
use shared::error::AppError;
use shared::export::paths::export_key;
use shared::export::requested_export;
use shared::files::{FileStore, attachment_disposition};
use shared::response::private_file;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

/// What the issue of a data-subject request asks: long enough to start a large download.
const LINK_LIFETIME: Duration = Duration::from_secs(15 * 60);
const ZIP: &str = "application/zip";

pub const HANDLER: RestHandler<FileStore> =
    |state, request| Box::pin(download_export(state, request));

async fn download_export(state: &ApiState<FileStore>, request: &Request) -> RestResult {
    let export = requested_export(&state.store, request).await?;
    let export_id = export.export_id.clone();
    let concerning = Concerning::client(export.client_identifier.clone());
    let refusal = if to_chrono(export.expires_at) <= Utc::now() {
        Some(AppError::Gone(
            "this export has expired; request a new one".into(),
        ))
    } else {
        match export.status {
            ExportStatus::Pending => Some(AppError::NotReady(
                "the export is still being built; try again shortly".into(),
            )),
            ExportStatus::Failed => Some(AppError::NotReady(
                "the export failed; request a new one".into(),
            )),
            ExportStatus::Ready => None,
        }
    };
    if let Some(refusal) = refusal {
        return Ok(concerning.refuse(&refusal));
    }
    let key = export_key(&export_id);
    let file_name = format!("client-export-{export_id}.zip");
    if let Some(url) = state
        .files
        .presigned_download(&key, &file_name, ZIP, LINK_LIFETIME)
        .await?
    {
        tracing::info!(export_id, "export link signed");
        let response = private_file(StatusCode::FOUND, Body::Empty, &[(LOCATION, url)])?;
        return Ok(concerning.attach(response));
    }
    // The folder store: the file went with the expiry's purge, or by hand.
    let (_, body) = state
        .files
        .open(&key)
        .await?
        .ok_or_else(|| AppError::Gone("this export's file is no longer kept".into()))?;
    let response = private_file(
        StatusCode::OK,
        Body::Binary(body.into_vec().await?),
        &[
            (CONTENT_TYPE, ZIP.to_owned()),
            (CONTENT_DISPOSITION, attachment_disposition(&file_name)),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
    )?;
    Ok(concerning.attach(response))
}
