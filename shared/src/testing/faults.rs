//! Faults between the service and a real server: a TCP relay that delays every answer, for
//! "the database is slower than the budget" (the server itself stays real), and a server that
//! accepts connections and never answers.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A relay on loopback to `upstream` (`host:port`) that holds every chunk the server sends
/// back for `delay` before passing it on. Returns the relay's `host:port`.
pub async fn slow_relay(upstream: String, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let requests = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let mut buffer = vec![0_u8; 64 * 1024];
                while let Ok(read) = server_read.read(&mut buffer).await {
                    if read == 0 {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    if client_write.write_all(&buffer[..read]).await.is_err() {
                        break;
                    }
                }
                requests.abort();
            });
        }
    });
    address.to_string()
}

/// The `host:port` of a `mongodb://host:port/` URI.
pub fn host_of(uri: &str) -> String {
    uri.trim_start_matches("mongodb://")
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A server on loopback that accepts every connection, reads what it is sent and never
/// answers: a dependency that hangs. Returns its `http://host:port`.
pub async fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut connection, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 64 * 1024];
                while matches!(connection.read(&mut buffer).await, Ok(read) if read > 0) {}
            });
        }
    });
    format!("http://{address}")
}
