use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use shared::config::Config;

/// The local API and the operator's command line of ClientTicketManager. Configuration: the
/// same environment variables as the Lambdas (README, "Configuration").
#[derive(Parser)]
#[command(name = "local-api", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every route of template.yaml on 127.0.0.1:$PORT (default 3000), with the pollers
    /// of the archive and export queues (the default command)
    Serve,
    /// Create the database's indexes (what the deploy's `migrate` function does), then exit
    Migrate,
    /// Run one reconciliation pass against the configured Glassix, then the archive jobs it
    /// queued; print its report
    Reconcile,
    /// Run one retention purge pass (RETENTION_DAYS, PURGE_DRY_RUN), as the schedule runs it;
    /// print its report
    Purge,
    /// List the archive jobs that gave up (the local queue's dead-letter list)
    DeadLetters,
    /// Send the archive jobs that gave up back to the archive queue, once their cause is
    /// fixed: the local dead-letter list, or with --dead-letter-queue that SQS queue into
    /// ARCHIVE_QUEUE_URL
    Redrive {
        /// The SQS dead-letter queue's URL (the stack's ArchiveDeadLetterQueueUrl output)
        #[arg(long)]
        dead_letter_queue: Option<String>,
    },
}

/// Exit codes: 0 done, 1 a failure while running, 2 a configuration to fix (clap's own usage
/// errors are 2 as well).
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::runtime::init_logging();
    let config = match Config::load().await {
        Ok(config) => config,
        Err(error) => {
            eprintln!("local-api: {error} (see README.md, \"Configuration\")");
            return ExitCode::from(2);
        }
    };
    let run = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::Reconcile => local_api::reconcile_once(config).await,
        Command::Purge => local_api::purge_once(config).await,
        Command::DeadLetters => local_api::dead_letters(config).await,
        Command::Redrive { dead_letter_queue } => {
            local_api::redrive(config, dead_letter_queue).await
        }
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-api: {error}");
            ExitCode::from(1)
        }
    }
}

/// The deploy-time migration, here at every start of the server too.
async fn migrate(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let backfill = shared::state::connect(config).await?.migrate(None).await?;
    eprintln!(
        "local-api: indexes in place; search documents written for {} ticket(s)",
        backfill.written
    );
    Ok(())
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    migrate(&config).await?;
    let template = std::fs::read_to_string(local_api::template_path())?;
    let (app, pollers) = local_api::from_config(config, &template).await?;
    tokio::spawn(pollers.run());
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
