#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run(
        shared::state::WebhookState::from_config,
        webhook_new_ticket::handle,
    )
    .await
}
