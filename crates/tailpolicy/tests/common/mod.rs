//! Shared helpers for tests that read the conformance corpus.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::print_stdout, reason = "tests report skips and tables")]
#![expect(
    clippy::panic,
    reason = "corpus helpers: a panic fails the test that called them"
)]

use std::path::PathBuf;

use serde::Deserialize;
use tailpolicy::Inventory;

/// The conformance corpus: `$TAILPOLICY_CONFORMANCE_DIR`, or `../shared/conformance` beside
/// the workspace. `None` (with a note) when absent; under `CI=true` absence is a failure.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TAILPOLICY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    if dir.join("headscale").is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "conformance corpus not found at {} (set TAILPOLICY_CONFORMANCE_DIR)",
            dir.display()
        );
    }
    println!("skipped: conformance corpus not found at {}", dir.display());
    None
}

/// One corpus case.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    pub category: String,
    pub policy: String,
    #[serde(default)]
    pub users: Vec<serde_json::Value>,
    #[serde(default)]
    pub nodes: Vec<serde_json::Value>,
    #[serde(default)]
    pub tailnet: Option<serde_json::Value>,
    pub expect: serde_json::Value,
    #[serde(default)]
    pub headscale: serde_json::Value,
    #[serde(default)]
    pub unreliable: bool,
    /// `tailscale-saas-capture` (Tailscale's own answer) or `headscale-unit-test`
    /// (headscale's expectation, never checked against Tailscale).
    #[serde(default)]
    pub origin: String,
    /// The folder the case came from (`acl`, `TestUnmarshalPolicy`, ...).
    #[serde(skip)]
    pub folder: String,
}

impl Case {
    /// Whose answer `expect` holds, for messages.
    pub fn oracle(&self) -> &'static str {
        if self.origin == "headscale-unit-test" {
            "headscale's unit test"
        } else {
            "Tailscale"
        }
    }

    /// The case's users, nodes and tailnet as an inventory.
    pub fn inventory(&self) -> Inventory {
        let value = serde_json::json!({
            "users": self.users,
            "nodes": self.nodes,
            "tailnet": self.tailnet.clone().unwrap_or_else(|| serde_json::json!({})),
        });
        Inventory::parse(&value.to_string())
            .unwrap_or_else(|e| panic!("{}: bad inventory: {}", self.name, e.message))
    }

    /// The case's policy, lowered to the typed model (without validating it).
    pub fn policy(&self) -> Result<tailpolicy::model::Policy, String> {
        let parsed = tailpolicy::syntax::parse(&self.policy);
        let root = parsed.value.ok_or("policy does not parse")?;
        Ok(tailpolicy::model::lower(&root).0)
    }

    /// The inventory with each router's primary routes filled in from the captured netmaps
    /// (`expect.peers`): which of several HA routers is primary is tailnet state that the
    /// corpus records only there.
    pub fn inventory_with_primary_routes(&self) -> Inventory {
        let mut inventory = self.inventory();
        let Some(peers) = self.expect.get("peers").and_then(|p| p.as_object()) else {
            return inventory;
        };
        for node in &mut inventory.nodes {
            for route in &node.approved_routes {
                if route.prefix_len() == 0 {
                    continue;
                }
                let text = route.to_string();
                let offered = peers.values().any(|viewer| {
                    viewer
                        .get(&node.name)
                        .and_then(|routes| routes.as_array())
                        .is_some_and(|routes| {
                            routes.iter().any(|r| r.as_str() == Some(text.as_str()))
                        })
                });
                if offered {
                    node.primary_routes.push(*route);
                }
            }
        }
        inventory
    }
}

/// Every case under `headscale/<part>/` (`saas` or `unit`), sorted by path.
pub fn load_cases(part: &str) -> Option<Vec<Case>> {
    let root = corpus_dir()?.join("headscale").join(part);
    let mut paths = Vec::new();
    for folder in std::fs::read_dir(&root).ok()? {
        let folder = folder.ok()?.path();
        if folder.file_name().is_some_and(|n| n == "vectors") || !folder.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&folder).ok()? {
            let path = file.ok()?.path();
            if path.extension().is_some_and(|e| e == "json") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let cases = paths
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut case: Case =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            case.folder = path
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            case
        })
        .collect();
    Some(cases)
}
