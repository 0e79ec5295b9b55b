//! Writes `tailpolicy_benches::generate_tailnet(NODES, RULES)` as `DIR/policy.hujson` and
//! `DIR/inventory.json`, so the CLI can be timed on it as a user would run it:
//! `cargo run --release -p tailpolicy-benches --example write_tailnet -- 2000 1500 target/tailnet`.
//! A fourth argument adds a `tests` block of that many assertions (`with_tests_block`).

use std::path::PathBuf;

use serde_json::json;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let nodes = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let rules = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(nodes * 3 / 4);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/tailnet".to_owned()));
    let tests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let (mut policy, inventory) = tailpolicy_benches::generate_tailnet(nodes, rules);
    if tests > 0 {
        policy = tailpolicy_benches::with_tests_block(&policy, &inventory, tests);
    }
    let strings = |nets: &[ipnet::IpNet]| nets.iter().map(ToString::to_string).collect::<Vec<_>>();
    let value = json!({
        "users": inventory.users.iter().map(|u| json!({
            "id": u.id, "name": u.name, "email": u.email, "roles": u.roles,
        })).collect::<Vec<_>>(),
        "nodes": inventory.nodes.iter().map(|n| json!({
            "name": n.name,
            "ipv4": n.ipv4.map(|a| a.to_string()),
            "ipv6": n.ipv6.map(|a| a.to_string()),
            "user": n.user,
            "tags": n.tags,
            "routable_ips": strings(&n.routable_ips),
            "approved_routes": strings(&n.approved_routes),
            "primary_routes": strings(&n.primary_routes),
        })).collect::<Vec<_>>(),
    });
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("policy.hujson"), policy)?;
    std::fs::write(dir.join("inventory.json"), serde_json::to_string(&value)?)
}
