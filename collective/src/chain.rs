//! What the collective server reads from the chain, through subxt with types generated from
//! the committed metadata (`artifacts/datacoop.scale`). Reads are at the best block: a
//! contribution is judged as soon as it is in a block the node imported; the runtime checks
//! the attestation again wherever it lands, so reading ahead of finality risks nothing.

use subxt::{config::RpcConfigFor, utils::H256, OnlineClient, PolkadotConfig};
use subxt_rpcs::{methods::LegacyRpcMethods, RpcClient};

#[subxt::subxt(runtime_metadata_path = "../artifacts/datacoop.scale")]
pub mod datacoop {}

pub use datacoop::runtime_types::{
	pallet_contributions::types::{Contribution, ContributionStatus},
	pallet_data_daos::types::Dao,
};

/// Why the chain could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the node at {url}: {why}")]
pub struct ChainError {
	url: String,
	why: String,
}

/// A connection to a node.
#[derive(Clone)]
pub struct Chain {
	url: String,
	client: OnlineClient<PolkadotConfig>,
	rpc: LegacyRpcMethods<RpcConfigFor<PolkadotConfig>>,
}

/// The chain at one block.
pub struct At {
	inner: subxt::client::ClientAtBlock<
		PolkadotConfig,
		subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>,
	>,
	/// Its number.
	pub number: u32,
	url: String,
}

impl Chain {
	pub async fn connect(url: &str) -> Result<Chain, ChainError> {
		let fail = |e: &dyn std::fmt::Display| ChainError { url: url.into(), why: e.to_string() };
		let rpc_client = RpcClient::from_insecure_url(url).await.map_err(|e| fail(&e))?;
		let client = OnlineClient::<PolkadotConfig>::from_rpc_client(rpc_client.clone())
			.await
			.map_err(|e| fail(&e))?;
		Ok(Chain { url: url.into(), client, rpc: LegacyRpcMethods::new(rpc_client) })
	}

	fn fail(&self, e: impl std::fmt::Display) -> ChainError {
		ChainError { url: self.url.clone(), why: e.to_string() }
	}

	pub fn genesis_hash(&self) -> [u8; 32] {
		self.client.genesis_hash().0
	}

	/// The chain at its best block.
	pub async fn at_best(&self) -> Result<At, ChainError> {
		let hash = self.rpc.chain_get_block_hash(None).await.map_err(|e| self.fail(e))?;
		let hash = hash.ok_or_else(|| self.fail("no best block"))?;
		let inner = self.client.at_block(hash).await.map_err(|e| self.fail(e))?;
		let number = inner.block_number() as u32;
		Ok(At { inner, number, url: self.url.clone() })
	}
}

impl At {
	fn fail(&self, e: impl std::fmt::Display) -> ChainError {
		ChainError { url: self.url.clone(), why: e.to_string() }
	}

	pub async fn contribution(&self, id: u64) -> Result<Option<Contribution>, ChainError> {
		let call = datacoop::runtime_apis().contributions_api().contribution(id);
		self.inner.runtime_apis().call(call).await.map_err(|e| self.fail(e))
	}

	pub async fn dao(&self, id: u32) -> Result<Option<Dao>, ChainError> {
		let call = datacoop::runtime_apis().data_daos_api().dao(id);
		self.inner.runtime_apis().call(call).await.map_err(|e| self.fail(e))
	}

	/// The accepted contribution of DAO `dao` with this fingerprint, if any.
	pub async fn by_fingerprint(
		&self,
		dao: u32,
		fingerprint: [u8; 32],
	) -> Result<Option<u64>, ChainError> {
		let call = datacoop::runtime_apis()
			.contributions_api()
			.contribution_by_fingerprint(dao, H256(fingerprint));
		self.inner.runtime_apis().call(call).await.map_err(|e| self.fail(e))
	}
}
