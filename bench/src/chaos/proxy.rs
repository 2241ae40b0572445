//! Loopback proxies that put a fault between a client and a real server:
//! [`Cut`] makes a server unreachable and brings it back (TCP, any
//! protocol), [`Throttle`] answers DynamoDB requests with
//! `ProvisionedThroughputExceededException` for a while, then forwards.
//! Both run on tokio, on a thread of their own.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::Context as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The target `http://IP:PORT` as an address, and a free loopback
/// listener (non-blocking, for tokio) with its address.
fn loopback(target: &str) -> anyhow::Result<(SocketAddr, std::net::TcpListener, SocketAddr)> {
    let target: SocketAddr = target
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .with_context(|| format!("{target} is not http://IP:PORT"))?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    Ok((target, listener, address))
}

/// How a [`Cut`] treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Forwarded.
    Up,
    /// Refused: nothing listens on the port (a server that is down).
    Refused,
    /// Accepted, then closed without an answer (a link that drops).
    Dropped,
}

/// A TCP proxy whose link can be cut: on a cut every open connection is
/// closed at once, and new ones are refused or dropped. It runs on a thread
/// and runtime of its own, so that the cases may block theirs.
#[derive(Debug)]
pub struct Cut {
    address: SocketAddr,
    link: watch::Sender<Link>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Cut {
    pub fn start(target: &str) -> anyhow::Result<Self> {
        let (target, listener, address) = loopback(target)?;
        let (link, watching) = watch::channel(Link::Up);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else { return };
                tokio::select! {
                    () = serve(listener, address, target, watching) => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(Cut { address, link, stop: Some(stop), thread: Some(thread) })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn set(&self, link: Link) {
        self.link.send_replace(link);
    }
}

/// Accepts and forwards while the link is up; closes the listener while it
/// is refused, and listens again on the same address once it is not.
async fn serve(
    mut listener: TcpListener,
    address: SocketAddr,
    target: SocketAddr,
    mut link: watch::Receiver<Link>,
) {
    loop {
        if *link.borrow() == Link::Refused {
            drop(listener);
            if link.wait_for(|l| *l != Link::Refused).await.is_err() {
                return;
            }
            let Ok(again) = TcpListener::bind(address).await else { return };
            listener = again;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { return };
                if *link.borrow() != Link::Up {
                    continue; // dropped: closed at once
                }
                let mut watching = link.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watching.wait_for(|l| *l != Link::Up) => {}
                    }
                });
            }
            changed = link.changed() => if changed.is_err() { return },
        }
    }
}

impl Drop for Cut {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the throttling proxy does, and what it counted.
#[derive(Debug, Default)]
pub struct Policy {
    /// Refuse every matching request while set.
    pub refuse_all: AtomicBool,
    /// Refuse this many more matching requests.
    pub refuse_next: AtomicU64,
    /// Only requests whose body holds this text match (all when unset).
    pub matching: Mutex<Option<String>>,
    pub throttled: AtomicU64,
    pub forwarded: AtomicU64,
}

impl Policy {
    fn refuses(&self, body: &[u8]) -> bool {
        let matching = self.matching.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(text) = matching
            && !String::from_utf8_lossy(body).contains(&text)
        {
            return false;
        }
        self.refuse_all.load(Ordering::SeqCst)
            || self.refuse_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    /// Clears the policy and the counts.
    pub fn reset(&self, matching: Option<&str>) {
        self.refuse_all.store(false, Ordering::SeqCst);
        self.refuse_next.store(0, Ordering::SeqCst);
        *self.matching.lock().unwrap_or_else(PoisonError::into_inner) = matching.map(str::to_owned);
        self.throttled.store(0, Ordering::SeqCst);
        self.forwarded.store(0, Ordering::SeqCst);
    }

    pub fn counts(&self) -> (u64, u64) {
        (self.throttled.load(Ordering::SeqCst), self.forwarded.load(Ordering::SeqCst))
    }
}

/// An HTTP proxy in front of DynamoDB Local that throttles by [`Policy`].
///
/// One request per connection: each answer says `Connection: close`, so an
/// idle keep-alive connection never holds the proxy up (tiny_http's pool
/// starved that way under a burst of connections: requests sat unread
/// while every thread waited on an idle one). It runs on a thread and
/// runtime of its own, so that the cases may block theirs.
pub struct Throttle {
    address: SocketAddr,
    pub policy: Arc<Policy>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").field("endpoint", &self.endpoint()).field("policy", &self.policy).finish()
    }
}

const THROTTLED: &str = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\",\
\"message\":\"The level of configured provisioned throughput for the table was exceeded (injected by rossignol-bench chaos)\"}";

/// The largest request head read (DynamoDB requests carry a few headers).
const MAX_HEAD: usize = 64 * 1024;

impl Throttle {
    pub fn start(target: &str) -> anyhow::Result<Self> {
        let (target, listener, address) = loopback(target)?;
        let policy = Arc::new(Policy::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let serving = Arc::clone(&policy);
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else { return };
                let accept = async {
                    while let Ok((inbound, _)) = listener.accept().await {
                        tokio::spawn(handle(inbound, Arc::clone(&serving), target));
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(Throttle { address, policy, stop: Some(stop), thread: Some(thread) })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request, as read: its head (with `Connection: close` in place of
/// any connection header) and its body.
struct Request {
    head: Vec<u8>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request whose body has a `Content-Length` (as the
/// AWS SDK sends them).
async fn read_request(stream: &mut TcpStream) -> anyhow::Result<Request> {
    use tokio::io::AsyncReadExt as _;

    let mut buffer = Vec::new();
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        anyhow::ensure!(buffer.len() < MAX_HEAD, "request head over {MAX_HEAD} bytes");
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await?;
        anyhow::ensure!(read > 0, "closed before a whole request");
        buffer.extend_from_slice(&chunk[..read]);
    };
    let text = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let mut head = format!("{}\r\n", lines.next().unwrap_or_default());
    let mut length = 0usize;
    for line in lines {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if name == "content-length" {
            length = line.split(':').nth(1).unwrap_or_default().trim().parse()?;
        }
        if name != "connection" {
            head.push_str(line);
            head.push_str("\r\n");
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut body = buffer[end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let read = stream.read(&mut chunk).await?;
        anyhow::ensure!(read > 0, "closed before the whole body");
        body.extend_from_slice(&chunk[..read]);
    }
    Ok(Request { head: head.into_bytes(), body })
}

/// Throttles or forwards one request, then closes the connection.
async fn handle(mut inbound: TcpStream, policy: Arc<Policy>, target: SocketAddr) {
    use tokio::io::AsyncWriteExt as _;

    let Ok(request) = read_request(&mut inbound).await else { return };
    if policy.refuses(&request.body) {
        policy.throttled.fetch_add(1, Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{THROTTLED}",
            THROTTLED.len()
        );
        let _ = inbound.write_all(answer.as_bytes()).await;
        let _ = inbound.shutdown().await;
        return;
    }
    policy.forwarded.fetch_add(1, Ordering::SeqCst);
    let forwarded = async {
        let mut outbound = TcpStream::connect(target).await?;
        outbound.write_all(&request.head).await?;
        outbound.write_all(&request.body).await?;
        // The server closes after its answer (`Connection: close`), which
        // says the same to the client.
        tokio::io::copy(&mut outbound, &mut inbound).await?;
        inbound.shutdown().await?;
        anyhow::Ok(())
    };
    if forwarded.await.is_err() {
        let _ = inbound
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
    }
}
