//! Chain specs. Each only picks a genesis preset of the runtime and names the chain; the
//! starting state itself lives in `runtime/src/genesis_config_presets.rs`.

use datacoop_primitives::token;
use datacoop_runtime::WASM_BINARY;
use sc_service::{ChainType, Properties};

pub type ChainSpec = sc_service::GenericChainSpec;

/// The native token as polkadot.js reads it from `system_properties`.
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), token::SYMBOL.into());
	properties.insert("tokenDecimals".into(), token::DECIMALS.into());
	properties.insert("ss58Format".into(), token::SS58_PREFIX.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"this node was built without the runtime's wasm (SKIP_WASM_BUILD was set): rebuild it \
		 without SKIP_WASM_BUILD"
			.to_string()
	})
}

/// `--dev`: a single validator (Alice).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Datacoop Development")
		.with_id("datacoop_dev")
		.with_protocol_id("datacoop-dev")
		.with_chain_type(ChainType::Development)
		.with_properties(properties())
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.build())
}

/// `--chain local`: four validators (Alice, Bob, Charlie, Dave) on one machine.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Datacoop Local Testnet")
		.with_id("datacoop_local")
		.with_protocol_id("datacoop-local")
		.with_chain_type(ChainType::Local)
		.with_properties(properties())
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.build())
}
