//! The JavaScript API as JavaScript sees it, run in Node by wasm-bindgen-test
//! (`cargo test -p tailpolicy-wasm --target wasm32-unknown-unknown`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect};
use tailpolicy_wasm::{PolicyHandle, check_js, version};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const DEPOT: &str = include_str!("../../fixtures/depot/policy.hujson");
const DEPOT_INVENTORY: &str = include_str!("../../fixtures/depot/inventory.json");

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap()
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.into()
}

/// Calls `target.method(arg)` as JavaScript would.
fn call(target: &JsValue, method: &str, arg: &JsValue) -> JsValue {
    let function: Function = get(target, method).dyn_into().unwrap();
    function.call1(target, arg).unwrap()
}

fn depot() -> JsValue {
    let parsed = PolicyHandle::parse(
        DEPOT,
        object(&[("inventory", JsValue::from_str(DEPOT_INVENTORY))]),
    );
    assert_eq!(get(&parsed, "ok"), JsValue::TRUE);
    get(&parsed, "policy")
}

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn check_reports_the_cli_fields_with_utf16_columns() {
    let valid = check_js(DEPOT, JsValue::UNDEFINED);
    assert_eq!(get(&valid, "valid"), JsValue::TRUE);

    // U+1F600 takes two UTF-16 units: the unquoted key after it is at UTF-16 column 11
    // (character column 10).
    let result = check_js("{/* \u{1F600} */ bad: 1}", JsValue::UNDEFINED);
    assert_eq!(get(&result, "valid"), JsValue::FALSE);
    let first = Array::from(&get(&result, "diagnostics")).get(0);
    assert_eq!(get(&first, "code"), "E001");
    assert_eq!(get(&first, "severity"), "error");
    assert_eq!(get(&first, "line"), 1);
    assert_eq!(get(&first, "column"), 11);
    assert!(get(&first, "help").is_null() || get(&first, "help").is_string());
    for key in ["message", "end_line", "end_column"] {
        assert!(!get(&first, key).is_undefined(), "{key}");
    }
}

#[wasm_bindgen_test]
fn bad_options_are_diagnostics() {
    let result = check_js(
        "{}",
        object(&[("inventory", JsValue::from_str("{\"nodes\": 1}"))]),
    );
    let first = Array::from(&get(&result, "diagnostics")).get(0);
    assert_eq!(get(&first, "code"), "INVENTORY");
    let result = check_js("{}", object(&[("encoding", JsValue::from_str("ucs2"))]));
    let first = Array::from(&get(&result, "diagnostics")).get(0);
    assert_eq!(get(&first, "code"), "OPTIONS");
    let result = check_js("{}", JsValue::from_f64(3.0));
    assert_eq!(get(&result, "valid"), JsValue::FALSE);
}

#[wasm_bindgen_test]
fn a_broken_policy_parses_to_diagnostics() {
    let parsed = PolicyHandle::parse("{\"acls\": [", JsValue::UNDEFINED);
    assert_eq!(get(&parsed, "ok"), JsValue::FALSE);
    assert!(get(&parsed, "policy").is_undefined());
    assert!(Array::from(&get(&parsed, "diagnostics")).length() > 0);
}

#[wasm_bindgen_test]
fn the_handle_answers_queries_and_listings() {
    let policy = depot();
    let answer = call(
        &policy,
        "query",
        &object(&[
            ("src", "tag:depot-runner".into()),
            ("dst", "database:5432".into()),
        ]),
    );
    assert_eq!(get(&answer, "allowed"), JsValue::TRUE);
    let first = Array::from(&get(&answer, "matches")).get(0);
    assert_eq!(get(&first, "section"), "acls");
    assert_eq!(get(&first, "index"), 0);

    let denied = call(
        &policy,
        "query",
        &object(&[
            ("src", "tag:depot-runner".into()),
            ("dst", "database:22".into()),
            ("proto", "tcp".into()),
        ]),
    );
    assert_eq!(get(&denied, "allowed"), JsValue::FALSE);
    assert!(get(&denied, "error").is_undefined());

    let unknown = call(
        &policy,
        "query",
        &object(&[("src", "tag:nobody".into()), ("dst", "nowhere:1".into())]),
    );
    assert_eq!(get(&unknown, "allowed"), JsValue::FALSE);
    assert!(get(&unknown, "error").is_string());
    let malformed = call(&policy, "query", &JsValue::from_f64(1.0));
    assert!(get(&malformed, "error").is_string());

    let from = call(&policy, "reachableFrom", &"tag:depot-runner".into());
    assert_eq!(get(&from, "ok"), JsValue::TRUE);
    let names: Vec<String> = Array::from(&get(&from, "reach"))
        .iter()
        .map(|r| get(&r, "name").as_string().unwrap())
        .collect();
    assert!(names.contains(&"database".to_owned()), "{names:?}");
    let to = call(&policy, "reachableTo", &"database:5432".into());
    assert_eq!(get(&to, "ok"), JsValue::TRUE);
    let failed = call(&policy, "reachableFrom", &"group:nope".into());
    assert_eq!(get(&failed, "ok"), JsValue::FALSE);

    let free: Function = get(&policy, "free").dyn_into().unwrap();
    free.call0(&policy).unwrap();
}
