use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::runtime::init_logging();
    let config = shared::config::Config::load().await?;
    // `local-api reconcile`: one reconciliation pass against the configured Glassix, its
    // archive jobs worked off, then exit. `local-api dead-letters`: the jobs that gave up.
    match std::env::args().nth(1).as_deref() {
        Some("reconcile") => return local_api::reconcile_once(config).await,
        Some("dead-letters") => return local_api::dead_letters(config).await,
        _ => {}
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
    let (app, poller) = local_api::from_config(config, &template).await?;
    if let Some(poller) = poller {
        tokio::spawn(poller.run());
    }
    let app = Arc::new(app);
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
