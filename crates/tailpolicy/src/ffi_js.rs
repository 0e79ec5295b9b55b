//! Moving values across the JavaScript boundary, shared by both WebAssembly APIs
//! (`ffi.rs`, feature `wasm`, and `ffi_review.rs`, feature `review`): results out as plain
//! objects, options in field by field. No policy logic.

use js_sys::{JSON, Reflect};
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::span::PositionEncoding;

/// A plain JavaScript object (through JSON, so `None` becomes `null` as in the CLI's JSON).
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    parse_json(serde_json::to_string(value).ok())
}

// Out of the generic `to_js`: one copy in the WASM module, not one per result type.
#[inline(never)]
fn parse_json(json: Option<String>) -> JsValue {
    json.and_then(|json| JSON::parse(&json).ok())
        .unwrap_or(JsValue::NULL)
}

/// `object[key]`, or `undefined` when `object` is not an object.
pub(crate) fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `undefined` or `null`: an option left out.
#[inline]
pub(crate) fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// `options.encoding`: `Ok(None)` when left out; `Err` says what is accepted.
#[inline]
pub(crate) fn encoding_option(options: &JsValue) -> Result<Option<PositionEncoding>, String> {
    let encoding = get(options, "encoding");
    if is_absent(&encoding) {
        return Ok(None);
    }
    let name = encoding.as_string();
    match name.as_deref().and_then(PositionEncoding::from_name) {
        Some(encoding) => Ok(Some(encoding)),
        None => Err(format!(
            "unknown position encoding `{}`: use `utf16`, `chars` or `utf8`",
            name.as_deref().unwrap_or("(not a string)")
        )),
    }
}

/// `options.inventory` as JSON text (given as text, or as an object): `Ok(None)` when left
/// out.
#[inline]
pub(crate) fn inventory_option(options: &JsValue) -> Result<Option<String>, String> {
    let inventory = get(options, "inventory");
    if is_absent(&inventory) {
        return Ok(None);
    }
    match inventory.as_string() {
        Some(text) => Ok(Some(text)),
        None => JSON::stringify(&inventory)
            .ok()
            .and_then(|s| s.as_string())
            .map(Some)
            .ok_or_else(|| {
                "the inventory must be JSON text or an object JSON can represent".to_owned()
            }),
    }
}
