//! The wallet's side of the chain: `datacoop-client` (one subxt client for every Datacoop
//! program), with what the wallet adds: the hint a user needs when the node is not there, and
//! waiting for finality before a command says it is done.

use anyhow::{anyhow, Result};
pub use datacoop_client::{
	api as datacoop, text, Action, At, Chain, ContributionInfo, DaoInfo, DaoRules, Events,
	GrantInfo, Keypair, ProposalInfo, Status as ContributionStatus,
};

/// Connects to the node at `url`.
pub async fn connect(url: &str) -> Result<Chain> {
	Chain::connect(url)
		.await
		.map_err(|e| anyhow!("{e}: is datacoop-node running? (--url or DATACOOP_URL)"))
}

/// Signs `call`, submits it and waits until its block is finalized; fails with the chain's
/// error name (`Contributions::SizeAboveMaximum: …`) if it did not succeed.
pub async fn submit<Call: datacoop_client::subxt::transactions::Payload>(
	chain: &Chain,
	call: &Call,
	signer: &Keypair,
) -> Result<Events> {
	Ok(chain.submit(call, signer, datacoop_client::Wait::Finalized).await?)
}
