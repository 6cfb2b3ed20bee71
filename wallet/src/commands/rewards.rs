//! `datacoop rewards`: the COOP paid to a DAO's token holders, what I may claim of it (show)
//! and claiming it (claim).

use std::{fmt, io::Write};

use anyhow::{bail, Result};
use serde::Serialize;

use super::{existing_dao, print, Amount};
use crate::{
	chain::{self, datacoop as rt},
	Global,
};

#[derive(clap::Subcommand)]
pub enum Command {
	Show {
		#[arg(long)]
		dao: u32,
	},
	Claim {
		#[arg(long)]
		dao: u32,
	},
}

/// What I may claim from a DAO.
#[derive(Serialize)]
struct Claimable {
	dao: u32,
	claimable: Amount,
}

impl fmt::Display for Claimable {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "claimable from DAO #{}: {}", self.dao, self.claimable)
	}
}

/// What a claim paid me.
#[derive(Serialize)]
struct Claimed {
	dao: u32,
	claimed: Amount,
}

impl fmt::Display for Claimed {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "claimed {} from DAO #{}", self.claimed, self.dao)
	}
}

pub async fn run(command: &Command, global: &Global, out: &mut impl Write) -> Result<()> {
	match *command {
		Command::Show { dao } => {
			let who = global.account_id()?;
			let client = chain::connect(&global.url).await?;
			let at = client.at_finalized().await?;
			existing_dao(&at, dao).await?;
			let claimable = Amount::coop(at.claimable(dao, &who).await?);
			print(out, global.json, &Claimable { dao, claimable })
		},
		Command::Claim { dao } => {
			let account = global.account()?;
			let client = chain::connect(&global.url).await?;
			let at = client.at_finalized().await?;
			let before = at.claimable(dao, &account.account_id()).await?;
			if before == 0 {
				bail!("nothing to claim from DAO #{dao}");
			}
			let tx = rt::transactions().dataset_tokens().claim_rewards(dao);
			let events = chain::submit(&client, &tx, &account.keypair).await?;
			let paid = events
				.find_first::<rt::dataset_tokens::events::RewardsClaimed>()
				.transpose()?
				.map(|e| e.amount)
				.unwrap_or(before);
			print(out, global.json, &Claimed { dao, claimed: Amount::coop(paid) })
		},
	}
}
