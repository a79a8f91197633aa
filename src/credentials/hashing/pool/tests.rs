use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::super::{HashParams, PasswordHasher};
use super::{HASH_THREAD_NICE, HashPool};
use crate::credentials::CredentialError;

/// The calling thread's nice value, as the kernel reports it: field 19 of
/// `/proc/thread-self/stat`. The name (field 2) is in parentheses and may
/// hold spaces, so fields are counted from after it (field 3 is the first).
fn this_threads_nice() -> i32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(19 - 3).unwrap().parse().unwrap()
}

/// What a job saw of the thread it ran on.
#[derive(Debug)]
struct Seen {
    name: Option<String>,
    nice: i32,
    tid: i32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashing_jobs_run_on_the_low_priority_threads_and_at_once_on_several() {
    let hasher = PasswordHasher::new(HashParams::insecure_fast_for_tests_only()).unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    let together = cores.min(2);
    // Each job waits here until `together` jobs are in it: they pass only if
    // that many run at the same time, on as many threads.
    let meeting = Arc::new(Barrier::new(together));
    let mut jobs = Vec::new();
    for _ in 0..together {
        let (hasher, meeting) = (hasher.clone(), meeting.clone());
        jobs.push(tokio::spawn(async move {
            // The same entry point `hash` and `verify` (and so `verify_dummy`) use.
            hasher
                .run_blocking(move || {
                    meeting.wait();
                    Ok(Seen {
                        name: std::thread::current().name().map(str::to_owned),
                        nice: this_threads_nice(),
                        tid: rustix::thread::gettid().as_raw_nonzero().get(),
                    })
                })
                .await
                .unwrap()
        }));
    }
    // A guard against a hang, not a measurement: the jobs meet in microseconds.
    let seen = tokio::time::timeout(Duration::from_secs(60), async {
        let mut seen = Vec::new();
        for job in jobs {
            seen.push(job.await.unwrap());
        }
        seen
    })
    .await
    .expect("the jobs never all ran at once");
    let mut threads: Vec<i32> = seen.iter().map(|s| s.tid).collect();
    threads.sort_unstable();
    threads.dedup();
    assert_eq!(threads.len(), together, "{seen:?}");
    for job in &seen {
        assert_eq!(job.nice, HASH_THREAD_NICE, "{seen:?}");
        assert!(
            job.name
                .as_deref()
                .is_some_and(|n| n.starts_with("hallpass-hash")),
            "{seen:?}"
        );
    }
    // The caller's own threads keep their normal priority.
    assert_eq!(this_threads_nice(), 0);
}

#[tokio::test]
#[allow(clippy::panic)]
async fn a_job_that_panics_is_an_error_for_its_caller_and_the_pool_goes_on() {
    let pool = HashPool::new(1).unwrap();
    let failed = pool.run(|| panic!("a hashing job fell over")).await;
    assert!(matches!(failed, Err(CredentialError::HashTaskFailed)));
    assert_eq!(pool.run(|| 7).await.unwrap(), 7);
}
