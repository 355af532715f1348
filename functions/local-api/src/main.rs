use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::runtime::init_logging();
    let config = shared::config::Config::load().await?;
    // `local-api reconcile`: one reconciliation pass against the configured Glassix, then exit.
    if std::env::args().nth(1).as_deref() == Some("reconcile") {
        return local_api::reconcile_once(config).await;
    }
    // The deploy-time migration (the `migrate` function), here at every start; `local-api
    // migrate` runs only it, e.g. against a production database from a workstation.
    shared::state::connect(&config)
        .await?
        .ensure_indexes()
        .await?;
    tracing::info!("indexes in place");
    if std::env::args().nth(1).as_deref() == Some("migrate") {
        return Ok(());
    }
    let template = std::fs::read_to_string(local_api::template_path())?;
    if let Some((queue, worker)) = local_api::archive_poller(&config).await? {
        tokio::spawn(local_api::poller::run(queue, worker));
    }
    let app = Arc::new(local_api::from_config(config, &template).await?);
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    tracing::info!(address = %listener.local_addr()?, routes = app.routes().len(), "local API listening");
    tokio::select! {
        served = app.serve(listener) => served?,
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    Ok(())
}
