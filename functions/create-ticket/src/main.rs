#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run_rest(create_ticket::HANDLER).await
}
