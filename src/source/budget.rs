//! A bound on the blob bytes all reader threads hold at once. Matching memory grows with the
//! blob (about 1.2x its size once read: 8 threads on 90 MB files peaked at 834 MB), so without a
//! bound the peak grows with the thread count: on a 32-core runner with files near the 100 MiB
//! size limit, over 3 GB. A reader reserves a large blob's size before reading it and waits
//! while others hold the budget; it never waits while holding a reservation itself, so readers
//! cannot block each other for good.
//!
//! Blobs under `RESERVED_FROM` take no reservation: their memory is bounded by the thread
//! count times that size, and the common case (source files of a few KiB) takes no lock.

use std::sync::{Condvar, Mutex};

/// Blobs at least this large reserve their size.
pub const RESERVED_FROM: u64 = 1024 * 1024;

/// The default budget: a quarter of physical memory (blob bytes, so the run's peak stays near a
/// third of it), 4 GiB where physical memory cannot be read.
pub fn default_capacity() -> u64 {
    physical_memory().map_or(4 << 30, |total| total / 4)
}

/// `MemTotal` from /proc/meminfo (Linux), in bytes.
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Shared by every reader thread of a run.
#[derive(Debug)]
pub struct MemoryBudget {
    capacity: u64,
    in_use: Mutex<u64>,
    freed: Condvar,
}

/// `try_reserve` would have had to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetFull;

/// Bytes held against the budget until dropped.
#[derive(Debug)]
pub struct Reservation<'a> {
    budget: &'a MemoryBudget,
    bytes: u64,
}

impl MemoryBudget {
    pub fn new(capacity: u64) -> MemoryBudget {
        MemoryBudget {
            capacity: capacity.max(1),
            in_use: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// What a blob of `bytes` holds: nothing under `RESERVED_FROM`, at most the whole budget (so
    /// a blob larger than the budget runs once it is alone).
    fn share(&self, bytes: u64) -> u64 {
        if bytes < RESERVED_FROM {
            0
        } else {
            bytes.min(self.capacity)
        }
    }

    /// Reserves `bytes`, waiting while other readers hold too much. Call it holding no other
    /// reservation. `None` for a blob too small to reserve.
    pub fn reserve(&self, bytes: u64) -> Option<Reservation<'_>> {
        let share = self.share(bytes);
        if share == 0 {
            return None;
        }
        let mut in_use = self.lock();
        // Alone, a reader always proceeds: a blob larger than what is free waits only for others.
        while *in_use > 0 && *in_use + share > self.capacity {
            in_use = self
                .freed
                .wait(in_use)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *in_use += share;
        Some(Reservation {
            budget: self,
            bytes: share,
        })
    }

    /// `reserve` without waiting: `Err(BudgetFull)` when it would have to wait.
    pub fn try_reserve(&self, bytes: u64) -> Result<Option<Reservation<'_>>, BudgetFull> {
        let share = self.share(bytes);
        if share == 0 {
            return Ok(None);
        }
        let mut in_use = self.lock();
        if *in_use > 0 && *in_use + share > self.capacity {
            return Err(BudgetFull);
        }
        *in_use += share;
        Ok(Some(Reservation {
            budget: self,
            bytes: share,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        self.in_use
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut in_use = self.budget.lock();
        *in_use = in_use.saturating_sub(self.bytes);
        drop(in_use);
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn small_blobs_take_nothing_and_large_ones_at_most_the_budget() {
        let budget = MemoryBudget::new(10 * MIB);
        assert!(budget.reserve(MIB - 1).is_none());
        let whole = budget.reserve(50 * MIB).expect("a large blob reserves");
        assert_eq!(whole.bytes, 10 * MIB);
        // Full: another large blob would wait; a small one never does.
        assert!(budget.try_reserve(2 * MIB).is_err());
        assert!(matches!(budget.try_reserve(100), Ok(None)));
        drop(whole);
        assert!(matches!(budget.try_reserve(2 * MIB), Ok(Some(_))));
    }

    #[test]
    fn a_reader_waits_until_another_releases_enough() {
        let budget = MemoryBudget::new(10 * MIB);
        let first = budget.reserve(6 * MIB).expect("reserved");
        let (granted, order) = mpsc::channel();
        std::thread::scope(|scope| {
            let budget = &budget;
            let sender = granted.clone();
            scope.spawn(move || {
                let _second = budget.reserve(6 * MIB).expect("reserved");
                sender.send("second").expect("receiver alive");
            });
            // The second reader cannot proceed while the first holds 6 of 10 MiB.
            assert!(order.recv_timeout(Duration::from_millis(200)).is_err());
            granted.send("first released").expect("receiver alive");
            drop(first);
            assert_eq!(order.recv().expect("sent"), "first released");
            assert_eq!(order.recv().expect("sent"), "second");
        });
        assert_eq!(*budget.lock(), 0);
    }
}
