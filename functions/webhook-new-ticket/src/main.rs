#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run(
        shared::state::WebhookState::for_new_tickets,
        webhook_new_ticket::handle,
    )
    .await
}
