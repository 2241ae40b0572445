//! A minimal Lambda Runtime API, so that the real `rossignol-lambda` binary
//! can be invoked as Lambda invokes it: the binary long-polls
//! `GET /2018-06-01/runtime/invocation/next`, gets an event with its
//! `Lambda-Runtime-*` headers, and posts the answer to
//! `/2018-06-01/runtime/invocation/{id}/response` (or `/error`). One server
//! per function, on 127.0.0.1, served by `tiny_http` (keep-alive included).
//! Must be started inside the Tokio runtime (its listener is made there).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde_json::Value;
use tiny_http::{Header, Method, Request, Response, Server};

pub(crate) const PREFIX: &str = "/2018-06-01/runtime";
/// How long an invocation (or the first poll) may take before the bench gives up.
const PATIENCE: Duration = Duration::from_secs(60);
/// How often a wait checks that the function is still running.
const TICK: Duration = Duration::from_millis(100);

/// How to start one function.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    pub binary: &'a Path,
    /// `_HANDLER`: setter, getter or signer.
    pub handler: &'a str,
    /// The log file of the process (its stdout and stderr).
    pub log: PathBuf,
    /// The function's environment beyond the Lambda runtime variables.
    pub env: Vec<(&'a str, String)>,
}

/// A running function and the runtime API it polls. Stops on drop.
pub struct Function {
    name: String,
    server: Server,
    child: Child,
    log: PathBuf,
    invocations: u64,
}

/// What one invocation answered, and how long it took.
#[derive(Debug)]
pub struct Answer {
    /// From handing out the event to receiving its response.
    pub elapsed: Duration,
    /// The function's response document (for an HTTP event, the API
    /// Gateway proxy response).
    pub response: Value,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("runtime_api", &self.server.server_addr().to_ip())
            .field("pid", &self.child.id())
            .field("invocations", &self.invocations)
            .finish()
    }
}

impl Function {
    pub fn start(spec: &Spec<'_>) -> anyhow::Result<Self> {
        let server = Server::from_listener(listener().context("listening on 127.0.0.1")?, None)
            .map_err(|e| anyhow::anyhow!("starting the runtime API on 127.0.0.1: {e}"))?;
        let address = server.server_addr().to_ip().context("the runtime API has no IP address")?;
        let name = format!("rossignol-bench-{}", spec.handler);
        let child = spawn(spec, &address.to_string(), &name, &spec.log)?;
        Ok(Function { name, server, child, log: spec.log.clone(), invocations: 0 })
    }

    /// The function's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Hands `event` to the function's next poll under `request_id`, and
    /// waits for its response. Any `/error` post, an init error or the
    /// process exiting fails the invocation.
    pub fn invoke(&mut self, request_id: &str, event: &[u8]) -> anyhow::Result<Answer> {
        let poll = self.next_poll()?;
        self.invocations += 1;
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            .saturating_add(PATIENCE.as_millis());
        let headers = [
            ("Content-Type", "application/json".to_owned()),
            ("Lambda-Runtime-Aws-Request-Id", request_id.to_owned()),
            ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
            (
                "Lambda-Runtime-Invoked-Function-Arn",
                format!("arn:aws:lambda:eu-central-1:123456789012:function:{}", self.name),
            ),
            ("Lambda-Runtime-Trace-Id", format!("Root=1-00000000-{:024x};Sampled=0", self.invocations)),
        ];
        let mut response = Response::from_data(event.to_vec());
        for (name, value) in headers {
            response = response.with_header(header(name, &value)?);
        }
        let start = Instant::now();
        poll.respond(response).context("handing out an event")?;
        let (text, received) = self.result_of(request_id)?;
        let elapsed = received.duration_since(start);
        let response = serde_json::from_str(&text).with_context(|| {
            format!("{}: invocation {request_id} answered with something not JSON: {text:?}", self.name)
        })?;
        Ok(Answer { elapsed, response })
    }

    /// Waits for the function's `GET .../invocation/next`.
    fn next_poll(&mut self) -> anyhow::Result<Request> {
        loop {
            let mut request = self.receive("for its poll of the next event")?;
            let url = request.url().to_owned();
            match (request.method(), url.strip_prefix(PREFIX)) {
                (Method::Get, Some("/invocation/next")) => return Ok(request),
                (Method::Post, Some("/init/error")) => {
                    let body = body(&mut request);
                    let _ = request.respond(Response::empty(202));
                    anyhow::bail!("{} reported an init error: {body}{}", self.name, self.log_tail());
                }
                _ => self.unexpected(request, "a poll for the next event")?,
            }
        }
    }

    /// Waits for the response (or error) to invocation `request_id`: the
    /// response's body and when it was in.
    fn result_of(&mut self, request_id: &str) -> anyhow::Result<(String, Instant)> {
        let response_path = format!("/invocation/{request_id}/response");
        let error_path = format!("/invocation/{request_id}/error");
        loop {
            let mut request = self.receive(&format!("for the response to invocation {request_id}"))?;
            let url = request.url().to_owned();
            let path = url.strip_prefix(PREFIX);
            if request.method() == &Method::Post && path == Some(response_path.as_str()) {
                let text = body(&mut request);
                let received = Instant::now();
                let _ = request.respond(Response::empty(202));
                return Ok((text, received));
            }
            if request.method() == &Method::Post && path == Some(error_path.as_str()) {
                let text = body(&mut request);
                let _ = request.respond(Response::empty(202));
                anyhow::bail!("{}: invocation {request_id} failed: {text}{}", self.name, self.log_tail());
            }
            self.unexpected(request, "the invocation's response")?;
        }
    }

    /// The next request to the runtime API, while the process runs.
    fn receive(&mut self, what: &str) -> anyhow::Result<Request> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(request) = self.server.recv_timeout(TICK).context("the runtime API failed")? {
                return Ok(request);
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "{} exited ({status}) while the bench waited {what}{}",
                    self.name,
                    self.log_tail()
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} kept the bench waiting more than {} s {what}{}",
                self.name,
                PATIENCE.as_secs(),
                self.log_tail()
            );
        }
    }

    /// Fails on a request the protocol has no place for at this point.
    fn unexpected(&self, mut request: Request, expected: &str) -> anyhow::Result<()> {
        let line = format!("{} {}", request.method(), request.url());
        let text = body(&mut request);
        let _ = request.respond(Response::empty(400));
        anyhow::bail!("{} sent {line} ({text}) where {expected} was due{}", self.name, self.log_tail())
    }

    /// The end of the function's log, for error messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("\n{} (the last lines of {}):\n{tail}", self.name, self.log.display())
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts one process of `spec` polling the runtime API at `address`,
/// logging to `log`, with only the Lambda variables and `spec.env` set.
pub(crate) fn spawn(spec: &Spec<'_>, address: &str, name: &str, log: &Path) -> anyhow::Result<Child> {
    let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    Command::new(spec.binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("_HANDLER", spec.handler)
        .envs(spec.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", spec.binary.display()))
}

/// A listener on 127.0.0.1 whose connections have Nagle's algorithm off
/// (Linux passes TCP_NODELAY on to accepted sockets). tiny_http writes a
/// response's head and a body over 1 KiB in two writes; with Nagle on, the
/// body (the event) waits for the client's delayed ACK of the head: 40 ms
/// added to every invocation.
pub(crate) fn listener() -> anyhow::Result<std::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_nodelay(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let listener = socket.listen(64)?.into_std()?;
    listener.set_nonblocking(false)?;
    Ok(listener)
}

pub(crate) fn header(name: &str, value: &str) -> anyhow::Result<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .map_err(|()| anyhow::anyhow!("not a valid header: {name}: {value}"))
}

/// A request's body as text (empty if unreadable).
pub(crate) fn body(request: &mut Request) -> String {
    let mut text = String::new();
    let _ = request.as_reader().read_to_string(&mut text);
    text
}
