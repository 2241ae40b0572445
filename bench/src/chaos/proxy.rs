//! Loopback proxies that put a fault between a client and a real server:
//! [`Cut`] makes a server unreachable and brings it back (TCP, any
//! protocol), [`Throttle`] answers DynamoDB requests with
//! `ProvisionedThroughputExceededException` for a while, then forwards.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use tiny_http::{Response, Server};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::runtime_api::{body_bytes, header, listener};

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
        let target: SocketAddr = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .with_context(|| format!("{target} is not http://IP:PORT"))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
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
pub struct Throttle {
    server: Arc<Server>,
    pub policy: Arc<Policy>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").field("endpoint", &self.endpoint()).field("policy", &self.policy).finish()
    }
}

const THROTTLED: &str = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\",\
\"message\":\"The level of configured provisioned throughput for the table was exceeded (injected by rossignol-bench chaos)\"}";

impl Throttle {
    pub fn start(target: &str) -> anyhow::Result<Self> {
        let server = Arc::new(
            Server::from_listener(listener()?, None)
                .map_err(|e| anyhow::anyhow!("starting the proxy: {e}"))?,
        );
        let policy = Arc::new(Policy::default());
        let thread = {
            let (server, policy, target) = (Arc::clone(&server), Arc::clone(&policy), target.to_owned());
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into();
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    let (policy, target, agent) = (Arc::clone(&policy), target.clone(), agent.clone());
                    std::thread::spawn(move || handle(request, &policy, &target, &agent));
                }
            })
        };
        Ok(Throttle { server, policy, thread: Some(thread) })
    }

    pub fn endpoint(&self) -> String {
        self.server.server_addr().to_ip().map(|a| format!("http://{a}")).unwrap_or_default()
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Throttles or forwards one request.
fn handle(mut request: tiny_http::Request, policy: &Policy, target: &str, agent: &ureq::Agent) {
    let body = body_bytes(&mut request);
    if policy.refuses(&body) {
        policy.throttled.fetch_add(1, Ordering::SeqCst);
        let mut response = Response::from_string(THROTTLED).with_status_code(400);
        if let Ok(h) = header("Content-Type", "application/x-amz-json-1.0") {
            response = response.with_header(h);
        }
        let _ = request.respond(response);
        return;
    }
    policy.forwarded.fetch_add(1, Ordering::SeqCst);
    let mut forward = ureq::http::Request::builder()
        .method(request.method().as_str())
        .uri(format!("{target}{}", request.url()));
    for h in request.headers() {
        let name = h.field.as_str().as_str();
        if !["host", "content-length", "connection", "transfer-encoding"]
            .contains(&name.to_ascii_lowercase().as_str())
        {
            forward = forward.header(name, h.value.as_str());
        }
    }
    let answer = forward
        .body(body)
        .map_err(anyhow::Error::from)
        .and_then(|r| agent.run(r).map_err(anyhow::Error::from))
        .and_then(|mut r| {
            let bytes = r.body_mut().read_to_vec()?;
            Ok((r.status().as_u16(), r.headers().clone(), bytes))
        });
    match answer {
        Ok((status, headers, bytes)) => {
            let mut response = Response::from_data(bytes).with_status_code(status);
            for (name, value) in &headers {
                if ["content-length", "connection", "transfer-encoding"].contains(&name.as_str()) {
                    continue;
                }
                if let Ok(h) = header(name.as_str(), value.to_str().unwrap_or_default()) {
                    response = response.with_header(h);
                }
            }
            let _ = request.respond(response);
        }
        Err(_) => {
            let _ = request.respond(Response::empty(502));
        }
    }
}
