//! The tailpolicy review WebAssembly module: `diff` and `convertInventory`.
//!
//! This crate only links the JavaScript API that lives in the core library
//! ([`tailpolicy::ffi_review`], behind its `review` feature) into a `cdylib`; it adds no
//! logic. `bash wasm/build.sh` builds it beside the main module (`wasm/pkg/review/`);
//! `wasm/README.md` describes when each loads.

pub use tailpolicy::ffi_review::*;

/// The main module's allocator (`wasm/src/lib.rs`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::SmallGlobalTlsf = rlsf::SmallGlobalTlsf::new();
