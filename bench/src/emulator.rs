//! One Lambda Runtime API that several instances of the bootstrap binary
//! poll at once, as Lambda runs a function scaled out: each `GET
//! .../invocation/next` is parked until an event is due, an event goes to
//! whichever instance polls first, and each answer is matched to its event
//! by request id. Answers given twice, or for no event, are counted, so
//! that a test can say every event was answered exactly once.
//! ([`crate::runtime_api`] stays the one-instance, in-order runtime API the
//! latency measurements use.)

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::process::Child;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde_json::Value;
use tiny_http::{Method, Request, Response, Server};

use crate::runtime_api::{PREFIX, Spec, body, header, listener, spawn};

/// How an invocation ended, as the runtime API saw it.
#[derive(Debug)]
enum Outcome {
    Response(String),
    Error(String),
}

#[derive(Debug, Default)]
struct State {
    /// Polls waiting for an event.
    polls: VecDeque<Request>,
    /// Events waiting for a poll: (request id, event).
    queued: VecDeque<(String, Vec<u8>)>,
    /// Invocations waiting for their answer.
    waiting: HashMap<String, mpsc::Sender<Outcome>>,
    answered: HashSet<String>,
    /// Answers to an invocation already answered.
    duplicates: u64,
    /// Answers to no invocation handed out.
    strays: u64,
    init_errors: Vec<String>,
}

/// What the runtime API counted over its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub answered: u64,
    pub duplicates: u64,
    pub strays: u64,
}

/// A function: its runtime API and the instances polling it. Stops on drop.
pub struct Emulator {
    name: String,
    server: Arc<Server>,
    state: Arc<Mutex<State>>,
    thread: Option<JoinHandle<()>>,
    instances: Vec<Child>,
    logs: Vec<PathBuf>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("name", &self.name).field("pids", &self.pids()).finish()
    }
}

/// An invocation handed to the runtime API, not yet answered.
#[derive(Debug)]
pub struct Pending {
    function: String,
    request_id: String,
    answer: mpsc::Receiver<Outcome>,
}

/// An answered invocation: the function's response document (for an HTTP
/// event, the proxy response).
#[derive(Debug)]
pub struct Answer {
    pub response: Value,
}

impl Answer {
    /// The HTTP status and the JSON body of a proxy response.
    pub fn http(&self) -> (u16, Value) {
        let status = self.response["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(0);
        let body = self.response["body"].as_str().and_then(|text| serde_json::from_str(text).ok());
        (status, body.unwrap_or(Value::Null))
    }
}

impl Emulator {
    /// Starts the runtime API and `instances` processes of `spec` polling it.
    pub fn start(spec: &Spec<'_>, instances: usize) -> anyhow::Result<Self> {
        let server = Arc::new(
            Server::from_listener(listener().context("listening on 127.0.0.1")?, None)
                .map_err(|e| anyhow::anyhow!("starting the runtime API on 127.0.0.1: {e}"))?,
        );
        let address = server.server_addr().to_ip().context("the runtime API has no IP address")?;
        let name = format!("rossignol-chaos-{}", spec.handler);
        let state = Arc::new(Mutex::new(State::default()));
        let thread = {
            let (server, state) = (Arc::clone(&server), Arc::clone(&state));
            std::thread::spawn(move || serve(&server, &state))
        };
        let mut emulator =
            Emulator { name, server, state, thread: Some(thread), instances: Vec::new(), logs: Vec::new() };
        for index in 0..instances.max(1) {
            let log = spec.log.with_extension(format!("{index}.log"));
            let child = spawn(spec, &address.to_string(), &emulator.name, &log)?;
            emulator.instances.push(child);
            emulator.logs.push(log);
        }
        Ok(emulator)
    }

    /// The instances' process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.instances.iter().map(Child::id).collect()
    }

    /// Whether every instance is still running.
    pub fn all_running(&mut self) -> bool {
        self.instances.iter_mut().all(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Queues `event` under `request_id`; it goes to the first instance
    /// that polls.
    pub fn invoke(&self, request_id: &str, event: Vec<u8>) -> Pending {
        let (tx, rx) = mpsc::channel();
        let poll = {
            let mut state = self.lock();
            state.waiting.insert(request_id.to_owned(), tx);
            let poll = state.polls.pop_front();
            if poll.is_none() {
                state.queued.push_back((request_id.to_owned(), event.clone()));
            }
            poll
        };
        if let Some(poll) = poll {
            hand_out(&self.state, &self.name, poll, request_id, event);
        }
        Pending { function: self.name.clone(), request_id: request_id.to_owned(), answer: rx }
    }

    /// What the runtime API counted so far.
    pub fn tally(&self) -> Tally {
        let state = self.lock();
        Tally { answered: state.answered.len() as u64, duplicates: state.duplicates, strays: state.strays }
    }

    /// Init errors the instances reported.
    pub fn init_errors(&self) -> Vec<String> {
        self.lock().init_errors.clone()
    }

    /// Stops every instance and returns all they logged (read after they
    /// exit, so that no line is missed).
    pub fn stop(&mut self) -> String {
        for child in &mut self.instances {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.logs
            .iter()
            .map(|log| std::fs::read_to_string(log).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pending {
    /// Waits up to `patience` for the answer. A timeout means the event was
    /// lost; an `/error` post is an error.
    pub fn wait(self, patience: Duration) -> anyhow::Result<Answer> {
        match self.answer.recv_timeout(patience) {
            Ok(Outcome::Response(text)) => {
                let response = serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{}: invocation {} answered with something not JSON",
                        self.function, self.request_id
                    )
                })?;
                Ok(Answer { response })
            }
            Ok(Outcome::Error(text)) => {
                anyhow::bail!("{}: invocation {} failed: {text}", self.function, self.request_id)
            }
            Err(_) => anyhow::bail!(
                "{}: invocation {} was not answered within {} s (lost)",
                self.function,
                self.request_id,
                patience.as_secs()
            ),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The runtime API's loop: parks polls, hands queued events out, and
/// routes answers to their invocations.
fn serve(server: &Server, state: &Mutex<State>) {
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    while let Ok(mut request) = server.recv() {
        let url = request.url().to_owned();
        let path = url.strip_prefix(PREFIX).unwrap_or_default();
        match (request.method().clone(), path) {
            (Method::Get, "/invocation/next") => {
                let mut guard = lock();
                match guard.queued.pop_front() {
                    Some((id, event)) => {
                        drop(guard);
                        hand_out(state, "", request, &id, event);
                    }
                    None => guard.polls.push_back(request),
                }
            }
            (Method::Post, "/init/error") => {
                let text = body(&mut request);
                let _ = request.respond(Response::empty(202));
                lock().init_errors.push(text);
            }
            (Method::Post, path) => {
                let answer = path
                    .strip_prefix("/invocation/")
                    .and_then(|rest| rest.split_once('/'))
                    .map(|(id, kind)| (id.to_owned(), kind.to_owned()));
                let text = body(&mut request);
                let _ = request.respond(Response::empty(202));
                let Some((id, kind)) = answer else { continue };
                let outcome = if kind == "response" { Outcome::Response(text) } else { Outcome::Error(text) };
                let mut guard = lock();
                if !guard.answered.insert(id.clone()) {
                    guard.duplicates += 1;
                    continue;
                }
                match guard.waiting.remove(&id) {
                    Some(tx) => {
                        let _ = tx.send(outcome);
                    }
                    None => guard.strays += 1,
                }
            }
            _ => {
                let _ = request.respond(Response::empty(400));
            }
        }
    }
}

/// Answers `poll` with the event. If the instance is gone (its poll's
/// connection closed), the event goes back to the front of the queue.
fn hand_out(state: &Mutex<State>, function: &str, poll: Request, request_id: &str, event: Vec<u8>) {
    let deadline_ms =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()).saturating_add(120_000);
    let mut response = Response::from_data(event.clone());
    for (name, value) in [
        ("Content-Type", "application/json".to_owned()),
        ("Lambda-Runtime-Aws-Request-Id", request_id.to_owned()),
        ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
        (
            "Lambda-Runtime-Invoked-Function-Arn",
            format!("arn:aws:lambda:eu-central-1:123456789012:function:{function}_"),
        ),
        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned()),
    ] {
        if let Ok(header) = header(name, &value) {
            response = response.with_header(header);
        }
    }
    if poll.respond(response).is_err() {
        state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .queued
            .push_front((request_id.to_owned(), event));
    }
}
