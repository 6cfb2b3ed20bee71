//! `datacoop balance` and `datacoop transfer`: what I hold, COOP and dataset tokens, and
//! sending either.

use std::{fmt, io::Write};

use anyhow::{bail, Result};
use serde::Serialize;

use super::{existing_dao, parse_address, print, Amount, Token};
use crate::{
	chain::{self, datacoop as rt},
	Global,
};

#[derive(clap::Args)]
pub struct Args {
	#[arg(long)]
	pub dao: Option<u32>,
}

#[derive(clap::Args)]
pub struct TransferArgs {
	/// SS58 address.
	pub to: String,
	/// In planck (10^-12 COOP) for native tokens; in the dataset token's smallest unit for
	/// dataset tokens.
	pub amount: u128,
	#[arg(long)]
	pub dao: Option<u32>,
}

/// My balances: COOP, and each DAO's dataset tokens I hold (or the one asked for, even at 0).
#[derive(Serialize)]
struct Balances {
	address: String,
	native: Amount,
	tokens: Vec<TokenBalance>,
}

#[derive(Serialize)]
struct TokenBalance {
	dao: u32,
	symbol: String,
	balance: Amount,
}

impl fmt::Display for Balances {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "{}: {}", self.address, self.native)?;
		for t in &self.tokens {
			write!(f, "\n  DAO #{} {}", t.dao, t.balance)?;
		}
		Ok(())
	}
}

pub async fn run(args: &Args, global: &Global, out: &mut impl Write) -> Result<()> {
	let who = global.account_id()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let native = at.native_balance(&who).await?.0;
	let daos: Vec<u32> = match args.dao {
		Some(d) => vec![d],
		None => (0..at.next_dao_id().await?).collect(),
	};
	let mut tokens = Vec::new();
	for id in daos {
		let dao = existing_dao(&at, id).await?;
		let balance = at.token_balance(id, &who).await?;
		if balance > 0 || args.dao.is_some() {
			let token = Token::of(&dao);
			tokens.push(TokenBalance {
				dao: id,
				symbol: token.symbol.clone(),
				balance: token.amount(balance),
			});
		}
	}
	let balances = Balances { address: who.to_string(), native: Amount::coop(native), tokens };
	print(out, global.json, &balances)
}

/// A transfer done: COOP, or a DAO's dataset tokens.
#[derive(Serialize)]
struct Sent {
	to: String,
	#[serde(skip_serializing_if = "Option::is_none")]
	dao: Option<u32>,
	amount: Amount,
}

impl fmt::Display for Sent {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self.dao {
			None => write!(f, "sent {} to {}", self.amount, self.to),
			Some(dao) => write!(f, "sent {} of DAO #{dao}'s tokens to {}", self.amount, self.to),
		}
	}
}

pub async fn transfer(args: &TransferArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	let dest = parse_address(&args.to)?;
	if args.amount == 0 {
		bail!("nothing to send: the amount is 0");
	}
	let account = global.account()?;
	let client = chain::connect(&global.url).await?;
	let amount = match args.dao {
		None => {
			let tx = rt::transactions().balances().transfer_keep_alive(dest.into(), args.amount);
			chain::submit(&client, &tx, &account.keypair).await?;
			Amount::coop(args.amount)
		},
		Some(d) => {
			// Read first: its token says how the amount reads, and a DAO that is not there
			// is said so before anything is signed.
			let token = Token::of(&existing_dao(&client.at_finalized().await?, d).await?);
			let tx = rt::transactions().dataset_tokens().transfer(d, dest, args.amount);
			chain::submit(&client, &tx, &account.keypair).await?;
			token.amount(args.amount)
		},
	};
	print(out, global.json, &Sent { to: args.to.clone(), dao: args.dao, amount })
}
