//! `datacoop dao`: the data DAOs on chain (list, show) and registering a new one (create).

use std::{fmt, io::Write};

use anyhow::{anyhow, Result};
use datacoop_envelope::Recipient;
use datacoop_storage::BlobHash;
use serde::Serialize;

use super::{existing_dao, parse_address, permill, print, Amount, List, Token};
use crate::{
	chain::{self, datacoop as rt},
	Global,
};

// Parsed once per run: boxing `create`'s arguments would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
pub enum Command {
	List,
	Show {
		id: u32,
	},
	Create(CreateArgs),
	/// Give the DAO to its token holders for good: from then on only their proposals (see
	/// `datacoop proposal`) change its rules, collective or retirement.
	HandOver {
		id: u32,
	},
}

#[derive(clap::Args)]
pub struct CreateArgs {
	#[arg(long)]
	pub name: String,
	#[arg(long, default_value = "")]
	pub metadata_uri: String,
	#[arg(long)]
	pub token_name: String,
	#[arg(long)]
	pub token_symbol: String,
	/// The collective server's encryption key (age1…).
	#[arg(long)]
	pub collective_key: String,
	/// Its attestation signer (sr25519 public key, 0x…, or an SS58 address).
	#[arg(long)]
	pub signer: String,
	#[arg(long)]
	pub endpoint: String,
	/// 0x + 64 hex digits.
	#[arg(long)]
	pub measurement: String,
	/// The collective's consent to serve the DAO this account is about to create (0x + 128 hex
	/// digits): what `datacoop-collective prove --next --admin ADDRESS` prints.
	#[arg(long)]
	pub key_proof: String,
	#[arg(long, default_value_t = 1)]
	pub min_size: u64,
	#[arg(long, default_value_t = 1 << 30)]
	pub max_size: u64,
	/// Dataset tokens (in units of 10^-12) minted for a contribution scored 100 %.
	#[arg(long, default_value_t = 1_000_000_000_000)]
	pub reward: u128,
	/// Minimum overall score, in parts per million.
	#[arg(long, default_value_t = 500_000)]
	pub min_score: u32,
	/// Contribution deposit, in planck.
	#[arg(long, default_value_t = 1_000_000_000_000)]
	pub deposit: u128,
	#[arg(long, default_value_t = 100)]
	pub voting_period: u32,
	#[arg(long, default_value_t = 200_000)]
	pub quorum: u32,
	#[arg(long, default_value_t = 500_000)]
	pub approval: u32,
	/// Share of every access fee paid to the token holders, in parts per million; the rest
	/// goes to the DAO's treasury.
	#[arg(long, default_value_t = 800_000)]
	pub holders_share: u32,
}

pub async fn run(command: &Command, global: &Global, out: &mut impl Write) -> Result<()> {
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	match command {
		Command::List => {
			let mut daos = Vec::new();
			for id in 0..at.next_dao_id().await? {
				if let Some(d) = at.dao(id).await? {
					daos.push(view(id, &d));
				}
			}
			print(out, global.json, &List::new(daos, "no DAOs yet"))
		},
		Command::Show { id } => {
			print(out, global.json, &Shown(view(*id, &existing_dao(&at, *id).await?)))
		},
		Command::Create(args) => create(args, &client, global, out).await,
		Command::HandOver { id } => {
			let dao = existing_dao(&at, *id).await?;
			if dao.governed {
				return Err(anyhow!("DAO #{id} is already governed by its token holders"));
			}
			let account = global.account()?;
			if dao.admin != account.account_id() {
				return Err(anyhow!("only DAO #{id}'s admin {} may hand it over", dao.admin));
			}
			let tx = rt::transactions().data_daos().hand_over(*id);
			chain::submit(&client, &tx, &account.keypair).await?;
			print(out, global.json, &HandedOver { id: *id })
		},
	}
}

/// A collective server as typed on the command line: its encryption key (age1…), its
/// attestation signer (0x + 64 hex digits, or an SS58 address), its endpoint and measurement.
pub(super) fn collective(
	key: &str,
	signer: &str,
	endpoint: &str,
	measurement: &str,
) -> Result<rt::runtime_types::datacoop_primitives::dao::Collective<Vec<u8>>> {
	let key: Recipient = key.parse().map_err(|e| anyhow!("--collective-key: {e}"))?;
	let signer = if let Some(hex) = signer.strip_prefix("0x") {
		let mut b = [0u8; 32];
		hex::decode_to_slice(hex, &mut b)
			.map_err(|_| anyhow!("--signer: 0x + 64 hex digits, or an SS58 address"))?;
		b
	} else {
		parse_address(signer)?.0
	};
	let measurement: BlobHash =
		measurement.parse().map_err(|_| anyhow!("--measurement: 0x + 64 hex digits"))?;
	Ok(rt::runtime_types::datacoop_primitives::dao::Collective {
		encryption_key: key.to_bytes(),
		attestation_signer: signer,
		endpoint: endpoint.as_bytes().to_vec(),
		measurement: subxt::utils::H256(measurement.0),
	})
}

/// `--key-proof` as typed, checked to be `collective`'s attestation key's consent to serve DAO
/// `dao_id` on the chain of `genesis` (what the chain checks): the DAO `creator` creates with
/// that id when there is a creator, else the existing DAO. A wrong one is said before anything
/// is signed or paid.
pub(super) fn key_proof(
	text: &str,
	genesis: [u8; 32],
	creator: Option<&[u8; 32]>,
	dao_id: u32,
	collective: &rt::runtime_types::datacoop_primitives::dao::Collective<Vec<u8>>,
) -> Result<[u8; 64]> {
	use datacoop_primitives::dao::{collective_key_create_payload, collective_key_payload};
	let mut proof = [0u8; 64];
	hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut proof)
		.map_err(|_| anyhow!("--key-proof: 0x + 128 hex digits"))?;
	let key = &collective.encryption_key;
	let payload = match creator {
		Some(creator) => collective_key_create_payload(&genesis, creator, dao_id, key),
		None => collective_key_payload(&genesis, dao_id, key),
	};
	let signed = subxt_signer::sr25519::verify(
		&subxt_signer::sr25519::Signature(proof),
		payload,
		&subxt_signer::sr25519::PublicKey(collective.attestation_signer),
	);
	if !signed {
		return Err(match creator.map(|c| subxt::utils::AccountId32(*c)) {
			Some(creator) => anyhow!(
				"--key-proof is not the collective's consent to serve the DAO {creator} creates \
				 as #{dao_id} on this chain with these keys: ask its operator for \
				 `datacoop-collective prove --name NAME --next --admin {creator}`"
			),
			None => anyhow!(
				"--key-proof is not the collective's consent to serve DAO #{dao_id} on this \
				 chain with these keys: ask its operator for `datacoop-collective prove --name \
				 NAME --dao {dao_id}`"
			),
		});
	}
	Ok(proof)
}

/// A DAO handed over to its holders.
#[derive(Serialize)]
struct HandedOver {
	id: u32,
}

impl fmt::Display for HandedOver {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "DAO #{} is governed by its token holders now", self.id)
	}
}

/// A DAO as the wallet shows it. Its text is `dao list`'s line.
#[derive(Serialize)]
struct DaoView {
	id: u32,
	name: String,
	metadata_uri: String,
	token_name: String,
	token_symbol: String,
	admin: String,
	/// Whether only its holders' proposals change it.
	governed: bool,
	status: &'static str,
	collective: CollectiveView,
	rules: RulesView,
	created_at: u32,
}

/// The DAO's collective server: where contributions are judged, and by which code and key.
#[derive(Serialize)]
struct CollectiveView {
	encryption_key: String,
	attestation_signer: String,
	endpoint: String,
	measurement: String,
}

#[derive(Serialize)]
pub(super) struct RulesView {
	min_contribution_size: u64,
	max_contribution_size: u64,
	reward_at_full_score: Amount,
	min_score: String,
	/// In COOP, for people (`1 COOP`), in JSON too.
	contribution_deposit: String,
	voting_period_blocks: u32,
	quorum: String,
	approval_threshold: String,
	holders_share: String,
}

/// `rules` as the wallet shows them, dataset-token amounts in `token`.
pub(super) fn rules_view(rules: &chain::DaoRules, token: &Token) -> RulesView {
	RulesView {
		min_contribution_size: rules.min_contribution_size,
		max_contribution_size: rules.max_contribution_size,
		reward_at_full_score: token.amount(rules.reward_at_full_score),
		min_score: permill(rules.min_score.deconstruct()),
		contribution_deposit: Amount::coop(rules.contribution_deposit).to_string(),
		voting_period_blocks: rules.voting_period,
		quorum: permill(rules.quorum.deconstruct()),
		approval_threshold: permill(rules.approval_threshold.deconstruct()),
		holders_share: permill(rules.holders_share.deconstruct()),
	}
}

fn view(id: u32, d: &chain::DaoInfo) -> DaoView {
	use datacoop_primitives::dao::DaoStatus;
	DaoView {
		id,
		name: chain::text(&d.name),
		metadata_uri: chain::text(&d.metadata_uri),
		token_name: chain::text(&d.token.name),
		token_symbol: chain::text(&d.token.symbol),
		admin: d.admin.to_string(),
		governed: d.governed,
		status: match d.status {
			DaoStatus::Active => "active",
			DaoStatus::Retired => "retired",
		},
		collective: CollectiveView {
			encryption_key: Recipient::from_bytes(d.collective.encryption_key).to_string(),
			attestation_signer: format!("0x{}", hex::encode(d.collective.attestation_signer)),
			endpoint: chain::text(&d.collective.endpoint),
			measurement: format!("{:?}", d.collective.measurement),
		},
		rules: rules_view(&d.rules, &Token::of(d)),
		created_at: d.created_at,
	}
}

impl fmt::Display for DaoView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "#{:<4} {:<10} {:<8} {}", self.id, self.token_symbol, self.status, self.name)
	}
}

/// `dao show`: the whole record; its text is the JSON, indented.
#[derive(Serialize)]
#[serde(transparent)]
struct Shown(DaoView);

impl fmt::Display for Shown {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		f.write_str(&serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?)
	}
}

/// A DAO just registered.
#[derive(Serialize)]
struct Created {
	id: u32,
}

impl fmt::Display for Created {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "created DAO #{}", self.id)
	}
}

async fn create(
	args: &CreateArgs,
	client: &chain::Chain,
	global: &Global,
	out: &mut impl Write,
) -> Result<()> {
	for (flag, parts) in [
		("--min-score", args.min_score),
		("--quorum", args.quorum),
		("--approval", args.approval),
		("--holders-share", args.holders_share),
	] {
		if parts > 1_000_000 {
			return Err(anyhow!("{flag}: parts per million, at most 1000000 (100%), not {parts}"));
		}
	}
	let collective =
		collective(&args.collective_key, &args.signer, &args.endpoint, &args.measurement)?;
	// For this account's DAO with the id it gets: the next one, as the chain says now.
	let account = global.account()?;
	let creator = account.account_id().0;
	let next = client.at_best().await?.next_dao_id().await?;
	let key_proof =
		key_proof(&args.key_proof, client.genesis_hash(), Some(&creator), next, &collective)?;
	use datacoop_client::{subxt::utils::Static, DaoRules};
	use rt::runtime_types::datacoop_primitives::dao::TokenInfo;
	use sp_runtime::Permill;
	let tx = rt::transactions().data_daos().create(
		args.name.clone().into_bytes(),
		args.metadata_uri.clone().into_bytes(),
		TokenInfo {
			name: args.token_name.clone().into_bytes(),
			symbol: args.token_symbol.clone().into_bytes(),
		},
		collective,
		Static(DaoRules {
			min_contribution_size: args.min_size,
			max_contribution_size: args.max_size,
			reward_at_full_score: args.reward,
			min_score: Permill::from_parts(args.min_score),
			contribution_deposit: args.deposit,
			voting_period: args.voting_period,
			quorum: Permill::from_parts(args.quorum),
			approval_threshold: Permill::from_parts(args.approval),
			holders_share: Permill::from_parts(args.holders_share),
		}),
		key_proof,
	);
	let events = chain::submit(client, &tx, &account.keypair).await?;
	let created = events
		.find_first::<rt::data_daos::events::Created>()
		.ok_or_else(|| anyhow!("no Created event"))??;
	print(out, global.json, &Created { id: created.dao_id })
}
