//! The chain, through subxt, with types generated from the committed metadata
//! (`artifacts/datacoop.scale`, refreshed by `scripts/refresh-metadata.sh`).

use anyhow::{anyhow, Context, Result};
use subxt::{utils::AccountId32, OnlineClient, PolkadotConfig};
use subxt_signer::sr25519::Keypair;

#[subxt::subxt(runtime_metadata_path = "../artifacts/datacoop.scale")]
pub mod datacoop {}

pub use datacoop::runtime_types::{
	pallet_contributions::types::{Contribution, ContributionStatus},
	pallet_data_daos::types::Dao,
};

pub type Client = OnlineClient<PolkadotConfig>;

/// The chain at one (finalized) block: every read of a command goes through one, fetched
/// once, so a listing does not ask for the head again per item and sees one consistent state.
pub type At = subxt::client::ClientAtBlock<
	PolkadotConfig,
	subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>,
>;

/// The chain at its latest finalized block.
pub async fn at(client: &Client) -> Result<At> {
	client.at_current_block().await.context("reading the chain's finalized head")
}

pub async fn connect(url: &str) -> Result<Client> {
	let connect = if url.starts_with("ws://") {
		OnlineClient::<PolkadotConfig>::from_insecure_url(url).await
	} else {
		OnlineClient::<PolkadotConfig>::from_url(url).await
	};
	connect.map_err(|e| {
		anyhow!("cannot reach the node at {url} ({e}): is datacoop-node running? (--url or DATACOOP_URL)")
	})
}

pub fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

pub async fn dao(at: &At, id: u32) -> Result<Option<Dao>> {
	let call = datacoop::runtime_apis().data_daos_api().dao(id);
	Ok(at.runtime_apis().call(call).await.context("reading the DAO")?)
}

pub async fn next_dao_id(at: &At) -> Result<u32> {
	let v = at.storage().fetch(datacoop::storage().data_daos().next_dao_id(), ()).await?;
	Ok(v.decode()?)
}

/// The first block contribution `id` may be withdrawn in, if its contributor asked to
/// cancel it.
pub async fn cancel_requested(at: &At, id: u64) -> Result<Option<u64>> {
	let v = at
		.storage()
		.try_fetch(datacoop::storage().contributions().cancel_requests(), (id,))
		.await?;
	Ok(v.map(|v| v.decode()).transpose()?.map(u64::from))
}

/// The chain's block time in milliseconds: twice the timestamp pallet's minimum period, as
/// Aura's slot duration is.
pub fn block_time_ms(at: &At) -> Result<u64> {
	let period = at.constants().entry(datacoop::constants().timestamp().minimum_period())?;
	Ok(period.saturating_mul(2))
}

pub async fn contribution(at: &At, id: u64) -> Result<Option<Contribution>> {
	let call = datacoop::runtime_apis().contributions_api().contribution(id);
	Ok(at.runtime_apis().call(call).await.context("reading the contribution")?)
}

pub async fn contribution_by_ciphertext(
	at: &At,
	dao_id: u32,
	hash: [u8; 32],
) -> Result<Option<u64>> {
	let call = datacoop::runtime_apis()
		.contributions_api()
		.contribution_by_ciphertext(dao_id, subxt::utils::H256(hash));
	Ok(at.runtime_apis().call(call).await.context("looking the ciphertext up")?)
}

/// The ids of `who`'s contributions, oldest first.
pub async fn contributions_of(at: &At, who: &AccountId32) -> Result<Vec<u64>> {
	let mut entries = at
		.storage()
		.iter(datacoop::storage().contributions().by_contributor(), (who.clone(),))
		.await?;
	let mut ids = Vec::new();
	while let Some(kv) = entries.next().await {
		let kv = kv?;
		let key = kv.key()?;
		let id = key
			.part(1)
			.ok_or_else(|| anyhow!("ByContributor key without a contribution id"))?
			.decode_as::<u64>()?
			.ok_or_else(|| anyhow!("ByContributor key without a contribution id"))?;
		ids.push(id);
	}
	ids.sort_unstable();
	Ok(ids)
}

pub async fn native_free(at: &At, who: &AccountId32) -> Result<u128> {
	let v = at.storage().fetch(datacoop::storage().system().account(), (who.clone(),)).await?;
	Ok(v.decode()?.data.free)
}

pub async fn token_balance(at: &At, dao_id: u32, who: &AccountId32) -> Result<u128> {
	let call = datacoop::runtime_apis().data_daos_api().token_balance(dao_id, who.clone());
	Ok(at.runtime_apis().call(call).await?)
}

pub async fn claimable(at: &At, dao_id: u32, who: &AccountId32) -> Result<u128> {
	let call = datacoop::runtime_apis().data_daos_api().claimable_rewards(dao_id, who.clone());
	Ok(at.runtime_apis().call(call).await?)
}

/// Signs `tx`, submits it and waits until its block is finalized; fails with the chain's
/// error name (`contributions.SizeAboveMaximum: …`) if it did not succeed.
pub async fn submit<Call: subxt::transactions::Payload>(
	client: &Client,
	tx: &Call,
	signer: &Keypair,
) -> Result<subxt::extrinsics::ExtrinsicEvents<PolkadotConfig>> {
	let at = client.at_current_block().await?;
	let progress = at
		.transactions()
		.sign_and_submit_then_watch_default(tx, signer)
		.await
		.map_err(|e| anyhow!("the node refused the transaction: {e}"))?;
	let events = progress.wait_for_finalized_success().await.map_err(|e| anyhow!("{e}"))?;
	Ok(events)
}
