//! The tailpolicy WebAssembly module.
//!
//! This crate only links the JavaScript API that lives in the core library
//! ([`tailpolicy::ffi`], behind its `wasm` feature) into a `cdylib`; it adds no logic.
//! Build it with `bash wasm/build.sh`; `wasm/README.md` describes the API.

pub use tailpolicy::ffi::*;

/// A TLSF allocator (rlsf, built for code size) in place of std's dlmalloc: 4.3 KB less
/// module (2.0 KB gzipped), as fast on the bench policies, about 7% more memory
/// (docs/performance.md, WASM). Its constructor is safe: no `unsafe` here.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::SmallGlobalTlsf = rlsf::SmallGlobalTlsf::new();
