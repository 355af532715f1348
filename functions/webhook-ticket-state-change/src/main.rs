#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run(
        shared::state::QueueingState::from_config,
        webhook_ticket_state_change::enqueue,
    )
    .await
}
