//! `datacoop grant`, `offer` and `treasury`: access to a DAO's data. A DAO's grants (list),
//! one grant or mine (show), buying at a DAO's offer (buy), pruning an expired grant for the
//! reward (prune); the offers on sale (offer list); what a DAO's treasury holds (treasury
//! show).

use std::{fmt, io::Write};

use anyhow::{anyhow, bail, Result};
use datacoop_client::subxt::utils::Static;
use datacoop_primitives::governance::Scope;
use serde::Serialize;

use super::{existing_dao, parse_scope, print, scope_name, span, Amount, List};
use crate::{
	chain::{self, datacoop as rt},
	Global,
};

#[derive(clap::Subcommand)]
pub enum GrantCommand {
	/// A DAO's grants, live and expired (until pruned).
	List {
		#[arg(long)]
		dao: u32,
	},
	/// Grant ID, or with --dao my live grant to that DAO's data.
	Show {
		#[arg(required_unless_present = "dao", conflicts_with = "dao")]
		id: Option<u64>,
		#[arg(long)]
		dao: Option<u32>,
	},
	/// Buy access at the DAO's offer for a scope: price per day × days, paid now, no vote.
	/// Buying again the scope I hold extends it.
	Buy {
		#[arg(long)]
		dao: u32,
		/// full, anonymized or aggregate:N, as the offer names it.
		#[arg(long, value_parser = parse_scope)]
		scope: Scope,
		#[arg(long)]
		days: u32,
	},
	/// Remove an expired grant (anyone may) for the chain's prune reward.
	Prune { id: u64 },
}

#[derive(clap::Subcommand)]
pub enum OfferCommand {
	/// The scopes a DAO sells, at what price.
	List {
		#[arg(long)]
		dao: u32,
	},
}

#[derive(clap::Subcommand)]
pub enum TreasuryCommand {
	/// What a DAO's treasury could spend.
	Show {
		#[arg(long)]
		dao: u32,
	},
}

/// A grant as the wallet shows it.
#[derive(Serialize)]
struct GrantView {
	id: u64,
	dao: u32,
	grantee: String,
	scope: String,
	starts: u32,
	expires: u32,
	paid: Amount,
	/// Whether it holds at the block read.
	live: bool,
	#[serde(skip)]
	left: String,
}

impl GrantView {
	fn of(g: &chain::GrantInfo, now: u32, block_ms: u64) -> GrantView {
		GrantView {
			id: g.id,
			dao: g.dao_id,
			grantee: g.grantee.to_string(),
			scope: scope_name(&g.scope),
			starts: g.starts,
			expires: g.expires,
			paid: Amount::coop(g.paid),
			live: now < g.expires,
			left: span(g.expires.saturating_sub(now), block_ms),
		}
	}
}

impl fmt::Display for GrantView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		let state = if self.live {
			format!("until block {} ({} left)", self.expires, self.left)
		} else {
			format!("expired at block {}", self.expires)
		};
		write!(
			f,
			"grant #{} DAO #{} {} for {}, {state}, paid {}",
			self.id, self.dao, self.scope, self.grantee, self.paid
		)
	}
}

/// An offer as the wallet shows it.
#[derive(Serialize)]
struct OfferView {
	scope: String,
	price_per_day: Amount,
	max_days: u32,
}

impl fmt::Display for OfferView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "{:<14} {} a day, up to {} days", self.scope, self.price_per_day, self.max_days)
	}
}

/// What a purchase bought.
#[derive(Serialize)]
struct Bought {
	grant: GrantView,
	price: Amount,
}

impl fmt::Display for Bought {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "paid {}: {}", self.price, self.grant)
	}
}

/// A grant pruned.
#[derive(Serialize)]
struct Pruned {
	id: u64,
	reward: Amount,
}

impl fmt::Display for Pruned {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "pruned grant #{}, reward {}", self.id, self.reward)
	}
}

/// A treasury.
#[derive(Serialize)]
struct Treasury {
	dao: u32,
	spendable: Amount,
}

impl fmt::Display for Treasury {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "DAO #{}'s treasury: {} to spend (by proposal)", self.dao, self.spendable)
	}
}

pub async fn grant(command: &GrantCommand, global: &Global, out: &mut impl Write) -> Result<()> {
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let block_ms = at.block_time_ms()?;
	match command {
		GrantCommand::List { dao } => {
			existing_dao(&at, *dao).await?;
			let views = at
				.grants(*dao)
				.await?
				.iter()
				.map(|g| GrantView::of(g, at.number(), block_ms))
				.collect();
			print(out, global.json, &List::new(views, "no grants"))
		},
		GrantCommand::Show { id: Some(id), .. } => {
			let g = at.grant(*id).await?.ok_or_else(|| {
				anyhow!("there is no grant #{id} (revoked and pruned ones are gone)")
			})?;
			print(out, global.json, &GrantView::of(&g, at.number(), block_ms))
		},
		GrantCommand::Show { id: None, dao } => {
			let dao = dao.ok_or_else(|| anyhow!("which grant? give its id, or --dao N"))?;
			existing_dao(&at, dao).await?;
			let me = global.account_id()?;
			let g = at.live_grant(dao, &me).await?.ok_or_else(|| {
				anyhow!("I have no live grant to DAO #{dao}: see `datacoop offer list --dao {dao}`")
			})?;
			print(out, global.json, &GrantView::of(&g, at.number(), block_ms))
		},
		GrantCommand::Buy { dao, scope, days } => {
			let account = global.account()?;
			existing_dao(&at, *dao).await?;
			let offers = at.offers(*dao).await?;
			let Some(offer) = offers.iter().find(|o| o.scope == *scope) else {
				bail!(
					"DAO #{dao} offers no {} access: see `datacoop offer list --dao {dao}`",
					scope_name(scope)
				);
			};
			if *days == 0 || *days > offer.max_days {
				bail!("--days: 1 to {} for this offer", offer.max_days);
			}
			let price = offer
				.price_per_day
				.checked_mul(u128::from(*days))
				.ok_or_else(|| anyhow!("--days: the price overflows"))?;
			// The price read here is the most the purchase may cost: if a vote changes the
			// offer before the purchase is in a block, the chain refuses it (PriceAboveLimit)
			// instead of charging the new price.
			let tx = rt::transactions().access_grants().buy(*dao, Static(*scope), *days, price);
			chain::submit(&client, &tx, &account.keypair).await?;
			let after = client.at_best().await?;
			let g = after
				.live_grant(*dao, &account.account_id())
				.await?
				.ok_or_else(|| anyhow!("the purchase went through but no live grant shows"))?;
			let grant = GrantView::of(&g, after.number(), block_ms);
			print(out, global.json, &Bought { grant, price: Amount::coop(price) })
		},
		GrantCommand::Prune { id } => {
			let account = global.account()?;
			let g = at.grant(*id).await?.ok_or_else(|| anyhow!("there is no grant #{id}"))?;
			let best = client.at_best().await?;
			if best.number() < g.expires {
				let left = span(g.expires - best.number(), block_ms);
				bail!("grant #{id} holds until block {} ({left} left)", g.expires);
			}
			let tx = rt::transactions().access_grants().prune(*id);
			let events = chain::submit(&client, &tx, &account.keypair).await?;
			let pruned = events
				.find_first::<rt::access_grants::events::Pruned>()
				.ok_or_else(|| anyhow!("no Pruned event"))??;
			print(out, global.json, &Pruned { id: *id, reward: Amount::coop(pruned.reward) })
		},
	}
}

pub async fn offer(command: &OfferCommand, global: &Global, out: &mut impl Write) -> Result<()> {
	let OfferCommand::List { dao } = command;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	existing_dao(&at, *dao).await?;
	let views = at
		.offers(*dao)
		.await?
		.into_iter()
		.map(|o| OfferView {
			scope: scope_name(&o.scope),
			price_per_day: Amount::coop(o.price_per_day),
			max_days: o.max_days,
		})
		.collect();
	print(out, global.json, &List::new(views, "no offers: access only by proposal"))
}

pub async fn treasury(
	command: &TreasuryCommand,
	global: &Global,
	out: &mut impl Write,
) -> Result<()> {
	let TreasuryCommand::Show { dao } = command;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	existing_dao(&at, *dao).await?;
	let spendable = Amount::coop(at.treasury_balance(*dao).await?);
	print(out, global.json, &Treasury { dao: *dao, spendable })
}
