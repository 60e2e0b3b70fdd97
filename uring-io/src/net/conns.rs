//! The connection table one event loop owns, and the per-connection state
//! both backends share: the handler's buffers, the bytes handed to the
//! kernel, and the flag bookkeeping that decides when to read, send and close.
//!
//! Bug story: a send buffer that the handler can append to while the kernel
//! reads from it gets reallocated under the kernel's feet. So the loop never
//! sends from `ConnIo::output` directly: it swaps the whole vector into its
//! own [`SendQueue`] and only touches that queue again once the send is done.

use std::net::TcpStream;

/// Bytes held for a paused connection before the loop stops reading it.
pub const PAUSED_INPUT_BYTES_MAX: usize = 16 << 20;

use super::{ConnId, ConnIo, ConnSet, Handler};

/// Bytes taken from `ConnIo::output` and being written to the socket.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    pub buf: Vec<u8>,
    /// How much of `buf` the kernel has accepted.
    pub sent_bytes: usize,
}

impl SendQueue {
    pub fn pending_bytes(&self) -> usize {
        debug_assert!(self.sent_bytes <= self.buf.len());
        self.buf.len() - self.sent_bytes
    }

    pub fn unsent(&self) -> &[u8] {
        &self.buf[self.sent_bytes..]
    }

    /// Once everything queued is sent, takes the handler's pending output
    /// (handing it back an empty vector with the old capacity). Must not be
    /// called while a send from `buf` is in flight. Returns true if there is
    /// something to send.
    pub fn refill(&mut self, output: &mut Vec<u8>) -> bool {
        if self.pending_bytes() == 0 {
            self.buf.clear();
            self.sent_bytes = 0;
            if !output.is_empty() {
                std::mem::swap(&mut self.buf, output);
            }
        }
        self.pending_bytes() > 0
    }
}

/// One connection: the handler's state and buffers plus backend state `S`.
pub(crate) struct Entry<C, S> {
    /// `None` once closed, or from the start when `open` rejected it.
    pub conn: Option<C>,
    pub io: ConnIo,
    pub out: SendQueue,
    pub stream: TcpStream,
    /// Closed from the handler's point of view; the slot lingers only while
    /// the kernel still holds operations on it (io_uring).
    pub closing: bool,
    /// `pause_input` as the loop last saw it, to notice a resume.
    pub was_paused: bool,
    /// Bytes arrived while input was paused; `input` is owed a call.
    pub input_undelivered: bool,
    pub backend: S,
}

impl<C, S> Entry<C, S> {
    pub fn new(stream: TcpStream, backend: S) -> Self {
        Entry {
            conn: None,
            io: ConnIo::default(),
            out: SendQueue::default(),
            stream,
            closing: false,
            was_paused: false,
            input_undelivered: false,
            backend,
        }
    }

    /// Bytes waiting to be sent, whether already taken by the loop or not.
    pub fn unsent_bytes(&self) -> usize {
        self.out.pending_bytes() + self.io.output.len()
    }

    /// Whether the loop may read more from the socket now.
    pub fn wants_input(&self, output_pause_bytes: usize) -> bool {
        // A paused connection is still read, up to a bound, so that a peer
        // leaving is noticed (Redis frees a blocked client whose socket
        // closes); the bytes are held until the handler resumes input.
        self.conn.is_some()
            && !self.closing
            && (!self.io.pause_input || self.io.input.len() < PAUSED_INPUT_BYTES_MAX)
            && !self.io.close_now
            && !self.io.close_after_flush
            && self.unsent_bytes() <= output_pause_bytes
    }

    /// Whether `close_after_flush` is set and everything has been sent.
    pub fn flushed_for_close(&self) -> bool {
        self.io.close_after_flush && self.unsent_bytes() == 0
    }

    /// Calls `input` if bytes were held back while paused, or if the handler
    /// just cleared `pause_input` with unparsed bytes left in `input` (a
    /// client unblocked with pipelined commands behind the blocking one).
    pub fn deliver_on_resume<H: Handler<Conn = C>>(&mut self, handler: &mut H) {
        let resumed = self.was_paused && !self.io.pause_input;
        self.was_paused = self.io.pause_input;
        if self.io.pause_input || self.closing {
            return;
        }
        if self.input_undelivered || (resumed && !self.io.input.is_empty()) {
            self.input_undelivered = false;
            if let Some(conn) = self.conn.as_mut() {
                handler.input(conn, &mut self.io);
                self.was_paused = self.io.pause_input;
            }
        }
    }

    /// Calls `input` for bytes already appended to `io.input`, unless paused.
    pub fn deliver_received<H: Handler<Conn = C>>(&mut self, handler: &mut H) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if self.io.close_after_flush || self.io.close_now {
            // A recv already in flight when the handler asked to close
            // (QUIT) brought bytes nobody will execute.
            return;
        }
        if self.io.pause_input {
            self.input_undelivered = true;
            return;
        }
        handler.input(conn, &mut self.io);
        self.was_paused = self.io.pause_input;
    }
}

struct Slot<C, S> {
    generation: u32,
    entry: Option<Entry<C, S>>,
}

/// Slab of connections indexed by `ConnId::index`; a slot's generation
/// changes whenever its connection is removed, so stale ids miss.
pub(crate) struct ConnTable<C, S> {
    slots: Vec<Slot<C, S>>,
    free_indexes: Vec<u32>,
    live_count: usize,
}

impl<C, S> Default for ConnTable<C, S> {
    fn default() -> Self {
        ConnTable {
            slots: Vec::new(),
            free_indexes: Vec::new(),
            live_count: 0,
        }
    }
}

impl<C, S> ConnTable<C, S> {
    pub fn insert(&mut self, entry: Entry<C, S>) -> ConnId {
        self.live_count += 1;
        if let Some(index) = self.free_indexes.pop() {
            let slot = &mut self.slots[index as usize];
            debug_assert!(slot.entry.is_none());
            slot.entry = Some(entry);
            return ConnId {
                index,
                generation: slot.generation,
            };
        }
        let index = u32::try_from(self.slots.len()).expect("more than 2^32 connections");
        self.slots.push(Slot {
            generation: 0,
            entry: Some(entry),
        });
        ConnId {
            index,
            generation: 0,
        }
    }

    pub fn remove(&mut self, index: u32) -> Option<Entry<C, S>> {
        let slot = self.slots.get_mut(index as usize)?;
        let entry = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free_indexes.push(index);
        self.live_count -= 1;
        Some(entry)
    }

    pub fn get_mut(&mut self, index: u32) -> Option<&mut Entry<C, S>> {
        self.slots.get_mut(index as usize)?.entry.as_mut()
    }

    pub fn get_by_id(&mut self, id: ConnId) -> Option<&mut Entry<C, S>> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.entry.as_mut()
    }

    pub fn generation(&self, index: u32) -> Option<u32> {
        self.slots.get(index as usize).map(|s| s.generation)
    }

    pub fn id_of(&self, index: u32) -> Option<ConnId> {
        let slot = self.slots.get(index as usize)?;
        slot.entry.as_ref().map(|_| ConnId {
            index,
            generation: slot.generation,
        })
    }

    pub fn live_count(&self) -> usize {
        self.live_count
    }

    /// Indexes of every occupied slot.
    pub fn live_indexes(&self) -> Vec<u32> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].entry.is_some())
            .filter_map(|i| u32::try_from(i).ok())
            .collect()
    }
}

/// What `wake` and `tick` see; remembers which connections were handed out
/// so the loop can act on their flags and output afterwards.
pub(crate) struct ConnView<'a, C, S> {
    pub table: &'a mut ConnTable<C, S>,
    pub touched: &'a mut Vec<u32>,
}

impl<C, S> ConnSet<C> for ConnView<'_, C, S> {
    fn get_mut(&mut self, id: ConnId) -> Option<(&mut C, &mut ConnIo)> {
        let entry = self.table.get_by_id(id)?;
        if entry.closing {
            return None;
        }
        let conn = entry.conn.as_mut()?;
        self.touched.push(id.index);
        Some((conn, &mut entry.io))
    }

    fn for_each(&mut self, f: &mut dyn FnMut(ConnId, &mut C, &mut ConnIo)) {
        for (i, slot) in self.table.slots.iter_mut().enumerate() {
            let Some(entry) = slot.entry.as_mut() else {
                continue;
            };
            if entry.closing {
                continue;
            }
            let Some(conn) = entry.conn.as_mut() else {
                continue;
            };
            let Ok(index) = u32::try_from(i) else {
                continue;
            };
            self.touched.push(index);
            f(
                ConnId {
                    index,
                    generation: slot.generation,
                },
                conn,
                &mut entry.io,
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn send_queue_swaps_only_when_drained() {
        let mut q = SendQueue::default();
        let mut output = b"abc".to_vec();
        assert!(q.refill(&mut output));
        assert!(output.is_empty());
        output.extend_from_slice(b"def");
        q.sent_bytes = 1;
        assert!(q.refill(&mut output));
        assert_eq!(q.unsent(), b"bc");
        assert_eq!(output, b"def");
        q.sent_bytes = 3;
        assert!(q.refill(&mut output));
        assert_eq!(q.unsent(), b"def");
        q.sent_bytes = 3;
        assert!(!q.refill(&mut output));
        assert_eq!(q.pending_bytes(), 0);
    }

    #[test]
    fn stale_ids_miss_after_reuse() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let stream2 = stream.try_clone().unwrap();
        let mut table: ConnTable<u8, ()> = ConnTable::default();
        let a = table.insert(Entry::new(stream, ()));
        assert!(table.remove(a.index).is_some());
        let b = table.insert(Entry::new(stream2, ()));
        assert_eq!(a.index, b.index);
        assert_ne!(a.generation, b.generation);
        assert!(table.get_by_id(a).is_none());
        assert!(table.get_by_id(b).is_some());
        assert_eq!(table.live_count(), 1);
    }
}
