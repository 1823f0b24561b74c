//! How the fault test's phases share out their work: terminals among the fault phase's
//! workers, indices among threads, and when the fault phase starts and ends.

use crate::people::Rng;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Terminals not in use by another worker.
pub(crate) struct Idle(pub(crate) Mutex<VecDeque<usize>>);

impl Idle {
    pub(crate) fn take(&self, rng: &mut Rng) -> Option<usize> {
        let mut q = self.0.lock().unwrap();
        if q.is_empty() {
            return None;
        }
        let i = rng.below(q.len() as u64) as usize;
        q.remove(i)
    }
    pub(crate) fn put(&self, t: usize) {
        self.0.lock().unwrap().push_back(t);
    }
}

/// Whether the fault phase that began at `start` is over: it lasts `chaos`, and longer (a
/// minute and a half at most) until the offline week's terminal has tried to sync under faults.
pub(crate) fn faults_over(start: Instant, chaos: Duration, week_tried: &AtomicBool) -> bool {
    let elapsed = start.elapsed();
    elapsed >= chaos + Duration::from_secs(90) || (elapsed >= chaos && week_tried.load(SeqCst))
}

/// Starts the fault phase's clock when dropped, if nothing else did.
pub(crate) struct StartOnDrop<'a>(pub(crate) &'a OnceLock<Instant>);

impl Drop for StartOnDrop<'_> {
    fn drop(&mut self) {
        self.0.get_or_init(Instant::now);
    }
}

/// Runs `f(0..count)` on `threads` threads, each taking the next index.
pub(crate) fn parallel(count: usize, threads: usize, f: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, SeqCst);
                if i >= count {
                    break;
                }
                f(i);
            });
        }
    });
}
