//! `datacoop proposal`: a DAO's governance. Proposing an action (create), the open proposals
//! (list, show), voting with my dataset tokens (vote), closing a proposal whose vote ended
//! (close), and lifting the freeze of my ended votes (unlock).

use std::{fmt, io::Write};

use anyhow::{anyhow, bail, Result};
use datacoop_client::subxt::utils::Static;
use datacoop_primitives::governance::{passes, Action, Scope};
use serde::Serialize;
use sp_runtime::Permill;

use super::{
	dao::{collective, key_proof, rules_view, RulesView},
	existing_dao, parse_address, parse_coop, parse_scope, permill, print, scope_name, span, Amount,
	Duration, List, Token,
};
use crate::{
	chain::{self, datacoop as rt},
	Global,
};

#[derive(clap::Subcommand)]
pub enum Command {
	/// Propose an action for a DAO. Holds the chain's proposal deposit until it is closed; a
	/// grant-access proposal also holds its fee, paid if the grant is made, refunded if not.
	Create(CreateArgs),
	/// A DAO's open proposals.
	List {
		#[arg(long)]
		dao: u32,
	},
	/// One open proposal: its action, tally, and whether it would pass if closed now.
	Show { id: u32 },
	/// Vote on a proposal with my tokens of its DAO; again to change my vote. The tokens
	/// cannot move until the vote ends.
	Vote(VoteArgs),
	/// Close a proposal whose vote ended (anyone may): runs its action if it passed.
	Close { id: u32 },
	/// Lift the freeze on my tokens of a DAO from votes that ended.
	Unlock {
		#[arg(long)]
		dao: u32,
	},
}

#[derive(clap::Args)]
pub struct CreateArgs {
	#[arg(long)]
	pub dao: u32,
	/// Where the proposal is explained (a URL, an IPFS address).
	#[arg(long, default_value = "")]
	pub description: String,
	#[command(subcommand)]
	pub action: ActionArgs,
}

// Parsed once per run: boxing the larger variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
pub enum ActionArgs {
	/// Grant me access to the DAO's data for a fee (held while the vote runs).
	GrantAccess {
		/// full, anonymized or aggregate:N.
		#[arg(long, value_parser = parse_scope)]
		scope: Scope,
		/// How long from the close: 30d, 12h or 600b (blocks).
		#[arg(long)]
		duration: Duration,
		/// 12.5COOP, or planck.
		#[arg(long, value_parser = parse_coop)]
		fee: u128,
	},
	/// End a grant now.
	RevokeAccess {
		#[arg(long)]
		grant: u64,
	},
	/// Let anyone buy a scope at a price per day, without a vote.
	SetOffer {
		#[arg(long, value_parser = parse_scope)]
		scope: Scope,
		#[arg(long, value_parser = parse_coop)]
		price_per_day: u128,
		#[arg(long)]
		max_days: u32,
	},
	/// Withdraw the offer of a scope.
	RemoveOffer {
		#[arg(long, value_parser = parse_scope)]
		scope: Scope,
	},
	/// Change the DAO's rules: the ones given; the others stay as they are now.
	UpdateRules(RulesChange),
	/// Replace the DAO's collective server.
	UpdateCollective {
		/// The new server's encryption key (age1…).
		#[arg(long)]
		collective_key: String,
		/// Its attestation signer (0x…, or an SS58 address).
		#[arg(long)]
		signer: String,
		#[arg(long)]
		endpoint: String,
		/// 0x + 64 hex digits.
		#[arg(long)]
		measurement: String,
		/// The new server's consent to serve this DAO (0x + 128 hex digits): what
		/// `datacoop-collective prove --dao ID` prints.
		#[arg(long)]
		key_proof: String,
	},
	/// Close the DAO to new contributions, proposals and purchases.
	Retire,
	/// Pay from the DAO's treasury.
	TreasurySpend {
		/// SS58 address.
		#[arg(long)]
		to: String,
		/// 12.5COOP, or planck.
		#[arg(long, value_parser = parse_coop)]
		amount: u128,
	},
}

/// The rules an update changes; shares in parts per million.
#[derive(clap::Args)]
pub struct RulesChange {
	#[arg(long)]
	pub min_size: Option<u64>,
	#[arg(long)]
	pub max_size: Option<u64>,
	/// Dataset tokens (smallest unit) for a contribution scored 100%.
	#[arg(long)]
	pub reward: Option<u128>,
	#[arg(long)]
	pub min_score: Option<u32>,
	/// 12.5COOP, or planck.
	#[arg(long, value_parser = parse_coop)]
	pub deposit: Option<u128>,
	/// In blocks.
	#[arg(long)]
	pub voting_period: Option<u32>,
	#[arg(long)]
	pub quorum: Option<u32>,
	#[arg(long)]
	pub approval: Option<u32>,
	#[arg(long)]
	pub holders_share: Option<u32>,
}

#[derive(clap::Args)]
pub struct VoteArgs {
	pub id: u32,
	/// Vote for (aye) or against (nay).
	#[arg(value_parser = ["aye", "nay"])]
	pub choice: String,
	/// Tokens to vote with, in the token's smallest unit (all I hold if not given).
	#[arg(long)]
	pub amount: Option<u128>,
}

/// What a proposal does, as the wallet shows it.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ActionView {
	GrantAccess { grantee: String, scope: String, duration_blocks: u32, fee: Amount },
	RevokeAccess { grant: u64 },
	SetOffer { scope: String, price_per_day: Amount, max_days: u32 },
	RemoveOffer { scope: String },
	UpdateRules { rules: RulesView },
	UpdateCollective { endpoint: String, measurement: String },
	Retire,
	TreasurySpend { to: String, amount: Amount },
}

impl ActionView {
	fn of(action: &chain::Action, token: &Token) -> ActionView {
		match action {
			Action::GrantAccess { grantee, scope, duration, fee } => ActionView::GrantAccess {
				grantee: grantee.to_string(),
				scope: scope_name(scope),
				duration_blocks: *duration,
				fee: Amount::coop(*fee),
			},
			Action::RevokeAccess { grant_id } => ActionView::RevokeAccess { grant: *grant_id },
			Action::SetOffer { scope, price_per_day, max_days } => ActionView::SetOffer {
				scope: scope_name(scope),
				price_per_day: Amount::coop(*price_per_day),
				max_days: *max_days,
			},
			Action::RemoveOffer { scope } => ActionView::RemoveOffer { scope: scope_name(scope) },
			Action::UpdateRules { rules } => {
				ActionView::UpdateRules { rules: rules_view(rules, token) }
			},
			Action::UpdateCollective { collective, .. } => ActionView::UpdateCollective {
				endpoint: chain::text(&collective.endpoint),
				measurement: format!("{:?}", collective.measurement),
			},
			Action::Retire => ActionView::Retire,
			Action::TreasurySpend { to, amount } => {
				ActionView::TreasurySpend { to: to.to_string(), amount: Amount::coop(*amount) }
			},
		}
	}
}

impl fmt::Display for ActionView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			ActionView::GrantAccess { grantee, scope, duration_blocks, fee } => write!(
				f,
				"grant {scope} access to {grantee} for {duration_blocks} blocks, fee {fee}"
			),
			ActionView::RevokeAccess { grant } => write!(f, "revoke grant #{grant}"),
			ActionView::SetOffer { scope, price_per_day, max_days } => {
				write!(f, "offer {scope} access at {price_per_day} a day, up to {max_days} days")
			},
			ActionView::RemoveOffer { scope } => write!(f, "withdraw the {scope} offer"),
			ActionView::UpdateRules { .. } => f.write_str("change the rules"),
			ActionView::UpdateCollective { endpoint, .. } => {
				write!(f, "move to the collective server at {endpoint}")
			},
			ActionView::Retire => f.write_str("retire the DAO"),
			ActionView::TreasurySpend { to, amount } => {
				write!(f, "pay {amount} from the treasury to {to}")
			},
		}
	}
}

/// An open proposal as the wallet shows it.
#[derive(Serialize)]
struct ProposalView {
	id: u32,
	dao: u32,
	proposer: String,
	action: ActionView,
	description: String,
	deposit: Amount,
	escrow: Amount,
	/// The first block in which it no longer takes votes and may be closed.
	ends: u32,
	/// Whether it still takes votes.
	voting: bool,
	ayes: Amount,
	nays: Amount,
	quorum: String,
	approval_threshold: String,
	/// Whether it would pass if closed with the votes and supply of now.
	passing: bool,
	#[serde(skip)]
	left: String,
}

impl ProposalView {
	fn of(p: &chain::ProposalInfo, now: u32, supply: u128, token: &Token, block_ms: u64) -> Self {
		ProposalView {
			id: p.id,
			dao: p.dao_id,
			proposer: p.proposer.to_string(),
			action: ActionView::of(&p.action, token),
			description: chain::text(&p.description_uri),
			deposit: Amount::coop(p.deposit),
			escrow: Amount::coop(p.escrow),
			ends: p.ends,
			voting: now < p.ends,
			ayes: token.amount(p.ayes),
			nays: token.amount(p.nays),
			quorum: permill(p.quorum.deconstruct()),
			approval_threshold: permill(p.approval_threshold.deconstruct()),
			passing: passes(p.ayes, p.nays, supply, p.quorum, p.approval_threshold),
			left: span(p.ends.saturating_sub(now), block_ms),
		}
	}
}

impl fmt::Display for ProposalView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		let when = if self.voting {
			format!("voting, {} left", self.left)
		} else {
			"vote ended, ready to close".into()
		};
		let outcome = if self.passing { "passing" } else { "not passing" };
		write!(
			f,
			"#{:<4} {} ({when}; ayes {}, nays {}: {outcome})",
			self.id, self.action, self.ayes, self.nays
		)
	}
}

/// `proposal show`: the whole proposal; its text is the JSON, indented.
#[derive(Serialize)]
#[serde(transparent)]
struct Shown(ProposalView);

impl fmt::Display for Shown {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		f.write_str(&serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?)
	}
}

/// A proposal just made.
#[derive(Serialize)]
struct Proposed {
	id: u32,
	dao: u32,
	ends: u32,
}

impl fmt::Display for Proposed {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "proposal #{} for DAO #{}: voting until block {}", self.id, self.dao, self.ends)
	}
}

/// A vote cast.
#[derive(Serialize)]
struct Voted {
	id: u32,
	aye: bool,
	amount: Amount,
}

impl fmt::Display for Voted {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		let choice = if self.aye { "aye" } else { "nay" };
		write!(f, "voted {choice} on proposal #{} with {}", self.id, self.amount)
	}
}

/// A proposal closed.
#[derive(Serialize)]
struct Closed {
	id: u32,
	passed: bool,
	/// Whether its action ran (passed and succeeded).
	executed: bool,
	/// Why the action failed, if it passed and failed.
	error: Option<String>,
}

impl fmt::Display for Closed {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match (&self.error, self.passed) {
			(_, false) => write!(f, "proposal #{} closed: rejected (any fee refunded)", self.id),
			(None, true) => write!(f, "proposal #{} closed: passed and done", self.id),
			(Some(e), true) => write!(
				f,
				"proposal #{} closed: passed, but its action failed ({e}); nothing changed, any fee refunded",
				self.id
			),
		}
	}
}

/// Tokens freed.
#[derive(Serialize)]
struct Unlocked {
	dao: u32,
	frozen: Amount,
}

impl fmt::Display for Unlocked {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "DAO #{}: {} still frozen by running votes", self.dao, self.frozen)
	}
}

pub async fn run(command: &Command, global: &Global, out: &mut impl Write) -> Result<()> {
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	match command {
		Command::Create(args) => create(args, &client, &at, global, out).await,
		Command::List { dao } => {
			let token = Token::of(&existing_dao(&at, *dao).await?);
			let supply = at.token_supply(*dao).await?;
			let block_ms = at.block_time_ms()?;
			let views = at
				.proposals(*dao)
				.await?
				.iter()
				.map(|p| ProposalView::of(p, at.number(), supply, &token, block_ms))
				.collect();
			print(out, global.json, &List::new(views, "no open proposals"))
		},
		Command::Show { id } => {
			let p = open_proposal(&at, *id).await?;
			let token = Token::of(&existing_dao(&at, p.dao_id).await?);
			let supply = at.token_supply(p.dao_id).await?;
			let view = ProposalView::of(&p, at.number(), supply, &token, at.block_time_ms()?);
			print(out, global.json, &Shown(view))
		},
		Command::Vote(args) => {
			let account = global.account()?;
			// Read at the best block: a proposal or a vote in a block not final yet counts
			// already, and a short vote may end before its proposal is final.
			let best = client.at_best().await?;
			let p = open_proposal(&best, args.id).await?;
			if best.number() >= p.ends {
				bail!("proposal #{}'s vote ended at block {}: close it instead", p.id, p.ends);
			}
			let held = best.token_balance(p.dao_id, &account.account_id()).await?;
			let token = Token::of(&existing_dao(&best, p.dao_id).await?);
			let amount = args.amount.unwrap_or(held);
			if held == 0 {
				bail!("I hold no tokens of DAO #{}: nothing to vote with", p.dao_id);
			}
			if amount == 0 || amount > held {
				bail!("--amount: between 1 and the {} I hold", token.amount(held));
			}
			let aye = args.choice == "aye";
			let tx = rt::transactions().dao_governance().vote(args.id, aye, Some(amount));
			chain::submit(&client, &tx, &account.keypair).await?;
			print(out, global.json, &Voted { id: args.id, aye, amount: token.amount(amount) })
		},
		Command::Close { id } => {
			let account = global.account()?;
			let best = client.at_best().await?;
			let p = open_proposal(&best, *id).await?;
			if best.number() < p.ends {
				let left = span(p.ends - best.number(), at.block_time_ms()?);
				bail!("proposal #{id} is still voting until block {} ({left} left)", p.ends);
			}
			let tx = rt::transactions().dao_governance().close(*id);
			let events = chain::submit(&client, &tx, &account.keypair).await?;
			let closed = events
				.find_first::<rt::dao_governance::events::Closed>()
				.ok_or_else(|| anyhow!("no Closed event"))??;
			let error = match &closed.result {
				Some(Err(e)) => Some(describe(&at, e)),
				_ => None,
			};
			let executed = closed.passed && error.is_none();
			print(out, global.json, &Closed { id: *id, passed: closed.passed, executed, error })
		},
		Command::Unlock { dao } => {
			let account = global.account()?;
			let token = Token::of(&existing_dao(&at, *dao).await?);
			let tx = rt::transactions().dao_governance().unlock(*dao);
			let events = chain::submit(&client, &tx, &account.keypair).await?;
			let unlocked = events
				.find_first::<rt::dao_governance::events::Unlocked>()
				.ok_or_else(|| anyhow!("no Unlocked event"))??;
			print(out, global.json, &Unlocked { dao: *dao, frozen: token.amount(unlocked.frozen) })
		},
	}
}

/// Open proposal `id`, or an error saying where to look.
async fn open_proposal(at: &chain::At, id: u32) -> Result<chain::ProposalInfo> {
	at.proposal(id).await?.ok_or_else(|| {
		anyhow!("there is no open proposal #{id} (closed ones are gone): see `datacoop proposal list --dao N`")
	})
}

/// A failed action's error as `Pallet::Error`.
fn describe(at: &chain::At, e: &rt::runtime_types::sp_runtime::DispatchError) -> String {
	use rt::runtime_types::sp_runtime::DispatchError;
	match e {
		DispatchError::Module(m) => {
			at.module_error(m.index, m.error).unwrap_or_else(|| format!("{e:?}"))
		},
		other => format!("{other:?}"),
	}
}

async fn create(
	args: &CreateArgs,
	client: &chain::Chain,
	at: &chain::At,
	global: &Global,
	out: &mut impl Write,
) -> Result<()> {
	use rt::dao_governance::calls::propose::Action as A;
	let dao = existing_dao(at, args.dao).await?;
	let account = global.account()?;
	let action = match &args.action {
		ActionArgs::GrantAccess { scope, duration, fee } => A::GrantAccess {
			grantee: account.account_id(),
			scope: Static(*scope),
			duration: duration.blocks(at.block_time_ms()?)?,
			fee: *fee,
		},
		ActionArgs::RevokeAccess { grant } => A::RevokeAccess { grant_id: *grant },
		ActionArgs::SetOffer { scope, price_per_day, max_days } => A::SetOffer {
			scope: Static(*scope),
			price_per_day: *price_per_day,
			max_days: *max_days,
		},
		ActionArgs::RemoveOffer { scope } => A::RemoveOffer { scope: Static(*scope) },
		ActionArgs::UpdateRules(change) => {
			A::UpdateRules { rules: Static(change.apply(dao.rules)?) }
		},
		ActionArgs::UpdateCollective {
			collective_key,
			signer,
			endpoint,
			measurement,
			key_proof: proof,
		} => {
			let collective = collective(collective_key, signer, endpoint, measurement)?;
			let key_proof = key_proof(proof, client.genesis_hash(), None, args.dao, &collective)?;
			A::UpdateCollective { collective, key_proof }
		},
		ActionArgs::Retire => A::Retire,
		ActionArgs::TreasurySpend { to, amount } => {
			A::TreasurySpend { to: parse_address(to)?, amount: *amount }
		},
	};
	let tx = rt::transactions().dao_governance().propose(
		args.dao,
		action,
		args.description.clone().into_bytes(),
	);
	let events = chain::submit(client, &tx, &account.keypair).await?;
	let proposed = events
		.find_first::<rt::dao_governance::events::Proposed>()
		.ok_or_else(|| anyhow!("no Proposed event"))??;
	print(
		out,
		global.json,
		&Proposed { id: proposed.proposal_id, dao: args.dao, ends: proposed.ends },
	)
}

impl RulesChange {
	/// `rules` with the changes given.
	fn apply(&self, mut rules: chain::DaoRules) -> Result<chain::DaoRules> {
		let share = |flag: &str, parts: Option<u32>, old: Permill| match parts {
			None => Ok(old),
			Some(p) if p <= 1_000_000 => Ok(Permill::from_parts(p)),
			Some(p) => Err(anyhow!("{flag}: parts per million, at most 1000000 (100%), not {p}")),
		};
		rules.min_contribution_size = self.min_size.unwrap_or(rules.min_contribution_size);
		rules.max_contribution_size = self.max_size.unwrap_or(rules.max_contribution_size);
		rules.reward_at_full_score = self.reward.unwrap_or(rules.reward_at_full_score);
		rules.min_score = share("--min-score", self.min_score, rules.min_score)?;
		rules.contribution_deposit = self.deposit.unwrap_or(rules.contribution_deposit);
		rules.voting_period = self.voting_period.unwrap_or(rules.voting_period);
		rules.quorum = share("--quorum", self.quorum, rules.quorum)?;
		rules.approval_threshold = share("--approval", self.approval, rules.approval_threshold)?;
		rules.holders_share = share("--holders-share", self.holders_share, rules.holders_share)?;
		Ok(rules)
	}
}
