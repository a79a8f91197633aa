//! The threads password hashes run on: one per core, at the lowest OS
//! scheduling priority (Linux nice 19).
//!
//! Why not tokio's blocking pool: its threads run at the priority of the
//! async workers, so a burst of resets (each hash ~20-50 ms of one core at
//! OWASP parameters) takes the cores from the workers answering autocomplete
//! and sign-in pages, and a keystroke waits behind hashes. At nice 19 a hash
//! thread yields a core to any runnable normal thread at once (the kernel's
//! weight for nice 19 is 15 against 1024 for nice 0), yet when nothing else
//! runs the hashes still have every core. Every hash and verification (real
//! or dummy, so a sign-in's timing-equalisation is untouched) runs here.
//!
//! The pool is rayon's (a maintained, bounded pool with a start hook); the
//! priority is one `setpriority` call (see [`lower_this_threads_priority`]).

use tokio::sync::oneshot;

use super::CredentialError;

/// The nice value hash threads run at: the lowest priority a normal thread has.
pub(super) const HASH_THREAD_NICE: i32 = 19;

/// A fixed set of `threads` low-priority threads; dropping it ends them once
/// their queued work is done.
pub(super) struct HashPool {
    pool: rayon::ThreadPool,
}

impl HashPool {
    pub(super) fn new(threads: usize) -> Result<Self, CredentialError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("hallpass-hash{i}"))
            .start_handler(|_| lower_this_threads_priority())
            // A panicking job drops its answer's sender, which its caller
            // sees as `HashTaskFailed`; without a handler rayon would abort.
            .panic_handler(|_| tracing::error!("a password hashing job panicked"))
            .build()
            .map_err(|e| CredentialError::HashPool(e.to_string()))?;
        Ok(Self { pool })
    }

    /// Runs `work` on one of the pool's threads and waits for its answer
    /// without holding an async worker.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CredentialError> {
        let (answer, answered) = oneshot::channel();
        self.pool.spawn(move || {
            // The caller may have given up; the work is done regardless.
            let _ = answer.send(work());
        });
        answered.await.map_err(|_| CredentialError::HashTaskFailed)
    }
}

/// Sets the calling thread's nice value to [`HASH_THREAD_NICE`].
///
/// Hand-written (one call through `rustix`'s safe bindings) because the
/// `thread-priority` crate picks a scheduling policy from the value it is
/// given rather than setting a nice value plainly. On Linux the nice value
/// belongs to each thread (setpriority(2), "BUGS": with NPTL it is a
/// per-thread attribute), so `PRIO_PROCESS` with this thread's id changes
/// this thread only. Raising one's nice value needs no privilege. A failure
/// is logged and the thread hashes at normal priority.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASH_THREAD_NICE)
    {
        tracing::warn!(error = %e, "could not lower a password hashing thread's priority");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
