//! The tailpolicy WebAssembly module.
//!
//! This crate only links the JavaScript API that lives in the core library
//! ([`tailpolicy::ffi`], behind its `wasm` feature) into a `cdylib`; it adds no logic.
//! Build it with `bash wasm/build.sh`; `wasm/README.md` describes the API.

pub use tailpolicy::ffi::*;
