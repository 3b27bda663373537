//! Request/response matching within one UDP conversation, fed in capture order.
//!
//! The first pass calls [`Conversation::learn`] for every SNATMAP message of the conversation
//! and gets back what that frame is ([`Note`]); later passes only read the notes
//! ([`Conversation::note`]) and the transactions, so every pass shows the same. Requests are
//! matched to responses by nonce; a request repeating an unanswered one (same nonce, same
//! content) is a retransmission; a second response to one request is a duplicate. At most
//! `cap` transactions are kept per conversation (the dissector's `snatmap.max_requests`):
//! past it requests are noted [`Note::OverCap`] and not matched, so memory is bounded.

use super::{Message, Request};
use std::collections::HashMap;
use std::net::IpAddr;

/// An end of the conversation: address (if the network layer has one) and port.
pub type End = (Option<IpAddr>, u16);

/// One request and what became of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transaction {
    pub req_frame: u32,
    pub req_time_ns: i128,
    pub request: Request,
    pub resp_frame: Option<u32>,
    pub resp_time_ns: i128,
}

/// What the first pass decided about a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// A request, transaction `tx`; `retrans_of` the frame that first sent it.
    Request { tx: usize, retrans_of: Option<u32> },
    /// A response to transaction `tx` (None: its nonce matches no request); `duplicate_of`
    /// the first response to the same request; `any_request`: the conversation had requests.
    Response { tx: Option<usize>, duplicate_of: Option<u32>, any_request: bool },
    /// A request past the cap: shown, not matched.
    OverCap,
}

/// The matching state of one conversation.
#[derive(Debug, Default)]
pub struct Conversation {
    /// Where this conversation's requests came from (at most its two ends).
    req_sources: Vec<End>,
    txs: Vec<Transaction>,
    by_nonce: HashMap<u32, usize>,
    notes: HashMap<u32, Note>,
}

impl Conversation {
    /// First pass only, in capture order: records what `frame` (sent from `src`) means for
    /// this conversation, keeping at most `cap` transactions.
    pub fn learn(&mut self, frame: u32, time_ns: i128, src: End, msg: &Message, cap: usize) -> Note {
        let note = match msg {
            Message::Request(req) => {
                if !self.req_sources.contains(&src) && self.req_sources.len() < 2 {
                    self.req_sources.push(src);
                }
                match self.by_nonce.get(&req.nonce).map(|&i| (i, &self.txs[i])) {
                    // Same nonce and same content, not answered yet: a retransmission.
                    Some((i, tx)) if tx.resp_frame.is_none() && tx.request == *req => {
                        Note::Request { tx: i, retrans_of: Some(tx.req_frame) }
                    }
                    _ if self.txs.len() >= cap => Note::OverCap,
                    _ => {
                        self.txs.push(Transaction { req_frame: frame, req_time_ns: time_ns, request: *req, resp_frame: None, resp_time_ns: 0 });
                        self.by_nonce.insert(req.nonce, self.txs.len() - 1);
                        Note::Request { tx: self.txs.len() - 1, retrans_of: None }
                    }
                }
            }
            Message::Response(resp) => match self.by_nonce.get(&resp.nonce).copied() {
                Some(i) => {
                    let tx = &mut self.txs[i];
                    match tx.resp_frame {
                        Some(first) => Note::Response { tx: Some(i), duplicate_of: Some(first), any_request: true },
                        None => {
                            tx.resp_frame = Some(frame);
                            tx.resp_time_ns = time_ns;
                            Note::Response { tx: Some(i), duplicate_of: None, any_request: true }
                        }
                    }
                }
                None => Note::Response { tx: None, duplicate_of: None, any_request: !self.txs.is_empty() },
            },
        };
        self.notes.insert(frame, note);
        note
    }

    /// What the first pass decided about `frame` (None: not a SNATMAP frame it saw).
    pub fn note(&self, frame: u32) -> Option<Note> {
        self.notes.get(&frame).copied()
    }

    /// Transaction `i` of a [`Note`].
    pub fn transaction(&self, i: usize) -> &Transaction {
        &self.txs[i]
    }

    /// True when a request of this conversation came from `end`.
    pub fn requests_from(&self, end: End) -> bool {
        self.req_sources.contains(&end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::snatmap::parse;

    /// Requests and responses laid out by hand (protocol notes §2), independent of the parser's
    /// own encoder: type, nonce, address, port, trailer.
    fn request(nonce: u32, port: u16) -> Message {
        let mut b = vec![0, 0, 0, 1];
        b.extend_from_slice(&nonce.to_be_bytes());
        b.extend_from_slice(&[192, 168, 1, 5]);
        b.extend_from_slice(&port.to_be_bytes());
        b.extend_from_slice(&[0xaa, 0xaa]);
        parse(&b).unwrap()
    }
    fn response(nonce: u32) -> Message {
        let mut b = vec![0, 0, 0, 2];
        b.extend_from_slice(&nonce.to_be_bytes());
        b.extend_from_slice(&[!203, !0, !113, !7, !0x40, !0x12, 0, 0]);
        parse(&b).unwrap()
    }
    const CLIENT: End = (Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 1, 5))), 16402);
    const SERVER: End = (Some(IpAddr::V4(std::net::Ipv4Addr::new(17, 0, 0, 10))), 5678);

    #[test]
    fn request_response_retransmission_duplicate_and_strays() {
        let mut c = Conversation::default();
        assert!(!c.requests_from(CLIENT));
        assert_eq!(c.learn(1, 0, SERVER, &response(9), 10), Note::Response { tx: None, duplicate_of: None, any_request: false });
        assert_eq!(c.learn(2, 100, CLIENT, &request(7, 16402), 10), Note::Request { tx: 0, retrans_of: None });
        assert!(c.requests_from(CLIENT) && !c.requests_from(SERVER));
        assert_eq!(c.learn(3, 600, CLIENT, &request(7, 16402), 10), Note::Request { tx: 0, retrans_of: Some(2) });
        assert_eq!(c.learn(4, 700, SERVER, &response(7), 10), Note::Response { tx: Some(0), duplicate_of: None, any_request: true });
        assert_eq!(c.learn(5, 800, SERVER, &response(7), 10), Note::Response { tx: Some(0), duplicate_of: Some(4), any_request: true });
        assert_eq!(c.learn(6, 900, SERVER, &response(8), 10), Note::Response { tx: None, duplicate_of: None, any_request: true });
        // Same nonce after the answer, or other content: a new request.
        assert_eq!(c.learn(7, 1000, CLIENT, &request(7, 16402), 10), Note::Request { tx: 1, retrans_of: None });
        let tx = c.transaction(0);
        assert_eq!((tx.req_frame, tx.resp_frame, tx.resp_time_ns - tx.req_time_ns), (2, Some(4), 600));
        // Later passes read what the first decided.
        assert_eq!(c.note(3), Some(Note::Request { tx: 0, retrans_of: Some(2) }));
        assert_eq!(c.note(99), None);
    }

    #[test]
    fn the_cap_bounds_transactions() {
        let mut c = Conversation::default();
        for i in 0..5u32 {
            c.learn(i + 1, 0, CLIENT, &request(0x100 + i, 16402), 3);
        }
        assert_eq!(c.note(3), Some(Note::Request { tx: 2, retrans_of: None }));
        assert_eq!(c.note(4), Some(Note::OverCap));
        assert_eq!(c.learn(6, 0, SERVER, &response(0x103), 3), Note::Response { tx: None, duplicate_of: None, any_request: true });
        assert_eq!(c.txs.len(), 3);
    }

    #[test]
    fn request_sources_are_the_two_ends_at_most() {
        let mut c = Conversation::default();
        let other: End = (None, 1);
        let third: End = (None, 2);
        c.learn(1, 0, CLIENT, &request(1, 1), 10);
        c.learn(2, 0, other, &request(2, 1), 10);
        c.learn(3, 0, third, &request(3, 1), 10);
        assert!(c.requests_from(CLIENT) && c.requests_from(other) && !c.requests_from(third));
    }
}
