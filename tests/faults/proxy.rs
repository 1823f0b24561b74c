//! The fault test's TCP proxy between the terminals and the servers: it spreads connections over
//! the servers, counts pushes in flight and, while cutting, cuts connections part-way.

use crate::people::Rng;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

// --- The proxy ---------------------------------------------------------------------------------

/// What the proxy did, shared with its connection threads.
pub(crate) struct ProxyState {
    pub(crate) backends: Vec<SocketAddr>,
    pub(crate) cutting: AtomicBool,
    pub(crate) stop: AtomicBool,
    pub(crate) next: AtomicUsize,
    pub(crate) seed: AtomicU64,
    pub(crate) connections: AtomicU64,
    /// Connections the proxy meant to cut, and those it did (the cut came before the end).
    pub(crate) planned: AtomicU64,
    pub(crate) cut_up: AtomicU64,
    pub(crate) cut_down: AtomicU64,
    pub(crate) refused: AtomicU64,
    /// Per backend: pushes whose request went through and whose answer has not started.
    pub(crate) pushes_in_flight: Vec<AtomicI64>,
}

/// A TCP proxy between the terminals and the servers, spreading connections over the servers
/// in turn (as a load balancer would, trying the other when one refuses) and, while cutting,
/// cutting about a fifth of them at a random byte offset of the first request or answer.
pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    pub(crate) state: Arc<ProxyState>,
    pub(crate) accept: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    pub(crate) fn start(backends: Vec<SocketAddr>, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let addr = listener.local_addr().expect("proxy address");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let state = Arc::new(ProxyState {
            pushes_in_flight: backends.iter().map(|_| AtomicI64::new(0)).collect(),
            backends,
            cutting: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            seed: AtomicU64::new(seed),
            connections: AtomicU64::new(0),
            planned: AtomicU64::new(0),
            cut_up: AtomicU64::new(0),
            cut_down: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let shared = state.clone();
        let accept = thread::spawn(move || {
            while !shared.stop.load(SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let shared = shared.clone();
                        thread::spawn(move || handle_connection(&shared, client));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(2)),
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { addr, state, accept: Some(accept) }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, SeqCst);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

pub(crate) fn handle_connection(state: &Arc<ProxyState>, client: TcpStream) {
    let _ = client.set_nonblocking(false);
    state.connections.fetch_add(1, SeqCst);
    let first = state.next.fetch_add(1, SeqCst);
    let mut backend = None;
    for k in 0..state.backends.len() {
        let b = (first + k) % state.backends.len();
        if let Ok(s) = TcpStream::connect_timeout(&state.backends[b], Duration::from_secs(2)) {
            backend = Some((b, s));
            break;
        }
    }
    let Some((b, server)) = backend else {
        state.refused.fetch_add(1, SeqCst);
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let mut rng = Rng::new(state.seed.fetch_add(0x5851_F42D_4C95_7F2D, SeqCst));
    // A fifth of the connections are cut, half of those in the request, half in the answer.
    let cut_request = (state.cutting.load(SeqCst) && rng.chance(0.2)).then(|| rng.chance(0.5));
    if cut_request.is_some() {
        state.planned.fetch_add(1, SeqCst);
    }
    let awaiting_push = Arc::new(AtomicBool::new(false));
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let cut_up = cut_request.filter(|up| *up).map(|_| rng.next());
    let cut_down = cut_request.filter(|up| !*up).map(|_| rng.next());
    let up = {
        let (state, awaiting) = (state.clone(), awaiting_push.clone());
        thread::spawn(move || pump(&state, b, client, server, cut_up, true, &awaiting))
    };
    pump(state, b, server2, client2, cut_down, false, &awaiting_push);
    let _ = up.join();
    if awaiting_push.swap(false, SeqCst) {
        state.pushes_in_flight[b].fetch_sub(1, SeqCst);
    }
}

/// Where a message's header ends and how long the whole message is, once its header is in.
pub(crate) fn message_len(head: &[u8]) -> Option<usize> {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let length = text.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok());
    let body = match length {
        Some(n) => n,
        // Chunked: somewhere in the first few KiB after the header.
        None if text.contains("transfer-encoding:") => 4096,
        // Neither: no body (a GET).
        None => 0,
    };
    Some(end + body)
}

/// Copies `from` → `to` until either end closes. With a cut planned (`cut`: a random number),
/// the offset is drawn uniformly over the first message once its header is in, and at that
/// byte both sockets are shut down: the connection dies part-way through a request (up) or an
/// answer (down).
pub(crate) fn pump(
    state: &ProxyState,
    backend: usize,
    mut from: TcpStream,
    mut to: TcpStream,
    cut: Option<u64>,
    up: bool,
    awaiting_push: &AtomicBool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut head: Vec<u8> = Vec::new();
    let mut offset: Option<usize> = None;
    let mut sent = 0usize;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if up {
            if chunk.windows(22).any(|w| w == b"POST /api/v1/sync/push") && !awaiting_push.swap(true, SeqCst) {
                state.pushes_in_flight[backend].fetch_add(1, SeqCst);
            }
        } else if awaiting_push.swap(false, SeqCst) {
            state.pushes_in_flight[backend].fetch_sub(1, SeqCst);
        }
        if let (Some(r), None) = (cut, offset) {
            if head.len() < 16 * 1024 {
                head.extend_from_slice(&chunk[..n.min(16 * 1024)]);
            }
            if let Some(len) = message_len(&head) {
                // Uniform over what is still to come of the first message.
                let lo = sent;
                offset = Some(lo + (r % (len.saturating_sub(lo).max(1) as u64)) as usize);
            }
        }
        if let Some(at) = offset {
            if sent + n > at {
                let _ = to.write_all(&chunk[..at - sent]);
                let _ = to.flush();
                let counter = if up { &state.cut_up } else { &state.cut_down };
                counter.fetch_add(1, SeqCst);
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
        sent += n;
    }
    // One side closed: pass the close on (the other direction ends by itself).
    let _ = to.shutdown(Shutdown::Write);
}
