// Deployed, every ticket found goes to the SQS archive queue.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::runtime::run_event(reconcile_closed_tickets::handle::<shared::queue::SqsQueue>).await
}
