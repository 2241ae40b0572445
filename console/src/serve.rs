//! `rossignol serve --rpc ADDRESS:PORT`: the signer's JSON-RPC surface on
//! this machine, over the chosen environment, at the Lambda's paths. The
//! JSON-RPC itself is `rossignol_core::rpc`; this is only HTTP.
//!
//! It has no API key check, so it listens on a loopback address only.

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rossignol_core::config::Environment;
use rossignol_core::rpc::{self, Endpoint};
use rossignol_core::sign::MAX_BODY_BYTES;
use rossignol_core::{Custodian, Requester};

use crate::Failure;
use crate::commands::who;
use crate::output::Out;

pub async fn rpc(env: &Environment, listen: SocketAddr, out: &mut Out) -> Result<(), Failure> {
    if !listen.ip().is_loopback() {
        return Err(Failure::usage(format!(
            "--rpc {listen} is not a loopback address; `rossignol serve` checks no API key, so it listens on 127.0.0.1 or [::1] only (use the signer Lambda to sign for other machines)"
        )));
    }
    let custodian = env.connect().await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {listen}: {e}; pick a free port")))?;
    let bound =
        listener.local_addr().map_err(|e| Failure::usage(format!("cannot read the bound address: {e}")))?;
    out.line(&format!(
        "serving JSON-RPC for environment {} at http://{bound}/rpc/CHAIN_ID[/ADDRESS]; every signature is in its access trail. Ctrl-C stops",
        env.name
    ))?;
    out.flush()?;
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let custodian = custodian.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let custodian = custodian.clone();
                        async move { Ok::<_, Infallible>(answer(&custodian, peer, request).await) }
                    });
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(error = %e, "a JSON-RPC connection ended with an error");
                    }
                });
            }
        }
    }
}

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn refused(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    reply(status, serde_json::json!({ "success": false, "message": message }).to_string())
}

async fn answer(
    custodian: &Custodian,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let endpoint = match Endpoint::from_path(request.uri().path()) {
        Some(Ok(endpoint)) => endpoint,
        Some(Err(reason)) => return refused(StatusCode::NOT_FOUND, &reason),
        None => {
            return refused(
                StatusCode::NOT_FOUND,
                "not found: JSON-RPC is served at /rpc, /rpc/{chainId} and /rpc/{chainId}/{address}",
            );
        }
    };
    if request.method() != Method::POST {
        return refused(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: JSON-RPC takes POST");
    }
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is over {MAX_BODY_BYTES} bytes, or was cut off; send smaller batches"),
            );
        }
    };
    let requester =
        Requester { source_ip: Some(peer.ip().to_string()), ..Requester::operator("serve", who()) };
    match rpc::handle(custodian, &endpoint, &requester, &body).await {
        Some(answer) => reply(StatusCode::OK, answer),
        None => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
    }
}
