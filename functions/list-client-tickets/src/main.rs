#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run(
        shared::state::ApiState::from_config,
        list_client_tickets::handle,
    )
    .await
}
