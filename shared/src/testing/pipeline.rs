//! The closing pipeline as it runs everywhere: the state-change webhook queues (the test calls
//! its handler with [`ClosingPipeline::webhook`]), then the worker's own batch handler archives
//! what the queue hands out ([`ClosingPipeline::work_off`]). On a local queue in the test's
//! database.

use std::time::Duration;

use mongodb::bson::{DateTime, doc};

use super::glassix::GlassixStub;
use super::requests::{closing_state, worker_state};
use crate::db::Store;
use crate::queue::poller::{Polled, work_off};
use crate::queue::{LocalQueue, QUEUE, QueuedJob};
use crate::state::{ClosingState, WorkerState};

pub struct ClosingPipeline {
    pub webhook: ClosingState<LocalQueue>,
    pub worker: WorkerState,
    /// The time each job is given (the deployed worker has 117 s; the tests' Glassix faults
    /// are meant to run a job out of time quickly).
    pub job_time: Duration,
}

impl ClosingPipeline {
    pub fn new(stub: &GlassixStub, store: Store) -> Self {
        Self {
            webhook: closing_state(stub, store.clone()),
            worker: worker_state(stub, store),
            job_time: Duration::from_millis(4500),
        }
    }

    pub fn queue(&self) -> &LocalQueue {
        &self.webhook.queue
    }

    /// Runs every job the queue hands out now through the worker, as Lambda's event source
    /// would; a failed job waits out its backoff (see [`Self::retry_now`]).
    pub async fn work_off(&self) -> Polled {
        work_off(self.queue(), &self.worker, self.job_time)
            .await
            .expect("the local queue answers")
    }

    /// Ends every failed job's backoff, as the passing of time would, and works them off.
    pub async fn retry_now(&self) -> Polled {
        self.worker
            .store
            .database()
            .collection::<QueuedJob>(QUEUE)
            .update_many(doc! {}, doc! {"$set": {"visibleAt": DateTime::now()}})
            .await
            .expect("the local queue is writable");
        self.work_off().await
    }

    /// Jobs still waiting (failed, to be retried).
    pub async fn waiting(&self) -> Vec<QueuedJob> {
        self.queue()
            .waiting()
            .await
            .expect("the local queue answers")
    }
}
