//! Builds the runtime to WebAssembly and embeds the blob in the native crate (`WASM_BINARY`).

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn main() {
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash(datacoop_token_symbol(), 12)
		.build();
}

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn datacoop_token_symbol() -> &'static str {
	// Must match `datacoop_primitives::token::SYMBOL`; a build script cannot depend on the
	// crate it builds for, so the value is repeated here.
	"COOP"
}

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// Built for wasm itself: nothing to do.
#[cfg(not(feature = "std"))]
fn main() {}
