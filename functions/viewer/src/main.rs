// No configuration or secret: the viewer serves embedded files only.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run_http(
        async { Ok(viewer::Viewer::from_env()) },
        |viewer, request| {
            let response = viewer.handle(&request);
            async move { response }
        },
    )
    .await
}
