//! The server over real HTTP: started on 127.0.0.1:0 in the test, queried with ureq. Also what a
//! bot written in another language runs into first: every answer is JSON — axum's own rejections
//! included —, the bearer scheme is case-insensitive, and an oversized body is refused.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use vane_server::{ServeConfig, ServerError, bind, serve};

/// A server over an empty temporary folder (its job queue file lands there too).
fn config(addr: SocketAddr, dir: &std::path::Path) -> ServeConfig {
    ServeConfig::new(addr, dir.join("artifacts"), dir.join("data"))
}

/// A running server: its address, and a sender that shuts it down.
struct Running {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<JoinHandle<vane_server::Result<()>>>,
}

impl Running {
    fn start() -> Self {
        Self::start_with(None)
    }

    /// A server with `token` as its API token (None: no token, the mutating endpoints refuse).
    fn start_with(token: Option<&str>) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = rt.block_on(bind("127.0.0.1:0".parse().unwrap())).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(addr, dir.path());
        cfg.token = token.map(str::to_string);
        let handle = std::thread::spawn(move || {
            rt.block_on(serve(listener, cfg, async {
                let _ = rx.await;
            }))
        });
        Self { addr, _dir: dir, stop: Some(tx), handle: Some(handle) }
    }

    fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.call("GET", path, None, None)
    }

    /// `method path` with `auth` as the Authorization header and `body`; the status and the
    /// JSON body (asserting the content type is JSON).
    fn call(&self, method: &str, path: &str, auth: Option<&str>, body: Option<&[u8]>) -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let url = format!("http://{}{path}", self.addr);
        let mut resp = match (method, body) {
            ("GET", _) => {
                let mut r = agent.get(&url);
                if let Some(a) = auth {
                    r = r.header("Authorization", a);
                }
                r.call().unwrap()
            }
            ("DELETE", _) => {
                let mut r = agent.delete(&url);
                if let Some(a) = auth {
                    r = r.header("Authorization", a);
                }
                r.call().unwrap()
            }
            ("POST", b) => {
                let mut r = agent.post(&url);
                if let Some(a) = auth {
                    r = r.header("Authorization", a);
                }
                r.send(b.unwrap_or_default()).unwrap()
            }
            (m, _) => panic!("method {m}"),
        };
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        let text = resp.body_mut().read_to_string().unwrap();
        assert_eq!(ct.as_deref(), Some("application/json"), "{method} {path}: {status} {text}");
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")))
    }

    /// Shuts down gracefully and returns what `serve` returned.
    fn stop(mut self) -> vane_server::Result<()> {
        self.stop.take().unwrap().send(()).unwrap();
        self.handle.take().unwrap().join().unwrap()
    }
}

#[test]
fn health_answers_ok_with_version_and_uptime() {
    let server = Running::start();
    let (status, body) = server.get("/health");
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let up = body["uptime_s"].as_f64().unwrap();
    assert!((0.0..60.0).contains(&up), "uptime {up}");
    assert_eq!(body["models"], serde_json::json!([]));
    assert_eq!(body["jobs"]["queued"], 0);
    let (_, later) = server.get("/health");
    assert!(later["uptime_s"].as_f64().unwrap() >= up);
    server.stop().unwrap();
}

#[test]
fn unknown_route_is_a_json_404_and_wrong_method_a_json_405() {
    let server = Running::start();
    let (status, body) = server.get("/nope/deeper");
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "no route for GET /nope/deeper");
    assert_eq!(body["error"]["code"], "no_route");

    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.post(&format!("http://{}/health", server.addr)).send("").unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let body: serde_json::Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["error"]["message"], "POST is not allowed on /health");
    server.stop().unwrap();
}

#[test]
fn graceful_shutdown_stops_listening() {
    let server = Running::start();
    let addr = server.addr;
    assert_eq!(server.get("/health").0, 200);
    server.stop().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_err(), "still listening on {addr} after shutdown");
}

#[test]
fn port_in_use_is_an_error_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = vane_server::run(config(addr, dir.path())).unwrap_err();
    assert!(matches!(err, ServerError::Bind { addr: a, .. } if a == addr), "{err:?}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn unbindable_address_is_an_error_naming_it() {
    // TEST-NET-1 (RFC 5737) is never a local address.
    let addr: SocketAddr = "192.0.2.1:80".parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = vane_server::run(config(addr, dir.path())).unwrap_err();
    assert!(err.to_string().starts_with("cannot listen on 192.0.2.1:80:"), "{err}");
}

/// The API token of the tests below.
const TOKEN: &str = "newcomer-token-0123456789";

/// `?symbol=BTC&symbol=ETH` (a client that appends instead of setting) and a path segment that
/// is not UTF-8 were axum's `text/plain` rejections; they are JSON errors like every other.
#[test]
fn rejections_of_the_query_and_the_path_are_json_errors() {
    let server = Running::start_with(Some(TOKEN));
    let (status, body) = server.call("GET", "/v1/predict?symbol=BTC&symbol=ETH", None, None);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_parameter");
    assert_eq!(
        body["error"]["message"],
        "Failed to deserialize query string: duplicate field `symbol`: give each parameter once"
    );

    let (status, body) = server.call("GET", "/v1/jobs?limit=1&limit=2", None, None);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_parameter");
    assert!(body["error"]["message"].as_str().unwrap().contains("duplicate field `limit`"), "{body}");

    let (status, body) = server.call("GET", "/v1/jobs/%FF", None, None);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");
    assert_eq!(body["error"]["message"], "Invalid URL: Invalid UTF-8 in `id`");

    // The good answers are untouched.
    let (status, body) = server.call("GET", "/v1/jobs?limit=2", None, None);
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"jobs": []}));
    server.stop().unwrap();
}

/// `Authorization: bearer <token>` (RFC 9110: the scheme is case-insensitive; some HTTP clients
/// lower-case it) is the right token, not a 401.
#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let server = Running::start_with(Some(TOKEN));
    for auth in [format!("Bearer {TOKEN}"), format!("bearer {TOKEN}"), format!("BEARER {TOKEN}")] {
        let (status, body) = server.call("DELETE", "/v1/jobs/nope", Some(&auth), None);
        assert_eq!(status, 404, "{auth}: {body}");
        assert_eq!(body["error"]["code"], "unknown_job");
    }
    let (status, body) = server.call("DELETE", "/v1/jobs/nope", Some(&format!("Token {TOKEN}")), None);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, body) = server.call("DELETE", "/v1/jobs/nope", Some("bearer wrong-token-0123456789"), None);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "the bearer token is wrong");
    server.stop().unwrap();
}

/// Bodies are capped at 16 KiB (docs/api.md, Limits): no endpoint reads one, so a larger one was
/// silently accepted; it is a 413 naming the size and the limit.
#[test]
fn a_body_over_the_limit_is_a_413() {
    let server = Running::start_with(Some(TOKEN));
    let auth = format!("Bearer {TOKEN}");
    let big = vec![b'a'; 20_000];
    let (status, body) = server.call("POST", "/v1/thresholds/reload", Some(&auth), Some(&big));
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(
        body["error"]["message"],
        "the request body is 20000 bytes, over the limit of 16384: no endpoint takes a body"
    );
    let (status, body) = server.call("POST", "/v1/thresholds/reload", Some(&auth), Some(b"{}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reloaded"], 0);
    server.stop().unwrap();
}
