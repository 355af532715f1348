//! The floor of the benchmark: the smallest `lambda_http` function, `lambda_http::run` of a
//! handler answering 200 "hello", with no logging set up. Built with the workspace's release
//! profile and lambda_http's workspace features, like every deployed bootstrap.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
