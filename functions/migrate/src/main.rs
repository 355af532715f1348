#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::runtime::run_fallible_event(migrate::MigrateState::from_config, migrate::handle).await
}
