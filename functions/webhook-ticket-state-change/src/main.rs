#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run(
        shared::state::WebhookState::from_config,
        webhook_ticket_state_change::handle,
    )
    .await
}
