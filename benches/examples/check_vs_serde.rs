//! `check` against serde_json, whole process (issue 14): writes the generated policy and a
//! copy without comments and trailing commas, then times, interleaved, `tailpolicy check
//! FILE --format json` and this binary parsing the stripped copy into a
//! `serde_json::Value`, each as its own process, and prints the medians and their ratio.
//!
//! `cargo build --release -p tailpolicy-cli -p tailpolicy-benches --example check_vs_serde`,
//! then `target/release/examples/check_vs_serde [BYTES] [RUNS]` (2,300,000 and 31 by
//! default). `check_vs_serde --parse FILE` is the serde_json side alone; `CHECK_BASE=FILE`
//! also times another `tailpolicy` binary (an older build), interleaved with the two.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a measuring tool prints its measurements"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--parse") {
        let Some(text) = args.get(1).and_then(|p| std::fs::read_to_string(p).ok()) else {
            return ExitCode::from(2);
        };
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(_) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let bytes = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_300_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(31);

    let this = std::env::current_exe().expect("the path of this binary");
    let dir = this
        .parent()
        .and_then(Path::parent)
        .expect("target/release");
    let cli = dir.join("tailpolicy");
    let out = std::env::temp_dir().join(format!("check_vs_serde-{bytes}"));
    std::fs::create_dir_all(&out).expect("a scratch directory");
    let policy = out.join("policy.hujson");
    let stripped = out.join("policy.json");
    let text = tailpolicy_benches::generate_policy(bytes);
    std::fs::write(&policy, &text).expect("policy written");
    std::fs::write(&stripped, tailpolicy_benches::strip_hujson(&text)).expect("copy written");
    println!(
        "{} bytes in {}, {} stripped; {runs} runs each, interleaved",
        text.len(),
        policy.display(),
        std::fs::metadata(&stripped).map_or(0, |m| m.len())
    );

    let check = |cli: &PathBuf| {
        let mut c = Command::new(cli);
        c.args(["check", "--format", "json"]).arg(&policy);
        c
    };
    let parse = || {
        let mut c = Command::new(&this);
        c.arg("--parse").arg(&stripped);
        c
    };
    // Warm the page cache and check that both succeed.
    assert!(time(&mut check(&cli)).1, "tailpolicy check failed");
    assert!(time(&mut parse()).1, "serde_json failed");
    // `CHECK_BASE=path/to/older/tailpolicy`: time that binary too, for before/after.
    let base = std::env::var_os("CHECK_BASE").map(PathBuf::from);
    let mut ours = Vec::with_capacity(runs);
    let mut theirs = Vec::with_capacity(runs);
    let mut before = Vec::with_capacity(runs);
    let mut cpu = [Duration::ZERO; 3];
    let timed = |command: &mut Command, into: &mut Vec<Duration>, cpu: &mut Duration| {
        let started = children_cpu();
        into.push(time(command).0);
        *cpu += children_cpu().saturating_sub(started);
    };
    for _ in 0..runs {
        let [ours_cpu, theirs_cpu, before_cpu] = &mut cpu;
        timed(&mut check(&cli), &mut ours, ours_cpu);
        timed(&mut parse(), &mut theirs, theirs_cpu);
        if let Some(base) = &base {
            timed(&mut check(base), &mut before, before_cpu);
        }
    }
    let per_run = |d: Duration| ms(d) / runs.max(1) as f64;
    if !before.is_empty() {
        let b = median(&mut before);
        println!(
            "CHECK_BASE {:.1} ms (min {:.1}, CPU {:.1} ms a run): ratio to serde_json {:.2}",
            ms(b),
            ms(before[0]),
            per_run(cpu[2]),
            ms(b) / ms(median(&mut theirs.clone()))
        );
    }
    println!(
        "CPU (user + system, mean of {runs}): check {:.1} ms, serde_json {:.1} ms: ratio {:.2}",
        per_run(cpu[0]),
        per_run(cpu[1]),
        per_run(cpu[0]) / per_run(cpu[1]).max(f64::MIN_POSITIVE)
    );
    let (a, b) = (median(&mut ours), median(&mut theirs));
    println!(
        "check {:.1} ms (min {:.1}), serde_json {:.1} ms (min {:.1}): ratio {:.2} (of minimums {:.2})",
        ms(a),
        ms(ours[0]),
        ms(b),
        ms(theirs[0]),
        ms(a) / ms(b),
        ms(ours[0]) / ms(theirs[0])
    );
    ExitCode::SUCCESS
}

/// Wall time of one run and whether it exited with 0 (`check` of a valid policy does).
fn time(command: &mut Command) -> (Duration, bool) {
    let started = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the process starts");
    (started.elapsed(), status.success())
}

/// User + system CPU time of every waited-for child so far (`/proc/self/stat`, in clock
/// ticks of 10 ms: meaningful summed over many runs). On a loaded machine this moves less
/// than wall time.
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    // Fields 16 and 17 (cutime, cstime); the split starts at field 3.
    let ticks: u64 = [13, 14]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
