//! Clients parked by blocking commands (BLPOP, BZPOPMIN, BLMOVE …).
//!
//! A client blocks while its command still holds the slot locks of its keys,
//! so a push to one of those keys (which needs the same lock) cannot slip in
//! between "found nothing" and "registered". After a command signals ready
//! keys, the thread that ran it serves the waiters of each key in arrival
//! order, running each waiter's command on its behalf and posting the reply
//! to the waiter's own thread. Whoever removes a waiter from the registry
//! owns it: the server that serves it, or the waiter's thread on timeout.
//!
//! Lock order: slot locks before the registry lock; nothing holds the
//! registry lock while taking a slot lock.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use ringkv_engine::reply::Protocol;

/// A parked client's command, enough to run it from any thread.
#[derive(Debug, Clone)]
pub struct Waiter {
    pub client_id: u64,
    pub thread: usize,
    pub db: usize,
    pub proto: Protocol,
    pub args: Vec<Vec<u8>>,
    pub keys: Vec<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Inner {
    waiters: HashMap<u64, Waiter>,
    by_key: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
}

#[derive(Debug, Default)]
pub struct BlockRegistry {
    inner: Mutex<Inner>,
    count: AtomicUsize,
}

impl BlockRegistry {
    /// True when no client is blocked (checked without locking on every write).
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    pub fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    pub fn register(&self, w: Waiter) {
        self.insert(w, false);
    }

    /// Puts a waiter that was taken but could not be served back at the head
    /// of its keys' queues, so arrival order is kept.
    pub fn put_back(&self, w: Waiter) {
        self.insert(w, true);
    }

    fn insert(&self, w: Waiter, front: bool) {
        let mut inner = self.inner.lock();
        for k in &w.keys {
            let q = inner.by_key.entry((w.db, k.clone())).or_default();
            if !q.contains(&w.client_id) {
                if front {
                    q.push_front(w.client_id);
                } else {
                    q.push_back(w.client_id);
                }
            }
        }
        if inner.waiters.insert(w.client_id, w).is_none() {
            self.count.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Removes a client (timeout, disconnect); `None` if someone else owns it now.
    pub fn take(&self, client_id: u64) -> Option<Waiter> {
        let mut inner = self.inner.lock();
        self.take_locked(&mut inner, client_id)
    }

    /// The keys clients wait on in `db`.
    pub fn keys_in_db(&self, db: usize) -> Vec<Vec<u8>> {
        let inner = self.inner.lock();
        inner
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// Takes the longest-waiting client blocked on `key` in `db`.
    pub fn take_first_for_key(&self, db: usize, key: &[u8]) -> Option<Waiter> {
        let mut inner = self.inner.lock();
        let id = *inner.by_key.get(&(db, key.to_vec()))?.front()?;
        self.take_locked(&mut inner, id)
    }

    fn take_locked(&self, inner: &mut Inner, client_id: u64) -> Option<Waiter> {
        let w = inner.waiters.remove(&client_id)?;
        self.count.fetch_sub(1, Ordering::AcqRel);
        for k in &w.keys {
            let key = (w.db, k.clone());
            if let Some(q) = inner.by_key.get_mut(&key) {
                q.retain(|&id| id != client_id);
                if q.is_empty() {
                    inner.by_key.remove(&key);
                }
            }
        }
        Some(w)
    }
}
