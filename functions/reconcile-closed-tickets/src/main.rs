#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::runtime::run_event(
        shared::state::QueueingReconcileState::from_config,
        reconcile_closed_tickets::handle,
    )
    .await
}
