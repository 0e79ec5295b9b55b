//! The project's own inventory JSON, written back (`tailpolicy inventory convert`, the review
//! WASM module's `convertInventory`): what [`Inventory::read`] reads from any shape.

use serde_json::{Map, Value, json};

use super::{Inventory, Unknowns};

impl Inventory {
    /// The inventory in the project's own JSON shape (`tailpolicy inventory convert`);
    /// optional facts only when set.
    pub fn to_json(&self) -> Value {
        let inventory = self;
        let strings = |list: &[String]| json!(list);
        let users: Vec<Value> = inventory
            .users
            .iter()
            .map(|u| {
                let mut user = Map::new();
                user.insert("id".into(), json!(u.id));
                user.insert("name".into(), json!(u.name));
                user.insert("email".into(), json!(u.email));
                user.insert("roles".into(), strings(&u.roles));
                if u.shared {
                    user.insert("shared".into(), json!(true));
                }
                Value::Object(user)
            })
            .collect();
        let nodes: Vec<Value> = inventory
            .nodes
            .iter()
            .map(|n| {
                let mut node = Map::new();
                node.insert("name".into(), json!(n.name));
                node.insert("ipv4".into(), json!(n.ipv4));
                node.insert("ipv6".into(), json!(n.ipv6));
                node.insert("user".into(), json!(n.user));
                node.insert("tags".into(), strings(&n.tags));
                node.insert("routable_ips".into(), json!(n.routable_ips));
                node.insert("approved_routes".into(), json!(n.approved_routes));
                node.insert("primary_routes".into(), json!(n.primary_routes));
                if let Some(by) = &n.created_by {
                    node.insert("created_by".into(), json!(by));
                }
                for (key, set) in [("ephemeral", n.ephemeral), ("shared", n.shared)] {
                    if set {
                        node.insert(key.into(), json!(true));
                    }
                }
                Value::Object(node)
            })
            .collect();
        let mut tailnet = Map::new();
        if let Some(domains) = &inventory.tailnet.domains {
            tailnet.insert("domains".into(), strings(domains));
        }
        for member in &inventory.tailnet.other {
            tailnet.insert(member.key.clone(), member.value.to_json());
        }
        let mut root = Map::new();
        root.insert("users".into(), Value::Array(users));
        root.insert("nodes".into(), Value::Array(nodes));
        root.insert("tailnet".into(), Value::Object(tailnet));
        let unknown = inventory.unknown;
        if unknown != Unknowns::default() {
            root.insert(
                "unknown".into(),
                json!({
                    "roles": unknown.roles,
                    "route_approval": unknown.route_approval,
                    "nodes": unknown.nodes,
                    "users": unknown.users,
                }),
            );
        }
        if !inventory.services.is_empty() {
            let services: Vec<Value> = inventory
                .services
                .iter()
                .map(
                    |s| json!({"name": s.name, "addrs": s.addrs, "ports": s.ports, "tags": s.tags}),
                )
                .collect();
            root.insert("services".into(), Value::Array(services));
        }
        if !inventory.assume_nodes.is_empty() {
            root.insert("assume_nodes".into(), strings(&inventory.assume_nodes));
        }
        Value::Object(root)
    }
}
