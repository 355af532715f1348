//! Loopback servers for stand-ins that answer with code rather than canned responses: an
//! HTTP/1.1 one (the Runtime API emulation, the bench's AWS proxy) over a plain TCP accept
//! loop (the bench's MongoDB proxy).

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub type Answer = Response<Full<Bytes>>;

/// Serves `handler` on a free loopback port until the returned task is aborted (connections
/// already open live on until their peer closes them).
pub async fn serve<H, F>(handler: H) -> std::io::Result<(SocketAddr, JoinHandle<()>)>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    accept(move |stream| {
        let handler = handler.clone();
        async move {
            let service = service_fn(move |request| {
                let answer = handler(request);
                async move { Ok::<_, Infallible>(answer.await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await
}

/// Accepts connections on a free loopback port and runs `connection` on each, in a task of
/// its own, until the returned task is aborted.
pub async fn accept<C, F>(connection: C) -> std::io::Result<(SocketAddr, JoinHandle<()>)>
where
    C: Fn(TcpStream) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors, most likely: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            // Small request/response pairs: Nagle's algorithm would add delayed-ACK waits.
            let _ = stream.set_nodelay(true);
            tokio::spawn(connection(stream));
        }
    });
    Ok((address, task))
}

pub fn answer(status: StatusCode, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Answer {
    let mut response = answer(status, body);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
