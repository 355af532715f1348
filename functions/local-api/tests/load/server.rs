//! The local API under load, as `local-api` runs it.

use std::time::{Duration, Instant};

use local_api::AnyQueue;
use local_api::handlers::{States, Webhooks};
use shared::db::Store;
use shared::queue::LocalQueue;
use shared::testing::glassix::GlassixStub;
use shared::testing::requests::{
    api_state_with_files, closing_state, new_ticket_state, worker_state,
};

use crate::common;

/// The local API with REST and webhook states on a free loopback port, and its archive queue's
/// poller running the worker, as `local-api` runs them.
pub(crate) async fn start_local_api(stub: &GlassixStub, store: Store) -> String {
    tokio::spawn(shared::queue::poller::run(
        LocalQueue::new(store.clone()),
        worker_state(stub, store.clone()),
    ));
    common::serve_on_loopback(States::new(
        api_state_with_files(store.clone()),
        Some(Webhooks {
            new_ticket: new_ticket_state(stub, store.clone()).await,
            closing: closing_state(stub, store).map_queue(AnyQueue::Database),
        }),
    ))
    .await
}

/// Waits until the poller has worked off every queued closing (a job that met a concurrent
/// deletion of its client is retried after its backoff).
pub(crate) async fn archive_queue_worked_off(store: &Store) {
    let queue = LocalQueue::new(store.clone());
    let give_up = Instant::now() + Duration::from_secs(180);
    while !queue
        .waiting()
        .await
        .expect("the local queue answers")
        .is_empty()
    {
        assert!(
            Instant::now() < give_up,
            "archive jobs still queued after 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
