//! What a bot written in another language runs into first, over real HTTP (the server started on
//! 127.0.0.1:0 in the test, queried with ureq): every answer is JSON — axum's own rejections
//! included —, the bearer scheme is case-insensitive, and an oversized body is refused.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use vane_server::{ServeConfig, bind, serve};

const TOKEN: &str = "newcomer-token-0123456789";

/// A running server over an empty temporary folder, with [`TOKEN`] as its API token.
struct Running {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<JoinHandle<vane_server::Result<()>>>,
}

impl Running {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = rt.block_on(bind("127.0.0.1:0".parse().unwrap())).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ServeConfig::new(addr, dir.path().join("artifacts"), dir.path().join("data"));
        cfg.token = Some(TOKEN.to_string());
        let handle = std::thread::spawn(move || {
            rt.block_on(serve(listener, cfg, async {
                let _ = rx.await;
            }))
        });
        Self { addr, _dir: dir, stop: Some(tx), handle: Some(handle) }
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

    fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.handle.take().unwrap().join().unwrap().unwrap();
    }
}

/// `?symbol=BTC&symbol=ETH` (a client that appends instead of setting) and a path segment that
/// is not UTF-8 were axum's `text/plain` rejections; they are JSON errors like every other.
#[test]
fn rejections_of_the_query_and_the_path_are_json_errors() {
    let server = Running::start();
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
    server.stop();
}

/// `Authorization: bearer <token>` (RFC 9110: the scheme is case-insensitive; some HTTP clients
/// lower-case it) is the right token, not a 401.
#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let server = Running::start();
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
    server.stop();
}

/// Bodies are capped at 16 KiB (docs/api.md, Limits): no endpoint reads one, so a larger one was
/// silently accepted; it is a 413 naming the size and the limit.
#[test]
fn a_body_over_the_limit_is_a_413() {
    let server = Running::start();
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
    server.stop();
}
