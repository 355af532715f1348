// Deployed, closed tickets go to the SQS archive queue.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run_http(
        shared::runtime::from_config(),
        webhook_ticket_state_change::handle::<shared::queue::SqsQueue>,
    )
    .await
}
