//! How long comparing 1,000 desired objects with their live copies takes, and how much memory
//! it needs: the pure core of drift detection (`gitferry::drift::compare`), no I/O.
//!
//! Desired: a third each of Deployments, Services and ConfigMaps. Live: what a real API server
//! returns for them (server defaults, status, server metadata, `managedFields`), built by the
//! same fixtures as the unit tests. Two cases: 5 % of the objects drifted (edited by hand), and
//! none. Each is compared `DRIFT_BENCH_ITERATIONS` times (default 50); printed are the p50 and
//! max of one comparison and the heap's peak while comparing (a counting allocator wraps the
//! system one): `peak_mb` is the whole process (inputs included), `compare_mb` what the
//! comparison added on top.
//!
//! ```sh
//! cargo bench --bench drift
//! ```

#[path = "../../src/drift/tests/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use gitferry::drift::{Options, compare};
use serde_json::{Map, Value, json};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` with the caller's arguments; the counters are
// only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const OBJECTS: usize = 1_000;
const DRIFT_PCT: usize = 5;
const TARGET_P50_MS: f64 = 20.0;
const TARGET_PEAK_MB: f64 = 50.0;

fn main() {
    let iterations: usize = std::env::var("DRIFT_BENCH_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50)
        .max(1);
    let desired = desired_objects();
    let mut live: Vec<Value> = desired.iter().map(fixtures::live_copy).collect();
    let bytes: usize = desired
        .iter()
        .chain(&live)
        .map(|v| v.to_string().len())
        .sum();
    println!(
        "inputs: {OBJECTS} desired + {OBJECTS} live objects, {:.1} MB as JSON",
        bytes as f64 / 1e6
    );
    run("nothing drifted", 0, &desired, &live, iterations);
    // Edited in place, so that only one set of live objects is in memory at a time.
    let every = 100 / DRIFT_PCT;
    for (i, object) in live.iter_mut().enumerate().filter(|(i, _)| i % every == 0) {
        edit_by_hand(object, i);
    }
    check_drifted_case(&desired, &live);
    run("5 % drifted", DRIFT_PCT, &desired, &live, iterations);
}

/// A third each of Deployments, Services and ConfigMaps (ten entries each).
fn desired_objects() -> Vec<Value> {
    (0..OBJECTS)
        .map(|i| match i % 3 {
            0 => fixtures::deployment(
                &format!("app-{i}"),
                "registry.example.com/shop/app:1.4.2",
                3,
            ),
            1 => fixtures::service(&format!("svc-{i}")),
            _ => {
                let data: Map<String, Value> = (0..10)
                    .map(|k| {
                        (
                            format!("setting-{k}"),
                            json!(format!("value {k} of config {i}")),
                        )
                    })
                    .collect();
                fixtures::config_map(&format!("cfg-{i}"), data)
            }
        })
        .collect()
}

/// What a person changes with `kubectl edit`, by kind.
fn edit_by_hand(live: &mut Value, i: usize) {
    match live["kind"].as_str() {
        Some("Deployment") => {
            live["spec"]["replicas"] = json!(5);
            live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("shop/app:hotfix");
        }
        Some("Service") => live["spec"]["ports"][0]["targetPort"] = json!(9090),
        _ => live["data"]["setting-3"] = json!(format!("edited by hand {i}")),
    }
}

/// The drifted case must find exactly the edited objects, or the figures mean nothing.
fn check_drifted_case(desired: &[Value], drifted: &[Value]) {
    let report = compare(desired, drifted, &Options::default());
    let expected = OBJECTS * DRIFT_PCT / 100;
    if report.counts.modified != expected || report.counts.in_sync != OBJECTS - expected {
        eprintln!("unexpected report: {:?}", report.counts);
        std::process::exit(1);
    }
}

fn run(case: &str, drift_pct: usize, desired: &[Value], live: &[Value], iterations: usize) {
    let options = Options::default();
    for _ in 0..3 {
        black_box(compare(desired, live, &options));
    }
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let report = compare(black_box(desired), black_box(live), &options);
        samples.push(started.elapsed().as_secs_f64() * 1e3);
        black_box(report);
    }
    let peak = PEAK.load(Ordering::Relaxed);
    samples.sort_by(f64::total_cmp);
    let p50 = samples[samples.len() / 2];
    let max = samples[samples.len() - 1];
    let peak_mb = peak as f64 / (1024.0 * 1024.0);
    let compare_mb = peak.saturating_sub(baseline) as f64 / (1024.0 * 1024.0);
    println!(
        "RESULT drift_diff objects={OBJECTS} drift_pct={drift_pct} p50_ms={p50:.2} max_ms={max:.2} \
         peak_mb={peak_mb:.1} compare_mb={compare_mb:.2} iterations={iterations}"
    );
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "  {case}: p50 ≤ {TARGET_P50_MS} ms {}, peak ≤ {TARGET_PEAK_MB} MB {}",
        verdict(p50 <= TARGET_P50_MS),
        verdict(peak_mb <= TARGET_PEAK_MB)
    );
}
