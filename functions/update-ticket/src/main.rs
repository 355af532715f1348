#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run_rest(update_ticket::HANDLER).await
}
