//! A hostile crowd for a real `gitferry serve` process: slowloris clients and large unsigned
//! uploads, while `/healthz` is probed and the process's memory is read from `/proc`.
//!
//! Loopback only, bounded in time and connections, and the child is killed when the run ends.
//! Shared by the `edge_load` end-to-end test (which asserts the memory bound) and
//! `benches/edge` (which reports the latencies), so both measure the same thing.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub const SECRET: &str = "edge-load-secret";

/// What to throw at the server, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub slow_clients: usize,
    pub uploads: usize,
    pub upload_bytes: usize,
    pub duration: Duration,
    pub probe_every: Duration,
}

impl Plan {
    /// The crowd named in issue 11: 300 slow clients and 20 uploads of 24 MB.
    pub fn issue_11(duration: Duration) -> Self {
        Self {
            slow_clients: 300,
            uploads: 20,
            upload_bytes: 24 << 20,
            duration,
            probe_every: Duration::from_millis(50),
        }
    }
}

#[derive(Debug)]
pub struct Report {
    /// One entry per `/healthz` probe: its latency, or `None` if it failed or took > 5 s.
    pub probes: Vec<Option<Duration>>,
    pub idle_rss_kib: u64,
    /// `VmHWM`: the most the process ever had resident, load included.
    pub peak_rss_kib: u64,
    /// Connections the slow clients opened (each held until the server cut it).
    pub slow_connections: usize,
    /// Upload attempts, and how many the server answered 503 (budget spent) or 401.
    pub upload_attempts: usize,
    pub uploads_refused_503: usize,
    pub uploads_refused_401: usize,
}

impl Report {
    /// The `q`-quantile (0.0–1.0) of the answered probes.
    pub fn latency_quantile(&self, q: f64) -> Option<Duration> {
        let mut answered: Vec<Duration> = self.probes.iter().flatten().copied().collect();
        answered.sort();
        let last = answered.len().checked_sub(1)?;
        let index = ((last as f64) * q).round() as usize;
        answered.get(index.min(last)).copied()
    }

    pub fn print(&self, label: &str) {
        let ms = |d: Option<Duration>| {
            d.map_or("-".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
        };
        println!(
            "{label}: healthz probes {} answered {}, p50 {}, p99 {}, max {}; RSS idle {} MiB, peak {} MiB; \
             slow connections {}; uploads {} (503: {}, 401: {})",
            self.probes.len(),
            self.probes.iter().flatten().count(),
            ms(self.latency_quantile(0.5)),
            ms(self.latency_quantile(0.99)),
            ms(self.latency_quantile(1.0)),
            self.idle_rss_kib / 1024,
            self.peak_rss_kib / 1024,
            self.slow_connections,
            self.upload_attempts,
            self.uploads_refused_503,
            self.uploads_refused_401,
        );
    }
}

/// Starts `binary serve` with its default limits in `dir`, runs `plan` against it, stops it.
pub async fn run(binary: &Path, dir: &Path, plan: Plan) -> Report {
    let listen = free_listen_address();
    let mut child = spawn(binary, dir, &listen);
    wait_until_healthy(&listen).await;
    let pid = child.id().expect("running child");
    let idle_rss_kib = status_kib(pid, "VmRSS:");

    let deadline = Instant::now() + plan.duration;
    let slow: Vec<_> = (0..plan.slow_clients)
        .map(|_| tokio::spawn(slow_client(listen.clone(), deadline)))
        .collect();
    let uploads: Vec<_> = (0..plan.uploads)
        .map(|n| {
            let signature = (n % 2 == 1).then_some(BOGUS_SIGNATURE);
            tokio::spawn(uploader(
                listen.clone(),
                signature,
                plan.upload_bytes,
                deadline,
            ))
        })
        .collect();
    let probes = probe(&listen, plan.probe_every, deadline).await;

    let mut slow_connections = 0;
    for task in slow {
        slow_connections += task.await.expect("slow client");
    }
    let (mut upload_attempts, mut uploads_refused_503, mut uploads_refused_401) = (0, 0, 0);
    for task in uploads {
        let (attempts, refused_503, refused_401) = task.await.expect("uploader");
        upload_attempts += attempts;
        uploads_refused_503 += refused_503;
        uploads_refused_401 += refused_401;
    }
    let peak_rss_kib = status_kib(pid, "VmHWM:");
    stop(&mut child).await;
    Report {
        probes,
        idle_rss_kib,
        peak_rss_kib,
        slow_connections,
        upload_attempts,
        uploads_refused_503,
        uploads_refused_401,
    }
}

/// A well-formed signature header that signs nothing: the server must read the body to know.
const BOGUS_SIGNATURE: &str =
    "sha256=0000000000000000000000000000000000000000000000000000000000000000";

fn spawn(binary: &Path, dir: &Path, listen: &str) -> Child {
    Command::new(binary)
        .arg("serve")
        .args(["--listen", listen])
        .args([
            "--database-url",
            &format!("sqlite://{}", dir.join("gitferry.db").display()),
        ])
        .args(["--github-webhook-secret", SECRET])
        .args(["--github-api-url", "http://127.0.0.1:9"])
        .args(["--env-file", &dir.join(".env").display().to_string()])
        .current_dir(dir)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn gitferry serve")
}

async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let pid = nix::unistd::Pid::from_raw(pid as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    if tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// Sends a request head a byte a second, reconnecting whenever the server cuts it off.
/// Returns how many connections it opened.
async fn slow_client(listen: String, deadline: Instant) -> usize {
    let head = b"GET /healthz HTTP/1.1\r\nHost: gitferry\r\nX-Slow: ";
    let mut connections = 0;
    while Instant::now() < deadline {
        let Ok(mut stream) = TcpStream::connect(&listen).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        connections += 1;
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if Instant::now() >= deadline || stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    connections
}

/// Announces `bytes` of JSON and sends them as fast as the server takes them, again and
/// again. Returns (attempts, answered 503, answered 401).
async fn uploader(
    listen: String,
    signature: Option<&'static str>,
    bytes: usize,
    deadline: Instant,
) -> (usize, usize, usize) {
    let chunk = vec![b' '; 64 * 1024];
    let (mut attempts, mut refused_503, mut refused_401) = (0, 0, 0);
    while Instant::now() < deadline {
        attempts += 1;
        let Ok(mut stream) = TcpStream::connect(&listen).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let signature = signature
            .map(|s| format!("X-Hub-Signature-256: {s}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST /api/github/webhooks HTTP/1.1\r\nHost: gitferry\r\nContent-Type: application/json\r\n\
             X-GitHub-Event: push\r\nX-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958\r\n\
             {signature}Content-Length: {bytes}\r\n\r\n"
        );
        if stream.write_all(head.as_bytes()).await.is_ok() {
            let mut sent = 0;
            while sent < bytes && Instant::now() < deadline {
                let n = chunk.len().min(bytes - sent);
                if stream.write_all(&chunk[..n]).await.is_err() {
                    break;
                }
                sent += n;
            }
        }
        let mut answer = [0u8; 12];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await;
        match read.ok().and_then(Result::ok).map(|n| &answer[..n]) {
            Some(head) if head.starts_with(b"HTTP/1.1 503") => refused_503 += 1,
            Some(head) if head.starts_with(b"HTTP/1.1 401") => refused_401 += 1,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (attempts, refused_503, refused_401)
}

/// `GET /healthz` on a fresh connection every `every` until the deadline.
async fn probe(listen: &str, every: Duration, deadline: Instant) -> Vec<Option<Duration>> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let url = format!("http://{listen}/healthz");
    let mut probes = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let answered = match http.get(&url).send().await {
            Ok(response) if response.status().is_success() => Some(started.elapsed()),
            _ => None,
        };
        probes.push(answered);
        tokio::time::sleep(every).await;
    }
    probes
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn free_listen_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    format!("127.0.0.1:{port}")
}

async fn wait_until_healthy(listen: &str) {
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = TcpStream::connect(listen).await {
            let _ = stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: gitferry\r\nConnection: close\r\n\r\n")
                .await;
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer).await;
            if answer.starts_with(b"HTTP/1.1 200") {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gitferry serve did not come up on {listen}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
