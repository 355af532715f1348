//! A TCP proxy in front of FerretDB that logs the name of every command a client sends (see
//! `wire`), in order: the functions and the bench's own driver baselines both go through it, so
//! index commands can be counted per cold start and a route's commands compared with its
//! baseline's.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use shared::testing::loopback::accept;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire;

/// MongoDB refuses messages above 48 MB; a larger length is a framing error.
const MAX_MESSAGE: usize = 48_000_000;

/// Every command name seen, in arrival order.
#[derive(Default)]
pub struct CommandLog(Mutex<Vec<Box<str>>>);

impl CommandLog {
    fn record(&self, name: &str) {
        self.lock().push(name.into());
    }

    /// A mark: what is logged from now on is `since(mark)`.
    pub fn mark(&self) -> usize {
        self.lock().len()
    }

    /// The commands the application sent between two marks (driver housekeeping left out).
    pub fn between(&self, from: usize, to: usize) -> Vec<String> {
        let log = self.lock();
        log.get(from..to.min(log.len()))
            .unwrap_or_default()
            .iter()
            .filter(|name| !wire::is_housekeeping(name))
            .map(|name| name.to_string())
            .collect()
    }

    /// How many index commands arrived since `from`.
    pub fn index_commands_since(&self, from: usize) -> u64 {
        let log = self.lock();
        log.get(from..)
            .unwrap_or_default()
            .iter()
            .filter(|name| wire::is_index_command(name))
            .count() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<str>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Listens on a free loopback port and relays every connection to `upstream`.
pub async fn start(upstream: SocketAddr, log: Arc<CommandLog>) -> std::io::Result<SocketAddr> {
    let (address, _) = accept(move |client| {
        let log = log.clone();
        async move {
            let _ = relay(client, upstream, &log).await;
        }
    })
    .await?;
    Ok(address)
}

/// Replies stream straight back; requests are read one whole message at a time so that each
/// can be named before it is forwarded.
async fn relay(client: TcpStream, upstream: SocketAddr, log: &CommandLog) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    server.set_nodelay(true)?;
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    });
    let mut message = Vec::new();
    loop {
        let mut length = [0u8; 4];
        if from_client.read_exact(&mut length).await.is_err() {
            break;
        }
        let size = usize::try_from(i32::from_le_bytes(length)).unwrap_or(0);
        if !(16..=MAX_MESSAGE).contains(&size) {
            break;
        }
        message.clear();
        message.extend_from_slice(&length);
        message.resize(size, 0);
        from_client.read_exact(&mut message[4..]).await?;
        if let Some(name) = wire::command_name(&message) {
            log.record(name);
        }
        to_server.write_all(&message).await?;
    }
    to_server.shutdown().await
}
