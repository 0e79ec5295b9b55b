//! Scaling of the compile: time, peak memory and output size as nodes and rules double
//! (2.5k nodes / 500 rules → 5k / 1k → 10k / 2k), and a cold pass of queries at 10k / 2k
//! by kind of destination.
//!
//! `cargo bench -p tailpolicy-benches --bench simulate_scaling`
//!
//! Every measurement runs in a child process (this binary re-run with `--child NODES RULES`
//! or `--child-queries NODES RULES`), so one size's allocations do not hide another's.
//!
//! Memory is the peak resident set, `VmHWM` in `/proc/self/status`. (The workspace forbids
//! `unsafe`, which rules out a counting global allocator.) In the child, after the inputs
//! are generated and parsed, the peak is reset (`5` to `/proc/self/clear_refs`) and the
//! resident set at that point is taken as the baseline; `VmHWM` after the compile minus the
//! baseline is the compile's own peak on top of its inputs. Two runs per size: `stream`
//! computes every node's rules and drops them node by node; `keep` keeps every node's rules
//! (as `Compiled::all_node_rules` does, e.g. for the peer map).
//!
//! Times are single runs (no warm-up): `Compiled::new`, `node_rules` for every node, and
//! `node_rules` + `to_wire` for every node (the wire JSON structs, strings included).

#![allow(
    clippy::print_stdout,
    reason = "a measurement binary that prints its tables"
)]

use std::hint::black_box;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use tailpolicy::compile::{Compiled, NodeRule};
use tailpolicy::inventory::Inventory;
use tailpolicy::model::Policy;
use tailpolicy::query::Simulator;
use tailpolicy_benches::{NaiveEvaluator, check_options, generate_queries, generate_tailnet};

const SIZES: [(usize, usize); 3] = [(2_500, 500), (5_000, 1_000), (10_000, 2_000)];

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Entries in a node's rules: `SrcIPs` plus `DstPorts` entries.
fn entries(rules: &[NodeRule]) -> usize {
    rules.iter().map(|r| r.src.len() + r.dsts.len()).sum()
}

fn load(nodes: usize, rules: usize) -> (String, Inventory, Policy) {
    let (text, inventory) = generate_tailnet(nodes, rules);
    let policy = tailpolicy::parse_valid(&text, &check_options(&inventory))
        .unwrap_or_else(|r| panic!("generated policy invalid: {:?}", r.diagnostics.first()));
    (text, inventory, policy)
}

fn child(nodes: usize, rules: usize, keep: bool) {
    let (text, inventory, policy) = load(nodes, rules);
    let resettable = reset_peak();
    let base_kb = status_kb("VmRSS:");

    let t = Instant::now();
    let compiled = Compiled::new(&policy, &inventory);
    let new = t.elapsed();
    let t = Instant::now();
    let mut output = 0usize;
    let mut rule_count = 0usize;
    let mut kept: Vec<Vec<NodeRule>> = Vec::new();
    for i in 0..inventory.nodes.len() {
        let node_rules = compiled.node_rules(i);
        output += entries(&node_rules);
        rule_count += node_rules.len();
        if keep {
            kept.push(node_rules);
        } else {
            black_box(node_rules);
        }
    }
    let all = t.elapsed();
    let peak_kb = status_kb("VmHWM:");
    black_box(&kept);
    drop(kept);

    let t = Instant::now();
    if !keep {
        for i in 0..inventory.nodes.len() {
            for rule in compiled.node_rules(i) {
                black_box(rule.to_wire());
            }
        }
    }
    let wire = t.elapsed();
    println!(
        "{{\"nodes\":{nodes},\"rules\":{rules},\"keep\":{keep},\"policy_bytes\":{},\"new_ms\":{:.1},\"node_rules_ms\":{:.1},\"wire_ms\":{:.1},\"pieces\":{},\"node_rules\":{rule_count},\"entries\":{output},\"base_kb\":{base_kb},\"peak_kb\":{peak_kb},\"reset\":{resettable}}}",
        text.len(),
        ms(new),
        ms(all),
        ms(wire),
        compiled.pieces.len(),
    );
}

/// 1,000 queries by kind of destination: a first pass with a fresh simulator (what it
/// builds on first use is not there yet, nor in the CPU caches) and a second, warm pass;
/// then the naive evaluator on every tenth query.
fn child_queries(nodes: usize, rules: usize) {
    let (text, inventory, policy) = load(nodes, rules);
    let t = Instant::now();
    let sim = Simulator::new(&policy, Some(&inventory));
    let setup = t.elapsed();
    let naive = NaiveEvaluator::new(&text, &inventory);
    let queries = generate_queries(&inventory, 1_000);
    let kinds = ["node address", "subnet route", "internet (exit)"];
    // (queries, allowed, simulator time, naive queries, naive time, warm time)
    let mut by_kind = [(
        0u32,
        0u32,
        Duration::ZERO,
        0u32,
        Duration::ZERO,
        Duration::ZERO,
    ); 3];
    let kind_of = |dst: IpAddr| match dst {
        IpAddr::V4(v4) if v4.octets()[0] == 100 => 0,
        IpAddr::V4(v4) if v4.octets()[0] == 10 || v4.octets()[0] == 172 => 1,
        _ => 2,
    };
    // First pass: the simulator alone (interleaving the naive evaluator would evict the
    // simulator's data from the CPU caches).
    let mut answers = Vec::with_capacity(queries.len());
    for q in &queries {
        let src = inventory.nodes.get(q.src).map_or("", |n| n.name.as_str());
        let t = Instant::now();
        let allowed = sim
            .query(src, &q.dst_text(), Some(q.proto_name()))
            .is_ok_and(|a| a.allowed);
        let took = t.elapsed();
        answers.push(allowed);
        if let Some(row) = by_kind.get_mut(kind_of(q.dst)) {
            row.0 += 1;
            row.1 += u32::from(allowed);
            row.2 += took;
        }
    }
    // Second pass: warm.
    for q in &queries {
        let src = inventory.nodes.get(q.src).map_or("", |n| n.name.as_str());
        let t = Instant::now();
        black_box(sim.query(src, &q.dst_text(), Some(q.proto_name())).is_ok());
        if let Some(row) = by_kind.get_mut(kind_of(q.dst)) {
            row.5 += t.elapsed();
        }
    }
    // The naive evaluator on every tenth query, which must give the same answers.
    for (q, allowed) in queries.iter().zip(&answers).step_by(10) {
        let t = Instant::now();
        let naive_allowed = naive.allows(q.src, q.dst, q.port, q.proto);
        let took = t.elapsed();
        assert_eq!(*allowed, naive_allowed, "{q:?}");
        if let Some(row) = by_kind.get_mut(kind_of(q.dst)) {
            row.3 += 1;
            row.4 += took;
        }
    }
    println!("Simulator::new: {:.0} ms", ms(setup));
    println!();
    println!(
        "| destination | queries | allowed | simulator, first pass | simulator, second pass | naive | speedup (first / second pass) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut total = (
        0u32,
        0u32,
        Duration::ZERO,
        0u32,
        Duration::ZERO,
        Duration::ZERO,
    );
    let rows = kinds.iter().zip(by_kind).map(|(n, r)| (*n, r));
    let print = |name: &str, row: (u32, u32, Duration, u32, Duration, Duration)| {
        let mean = |d: Duration, n: u32| d.as_secs_f64() / f64::from(n.max(1)) * 1e6;
        let (cold, warm, naive) = (mean(row.2, row.0), mean(row.5, row.0), mean(row.4, row.3));
        println!(
            "| {name} | {} | {} | {cold:.1} µs | {warm:.1} µs | {naive:.0} µs | {:.0}x / {:.0}x |",
            row.0,
            row.1,
            naive / cold,
            naive / warm
        );
    };
    for (name, row) in rows {
        print(name, row);
        total = (
            total.0 + row.0,
            total.1 + row.1,
            total.2 + row.2,
            total.3 + row.3,
            total.4 + row.4,
            total.5 + row.5,
        );
    }
    print("all", total);
}

fn field(line: &str, name: &str) -> f64 {
    let key = format!("\"{name}\":");
    line.split(&key)
        .nth(1)
        .and_then(|rest| rest.split([',', '}']).next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn run(args: &[String]) -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let out = Command::new(exe).args(args).output().expect("child runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |pos: usize, i: usize| args.get(pos + i).and_then(|a| a.parse().ok()).unwrap_or(0);
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        child(arg(pos, 1), arg(pos, 2), args.iter().any(|a| a == "--keep"));
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--child-queries") {
        child_queries(arg(pos, 1), arg(pos, 2));
        return;
    }
    println!(
        "| nodes | rules | policy | pieces | node rules | entries | Compiled::new | node_rules (every node) | compile total | + to_wire | peak RSS, stream | peak RSS, keep |"
    );
    println!(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mut raw = Vec::new();
    for (nodes, rules) in SIZES {
        let size = [nodes.to_string(), rules.to_string()];
        let stream = run(&["--child".to_owned(), size[0].clone(), size[1].clone()]);
        let keep = run(&[
            "--child".to_owned(),
            size[0].clone(),
            size[1].clone(),
            "--keep".to_owned(),
        ]);
        let peak = |line: &str| (field(line, "peak_kb") - field(line, "base_kb")) / 1024.0;
        let new = field(&stream, "new_ms");
        let all = field(&stream, "node_rules_ms");
        println!(
            "| {nodes} | {rules} | {:.0} KB | {} | {} | {} | {new:.0} ms | {all:.0} ms | {:.0} ms | {:.0} ms | {:.1} MiB | {:.1} MiB |",
            field(&stream, "policy_bytes") / 1000.0,
            field(&stream, "pieces"),
            field(&stream, "node_rules"),
            field(&stream, "entries"),
            new + all,
            field(&stream, "wire_ms"),
            peak(&stream),
            peak(&keep),
        );
        raw.push(stream);
        raw.push(keep);
    }
    println!();
    for line in raw {
        println!("    {line}");
    }
    println!();
    println!(
        "{}",
        run(&[
            "--child-queries".to_owned(),
            "10000".to_owned(),
            "2000".to_owned()
        ])
    );
}
