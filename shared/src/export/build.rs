//! Builds one client's export ZIP. Memory stays bounded whatever the client's size: each
//! archived file streams from the store into its ZIP entry chunk by chunk, the ZIP and the
//! manifest are written to a temporary folder (the function's ephemeral storage) as they grow,
//! and the finished ZIP is stored with one streamed upload carrying its SHA-256, so the store
//! refuses it unless every byte arrived and nothing half-built is ever visible under its key.
//! Only one ticket's transactions are in memory at a time.
//!
//! What goes in is only what the archive holds for this client: the tickets whose
//! `clientIdentifier` is the client's (a ticket the client's list names but that says another
//! client is left out), read by id, never by a name or a prefix.

use std::path::Path;

use async_zip::tokio::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use futures_util::io::AsyncWriteExt as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::paths::{export_key, file_path, transcript_path};
use super::transcript;
use crate::api::{ClientView, TicketView, TransactionBody, transactions};
use crate::db::{ClientDoc, ExportDoc, ExportFile, Store, StoreError};
use crate::files::{FileError, FileStore};

/// S3 takes at most 5 GB in one upload.
pub const MAX_EXPORT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Why a build did not finish. `Refused` will not get better by trying again (the export is
/// marked failed); the others may.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("file store: {0}")]
    Files(#[from] FileError),
    #[error("temporary file: {0}")]
    Disk(std::io::ErrorKind),
    #[error("ZIP writer: {0}")]
    Zip(String),
    /// A fixed phrase, shown as the export's `failure`.
    #[error("{0}")]
    Refused(&'static str),
}

impl BuildError {
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(error) => error.is_transient(),
            Self::Files(error) => error.is_transient(),
            Self::Disk(_) => true,
            Self::Zip(_) | Self::Refused(_) => false,
        }
    }
}

impl From<std::io::Error> for BuildError {
    fn from(error: std::io::Error) -> Self {
        Self::Disk(error.kind())
    }
}

impl From<async_zip::error::ZipError> for BuildError {
    fn from(error: async_zip::error::ZipError) -> Self {
        // The writer's errors name entries, which hold only ids and cleaned file names.
        Self::Zip(error.to_string())
    }
}

type Zip = ZipFileWriter<tokio::fs::File>;

/// Builds the export of `client` and stores it under its key; what was stored.
pub async fn build_export(
    store: &Store,
    files: &FileStore,
    export: &ExportDoc,
    client: &ClientDoc,
) -> Result<ExportFile, BuildError> {
    let folder = tempfile::tempdir()?;
    let zip_path = folder.path().join("export.zip");
    let manifest_path = folder.path().join("manifest.json");
    let mut zip = ZipFileWriter::with_tokio(tokio::fs::File::create(&zip_path).await?);
    let mut manifest = tokio::fs::File::create(&manifest_path).await?;

    let head = json!({
        "format": "client-ticket-manager export, version 1",
        "exportId": export.export_id,
        "createdAt": crate::dates::to_chrono(export.created_at),
        "client": ClientView::from(client.clone()),
    });
    let head = serde_json::to_string(&head).map_err(|_| BuildError::Refused("manifest"))?;
    // The manifest is one JSON object written ticket by ticket: its head without the closing
    // brace, then `"tickets": [ … ]}`.
    manifest
        .write_all(format!("{},\"tickets\":[", &head[..head.len() - 1]).as_bytes())
        .await?;

    let mut tally = ExportFile {
        size_bytes: 0,
        sha256: String::new(),
        tickets: 0,
        files: 0,
    };
    for ticket_id in store.client_ticket_ids(&client.identifier).await? {
        let Some(ticket) = store.get_ticket(ticket_id).await? else {
            continue;
        };
        if ticket.client_identifier != client.identifier {
            continue;
        }
        let stored = store.all_transactions(ticket_id).await?;
        let bodies = transactions(&stored, ticket_id);
        let view = TicketView::summary(ticket);
        let mut placed = Vec::new();
        for (transaction, body) in stored.iter().zip(&bodies) {
            for (index, attachment) in transaction.attachments.iter().enumerate() {
                let Some(file) = &attachment.stored else {
                    continue;
                };
                let path = file_path(
                    ticket_id,
                    transaction.id,
                    &attachment.segment(index),
                    attachment.original_file_name.as_deref(),
                );
                copy_file(&mut zip, files, &file.key, &file.sha256, &path).await?;
                tally.files += 1;
                placed.push((body.id, index, path));
            }
        }
        let path_of = |transaction: &TransactionBody, index: usize| {
            placed
                .iter()
                .find(|(id, i, _)| *id == transaction.id && *i == index)
                .map(|(_, _, path)| path.clone())
        };
        let html = transcript::render(&view, &bodies, &path_of);
        write_entry(&mut zip, &transcript_path(ticket_id), html.as_bytes()).await?;

        let entry = manifest_ticket(&view, &bodies, &path_of)?;
        if tally.tickets > 0 {
            manifest.write_all(b",").await?;
        }
        manifest.write_all(&entry).await?;
        tally.tickets += 1;
    }
    manifest.write_all(b"]}").await?;
    manifest.flush().await?;
    drop(manifest);

    copy_local_file(&mut zip, &manifest_path, "manifest.json").await?;
    write_entry(&mut zip, "README.txt", readme(export, &tally).as_bytes()).await?;
    let mut written = zip.close().await?.into_inner();
    written.flush().await?;
    drop(written);

    let (size, sha256) = hash_file(&zip_path).await?;
    if size > MAX_EXPORT_BYTES {
        return Err(BuildError::Refused("the export is larger than 5 GB"));
    }
    files
        .put_file(
            &export_key(&export.export_id),
            &zip_path,
            "application/zip",
            &sha256,
        )
        .await?;
    tally.size_bytes = size;
    tally.sha256 = sha256;
    Ok(tally)
}

/// One ticket of the manifest: the API's view of it and of every transaction, each archived
/// file's metadata with its place in the ZIP (`file.zipPath`).
fn manifest_ticket(
    view: &TicketView,
    bodies: &[TransactionBody],
    path_of: &dyn Fn(&TransactionBody, usize) -> Option<String>,
) -> Result<Vec<u8>, BuildError> {
    let unencodable = |_| BuildError::Refused("a ticket could not be written to the manifest");
    let mut ticket = serde_json::to_value(view).map_err(unencodable)?;
    let mut list = Vec::with_capacity(bodies.len());
    for body in bodies {
        let mut transaction = serde_json::to_value(body).map_err(unencodable)?;
        if let Some(Value::Array(attachments)) = transaction.get_mut("attachments") {
            for (index, attachment) in attachments.iter_mut().enumerate() {
                if let (Some(file), Some(path)) = (
                    attachment.get_mut("file").and_then(Value::as_object_mut),
                    path_of(body, index),
                ) {
                    file.insert("zipPath".into(), Value::String(path));
                }
            }
        }
        list.push(transaction);
    }
    ticket["transactions"] = Value::Array(list);
    ticket["transcript"] = Value::String(transcript_path(view.ticket_id));
    serde_json::to_vec(&ticket).map_err(unencodable)
}

fn entry(name: &str) -> ZipEntryBuilder {
    // Stored, not deflated: most archived files (images, PDFs) are compressed already, and
    // the writer then needs no compression codec.
    ZipEntryBuilder::new(name.to_owned().into(), Compression::Stored).unix_permissions(0o644)
}

async fn write_entry(zip: &mut Zip, name: &str, bytes: &[u8]) -> Result<(), BuildError> {
    let mut writer = zip.write_entry_stream(entry(name)).await?;
    writer.write_all(bytes).await?;
    writer.close().await?;
    Ok(())
}

/// Streams an archived file into the ZIP, checking it against the SHA-256 recorded when it
/// was archived: a copy that differs is never handed to anyone.
async fn copy_file(
    zip: &mut Zip,
    files: &FileStore,
    key: &str,
    expected_sha256: &str,
    path: &str,
) -> Result<(), BuildError> {
    let (_, mut body) = files.open(key).await?.ok_or(BuildError::Refused(
        "an archived file is missing from the store",
    ))?;
    let mut writer = zip.write_entry_stream(entry(path)).await?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.next_chunk().await? {
        hasher.update(&chunk);
        writer.write_all(&chunk).await?;
    }
    writer.close().await?;
    if hex::encode(hasher.finalize()) != expected_sha256 {
        return Err(BuildError::Refused(
            "an archived file does not match its SHA-256",
        ));
    }
    Ok(())
}

async fn copy_local_file(zip: &mut Zip, source: &Path, name: &str) -> Result<(), BuildError> {
    let mut file = tokio::fs::File::open(source).await?;
    let mut writer = zip.write_entry_stream(entry(name)).await?;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        writer.write_all(&buffer[..read]).await?;
    }
    writer.close().await?;
    Ok(())
}

/// Size and hex SHA-256 of a file, read in 64 KiB chunks.
async fn hash_file(path: &Path) -> Result<(u64, String), BuildError> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// `README.txt`: what the export holds, for whom, when, and how to check it. The client's
/// name is not repeated here: the manifest and the transcripts hold it.
fn readme(export: &ExportDoc, tally: &ExportFile) -> String {
    let created = crate::dates::to_chrono(export.created_at).format("%Y-%m-%d %H:%M UTC");
    format!(
        "Data export {id}\r\n\
         \r\n\
         This file holds everything our support archive keeps about the client\r\n\
         {client}, as of {created}: {tickets} conversation(s) and {files} attached file(s).\r\n\
         \r\n\
         What is inside\r\n\
         - tickets/<ticket>.html: each conversation as a page to read in any web browser\r\n\
           (who wrote, when, in which direction; internal notes are marked).\r\n\
         - files/<ticket>/<message>/<attachment>-<name>: every attached file, exactly as\r\n\
           it was received.\r\n\
         - manifest.json: the same data in machine-readable form (JSON): the client, every\r\n\
           ticket with every message, and for each file its SHA-256 and its place here\r\n\
           (file.zipPath).\r\n\
         \r\n\
         Checking the files\r\n\
         Each file's SHA-256 in manifest.json can be compared with the file's own:\r\n\
         - Linux:   sha256sum files/<ticket>/<message>/<file>\r\n\
         - macOS:   shasum -a 256 files/<ticket>/<message>/<file>\r\n\
         - Windows: certutil -hashfile files\\<ticket>\\<message>\\<file> SHA256\r\n\
         The SHA-256 of this whole ZIP is shown where it was downloaded.\r\n",
        id = export.export_id,
        client = export.client_identifier,
        tickets = tally.tickets,
        files = tally.files,
    )
}
