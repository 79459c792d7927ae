//! Response bodies, and the loopback HTTP/1 variant for out-of-process clients.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use crate::error::ApiError;

pub type BoxBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

pub fn boxed<B>(body: B) -> BoxBody
where
    B: hyper::body::Body<Data = Bytes, Error = Infallible> + Send + Sync + 'static,
{
    body.boxed()
}

pub fn json_response(code: u16, v: &Value) -> Response<BoxBody> {
    let bytes = serde_json::to_vec(v).expect("JSON values serialize");
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(boxed(Full::new(Bytes::from(bytes))))
        .expect("static response parts are valid")
}

pub fn error_response(e: &ApiError) -> Response<BoxBody> {
    json_response(e.code, &e.to_status())
}

pub fn stream_response(body: BoxBody) -> Response<BoxBody> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("transfer-encoding", "chunked")
        .body(body)
        .expect("static response parts are valid")
}

/// A running loopback server; dropping it (or `shutdown()`) stops accepting connections.
#[derive(Debug)]
pub struct ServerHandle {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn shutdown(&self) {
        self.task.abort();
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(server: crate::FakeApiServer) -> std::io::Result<ServerHandle> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        // Connections live in this set, so stopping the server also ends open watches.
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            while connections.try_join_next().is_some() {}
            let server = server.clone();
            connections.spawn(async move {
                let svc =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let server = server.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let bytes = body
                                .collect()
                                .await
                                .map(|c| c.to_bytes())
                                .unwrap_or_default();
                            Ok::<_, Infallible>(server.handle_parts(parts, bytes).await)
                        }
                    });
                // A client closing its connection mid-watch is normal, not an error to report.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(ServerHandle { addr, task })
}

/// A kubeconfig pointing at the loopback server, for running a real binary against the fake.
pub fn kubeconfig_yaml(url: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: {namespace}\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{}}\n"
    )
}
