//! The server over real HTTP: started on 127.0.0.1:0 in the test, queried with ureq.

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
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = rt.block_on(bind("127.0.0.1:0".parse().unwrap())).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(addr, dir.path());
        let handle = std::thread::spawn(move || {
            rt.block_on(serve(listener, cfg, async {
                let _ = rx.await;
            }))
        });
        Self { addr, _dir: dir, stop: Some(tx), handle: Some(handle) }
    }

    fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut resp = agent.get(&format!("http://{}{path}", self.addr)).call().unwrap();
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(ct.as_deref(), Some("application/json"), "{path}");
        let body = resp.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
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
