#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::run(shared::state::ApiState::from_config, get_ticket::handle).await
}
