//! moto in server mode, started once per test binary on a free loopback port. It lives as long
//! as the test process: a shell holds it and kills it when our end of its stdin closes.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

static MOTO: LazyLock<String> = LazyLock::new(start);

/// The endpoint of the shared moto server (`http://127.0.0.1:PORT`).
pub fn endpoint() -> String {
    MOTO.clone()
}

fn start() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let moto = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let mut holder = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{moto} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; read _; kill $pid"
        ))
        .stdin(Stdio::piped())
        .spawn()
        .expect("starting moto_server (pip install 'moto[server]')");
    // Keep the pipe open for the life of the process; its closing stops moto.
    std::mem::forget(holder.stdin.take());
    std::mem::forget(holder);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write;
            let _ = s.write_all(b"GET /moto-api/ HTTP/1.0\r\n\r\n");
            let mut buf = [0u8; 12];
            if s.read(&mut buf).is_ok_and(|n| n > 0) {
                return format!("http://127.0.0.1:{port}");
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto_server did not start on port {port}");
}

/// Every message moto's SES has taken for `to`, as Python's `email` package reads it (moto keeps
/// raw messages in its model data).
pub fn raw_mail_to(to: &str) -> Vec<app::ssr::ports::Mail> {
    let mut stream = TcpStream::connect(endpoint().trim_start_matches("http://")).expect("moto");
    use std::io::Write;
    stream
        .write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: motoapi.amazonaws.com\r\n\r\n")
        .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let start = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers")
        + 4;
    let data: serde_json::Value = serde_json::from_slice(&reply[start..]).expect("model data");
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["destinations"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d == to))
        })
        .map(|m| super::parse_mime(m["raw_data"].as_str().unwrap_or_default().as_bytes()))
        .collect()
}
