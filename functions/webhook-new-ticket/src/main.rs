#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run_http(shared::runtime::from_config(), webhook_new_ticket::handle).await
}
