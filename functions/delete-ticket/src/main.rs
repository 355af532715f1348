#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run(shared::state::ApiState::from_config, delete_ticket::handle).await
}
