//! # Load generator: the contribution path under load
//!
//! The benchmarks of issue 14 item 6, against a running dev chain with a storage service and
//! a real collective server beside it (`scripts/bench-load.sh` starts them and runs this):
//!
//! 1. **Flood fairness.** Accounts derived from `//load/flood/{i}` (funded by //Alice) submit
//!    `--junk` contributions to a DAO of their own. Their ciphertext hashes are random, so
//!    their blobs are in no storage: every validator's storage check fails and backs off, and
//!    they stay Pending. Then an honest contribution to `--honest-dao` (served by the real
//!    collective server) goes through the `datacoop` wallet, and the blocks from the block
//!    that included its submission to the block of its `Accepted` event are counted. The
//!    same contribution path before the flood gives the baseline.
//! 2. **Inclusion rate.** `--rate-count` signed `Contributions.submit`s and as many
//!    `Balances.transfer_keep_alive`s, pre-signed from distinct accounts (one nonce stream per
//!    account, `//load/submit/{i}` and `//load/transfer/{i}`), are sent at once, the two kinds
//!    interleaved. Every finalized block is read and the transactions of each kind counted by
//!    hash, until all are in (or `--batch-timeout`). For each kind: included per block and per
//!    second, from the first block that included any of them to the last that included one of
//!    that kind.
//!
//! Every figure printed is measured in the run. Progress goes to stderr, the figures to
//! stdout (`--json` for a machine).

use std::{
	collections::HashMap,
	fmt,
	path::PathBuf,
	process::Stdio,
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc, OnceLock,
	},
	time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use datacoop_e2e::{
	client::{DaoRules, Status as ContributionStatus},
	datacoop::{
		self,
		runtime_types::datacoop_primitives::dao::{Collective, TokenInfo},
	},
	finalized_number, Rpc,
};
use serde::{Deserialize, Serialize};
use sp_runtime::Permill;
use subxt::{
	config::PolkadotExtrinsicParamsBuilder,
	events::Phase,
	transactions::Payload,
	utils::{AccountId32, H256},
	OnlineClient, PolkadotConfig,
};
use subxt_signer::{sr25519::Keypair, SecretUri};

type Client = OnlineClient<PolkadotConfig>;
type At = subxt::client::ClientAtBlock<
	PolkadotConfig,
	subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>,
>;

/// One COOP: 12 decimals.
const UNIT: u128 = 1_000_000_000_000;
/// What each rate-phase transfer moves (above the existential deposit, 0.001 COOP).
const TRANSFER_AMOUNT: u128 = UNIT / 100;
/// The ciphertext size every junk contribution declares.
const JUNK_SIZE: u64 = 1_000;
/// Blocks a pre-signed transaction stays valid (a power of two, under `BlockHashCount`).
const MORTALITY: u64 = 256;
/// Messages in an honest export.
const HONEST_MESSAGES: u32 = 60;
/// Connections the transactions are sent over.
const SENDERS: usize = 4;

#[derive(Parser, Debug)]
#[command(
	name = "load",
	about = "Load generator for the contribution path: flood fairness and the inclusion rate of submit vs transfer (issue 14 item 6). Run it through scripts/bench-load.sh."
)]
struct Args {
	/// The node's RPC endpoint.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// The storage service: the junk contributions name blobs there that do not exist, and
	/// the wallet uploads the honest contribution to it.
	#[arg(long, default_value = "http://127.0.0.1:9900")]
	storage: String,
	/// The DAO served by a real collective server, for the honest contribution (needed by
	/// the flood).
	#[arg(long)]
	honest_dao: Option<u32>,
	/// The account that contributes honestly, through the wallet (a dev URI).
	#[arg(long, default_value = "//Bob")]
	honest_account: String,
	/// The `datacoop` wallet binary (needed by the flood).
	#[arg(long)]
	wallet: Option<PathBuf>,
	/// Junk Pending contributions to flood one DAO with (0: no flood).
	#[arg(long, default_value_t = 10_000)]
	junk: u32,
	/// Accounts sending the junk, one nonce stream each.
	#[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
	flood_accounts: u32,
	/// Signed submits, and as many transfers, for the inclusion rate (0: skip it).
	#[arg(long, default_value_t = 3_000)]
	rate_count: u32,
	/// Accounts per kind for the inclusion rate, one nonce stream each.
	#[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
	rate_accounts: u32,
	/// Transactions sent and not yet seen in a finalized block, at most (the node's pool
	/// holds 8,192 by default; a transaction dropped for the limit would be banned).
	#[arg(long, default_value_t = 6_000)]
	in_flight: u64,
	/// Seconds the honest contribution may take to be judged.
	#[arg(long, default_value_t = 600)]
	honest_timeout: u64,
	/// Seconds a batch of transactions may take to be included.
	#[arg(long, default_value_t = 900)]
	batch_timeout: u64,
	/// The junk DAO's collective endpoint (never called: its blobs are not in storage).
	#[arg(long, default_value = "http://127.0.0.1:1")]
	junk_endpoint: String,
	/// Where the honest exports and the wallet's data go.
	#[arg(long)]
	work_dir: PathBuf,
	/// The command to print with the figures (the script passes its own command line).
	#[arg(long)]
	command: Option<String>,
	/// Print the figures as JSON.
	#[arg(long)]
	json: bool,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
	let args = Args::parse();
	START.get_or_init(Instant::now);
	if args.junk > 0 && (args.honest_dao.is_none() || args.wallet.is_none()) {
		bail!("the flood needs --honest-dao and --wallet (or --junk 0)");
	}
	std::fs::create_dir_all(&args.work_dir)
		.with_context(|| format!("cannot create {}", args.work_dir.display()))?;
	let ctx = Ctx::connect(&args.url).await?;
	let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64
		^ u64::from(std::process::id()) << 32;
	let mut random = SplitMix(seed);

	let junk_dao = ctx.create_junk_dao(&args.junk_endpoint, &mut random).await?;
	progress(format!(
		"junk DAO #{junk_dao} registered (random keys, endpoint {})",
		args.junk_endpoint
	));

	// Who sends what.
	let flood = derive_accounts("flood", if args.junk > 0 { args.flood_accounts } else { 0 })?;
	let flood_counts = spread(args.junk, flood.len());
	let rate_n = if args.rate_count > 0 { args.rate_accounts } else { 0 };
	let submitters = derive_accounts("submit", rate_n)?;
	let transferrers = derive_accounts("transfer", rate_n)?;
	let rate_counts = spread(args.rate_count, submitters.len());
	let sink: AccountId32 = keypair("//load/sink")?.public_key().into();

	let costs = ctx.costs(junk_dao, &args.storage, &sink).await?;
	progress(format!(
		"each submit holds {} (contribution) + {} (record), fee about {}; a transfer's fee about {}",
		coop(costs.deposit),
		coop(costs.record_deposit),
		coop(costs.submit_fee),
		coop(costs.transfer_fee)
	));
	let submit_cost = costs.deposit + costs.record_deposit + 10 * costs.submit_fee;
	let transfer_cost = TRANSFER_AMOUNT + 10 * costs.transfer_fee;
	let mut funding: Vec<(AccountId32, u128)> = Vec::new();
	for (kp, n) in flood.iter().zip(&flood_counts) {
		funding.push((kp.public_key().into(), u128::from(*n) * submit_cost + UNIT));
	}
	for (kp, n) in submitters.iter().zip(&rate_counts) {
		funding.push((kp.public_key().into(), u128::from(*n) * submit_cost + UNIT));
	}
	for (kp, n) in transferrers.iter().zip(&rate_counts) {
		funding.push((kp.public_key().into(), u128::from(*n) * transfer_cost + UNIT));
	}
	ctx.fund(&funding, Duration::from_secs(args.batch_timeout)).await?;

	let mut report = Report {
		command: args
			.command
			.clone()
			.unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" ")),
		junk_dao,
		flood: None,
		rate: None,
		seconds: 0.0,
	};
	if args.junk > 0 {
		let flood = ctx.flood(&args, junk_dao, &flood, &flood_counts, &mut random).await?;
		report.flood = Some(flood);
	}
	if args.rate_count > 0 {
		let rate = ctx
			.rate(
				&args,
				junk_dao,
				(&submitters[..], &transferrers[..]),
				&rate_counts,
				&sink,
				&mut random,
			)
			.await?;
		report.rate = Some(rate);
	}
	report.seconds = elapsed();
	if args.json {
		println!("{}", serde_json::to_string_pretty(&report)?);
	} else {
		print!("{report}");
	}
	Ok(())
}

static START: OnceLock<Instant> = OnceLock::new();

fn elapsed() -> f64 {
	START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

fn progress(message: impl fmt::Display) {
	eprintln!("[{:>7.1}s] {message}", elapsed());
}

fn coop(planck: u128) -> String {
	format!("{}.{:06} COOP", planck / UNIT, (planck % UNIT) / 1_000_000)
}

/// A small PRNG for ciphertext hashes nobody uploaded (not for keys anyone relies on).
struct SplitMix(u64);

impl SplitMix {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	fn bytes32(&mut self) -> [u8; 32] {
		let mut out = [0u8; 32];
		for chunk in out.chunks_mut(8) {
			chunk.copy_from_slice(&self.next().to_le_bytes());
		}
		out[0] |= 1; // never the all-zero hash the chain refuses
		out
	}
}

fn keypair(uri: &str) -> Result<Keypair> {
	let uri: SecretUri = uri.parse().map_err(|e| anyhow!("{uri}: {e:?}"))?;
	Keypair::from_uri(&uri).map_err(|e| anyhow!("deriving a key: {e:?}"))
}

/// `//load/{role}/0` … `//load/{role}/{n-1}`.
fn derive_accounts(role: &str, n: u32) -> Result<Vec<Keypair>> {
	(0..n).map(|i| keypair(&format!("//load/{role}/{i}"))).collect()
}

/// `total` spread over `accounts` as evenly as possible.
fn spread(total: u32, accounts: usize) -> Vec<u32> {
	if accounts == 0 {
		return Vec::new();
	}
	let (each, rest) = (total / accounts as u32, total as usize % accounts);
	(0..accounts).map(|i| each + u32::from(i < rest)).collect()
}

/// The kinds of transaction the batches send.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
	Funding,
	Junk,
	Submit,
	Transfer,
}

const KINDS: [Kind; 4] = [Kind::Funding, Kind::Junk, Kind::Submit, Kind::Transfer];

impl fmt::Display for Kind {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(match self {
			Kind::Funding => "funding transfer",
			Kind::Junk => "junk submit",
			Kind::Submit => "submit",
			Kind::Transfer => "transfer",
		})
	}
}

/// A signed transaction, ready to send.
struct Signed {
	hash: H256,
	bytes: Vec<u8>,
	kind: Kind,
}

/// The block pre-signed transactions are mortal from.
#[derive(Clone, Copy)]
struct Era {
	number: u64,
	hash: H256,
}

fn sign<C: Payload>(
	at: &At,
	era: Era,
	signer: &Keypair,
	nonce: u64,
	call: &C,
	kind: Kind,
) -> Result<Signed> {
	let params = PolkadotExtrinsicParamsBuilder::<PolkadotConfig>::new()
		.nonce(nonce)
		.mortal_from_unchecked(MORTALITY, era.number, era.hash)
		.build();
	let tx = at.transactions().create_signable_offline(call, params)?.sign(signer)?;
	Ok(Signed { hash: tx.hash(), bytes: tx.into_encoded(), kind })
}

/// Per-kind counts.
#[derive(Clone, Copy, Default, Debug, Serialize)]
struct Counts {
	funding: u32,
	junk: u32,
	submit: u32,
	transfer: u32,
}

impl Counts {
	fn slot(&mut self, kind: Kind) -> &mut u32 {
		match kind {
			Kind::Funding => &mut self.funding,
			Kind::Junk => &mut self.junk,
			Kind::Submit => &mut self.submit,
			Kind::Transfer => &mut self.transfer,
		}
	}
	fn add(&mut self, kind: Kind) {
		*self.slot(kind) += 1;
	}
	fn get(&self, kind: Kind) -> u32 {
		match kind {
			Kind::Funding => self.funding,
			Kind::Junk => self.junk,
			Kind::Submit => self.submit,
			Kind::Transfer => self.transfer,
		}
	}
	fn total(&self) -> u32 {
		KINDS.iter().map(|k| self.get(*k)).sum()
	}
	fn merge(&mut self, other: &Counts) {
		for k in KINDS {
			*self.slot(k) += other.get(k);
		}
	}
}

/// What one finalized block held of a batch.
#[derive(Clone, Debug, Serialize)]
struct BlockRow {
	number: u64,
	/// Its timestamp (ms since the epoch).
	timestamp_ms: u64,
	/// All its extrinsics, ours or not (inherents and attestations included).
	extrinsics: usize,
	/// Ours, by kind.
	included: Counts,
	/// Ours that failed (an `ExtrinsicFailed` event), by kind.
	failed: Counts,
}

/// How a batch went: what was sent, what the node refused, and every block since.
struct BatchOutcome {
	sent: Counts,
	refused: Counts,
	refusals: Vec<String>,
	send_seconds: f64,
	/// The blocks from the last finalized one before sending (included, its counts zero).
	rows: Vec<BlockRow>,
	/// Every transaction sent was found in a block.
	complete: bool,
	seconds: f64,
}

impl BatchOutcome {
	fn included(&self) -> Counts {
		let mut c = Counts::default();
		self.rows.iter().for_each(|row| c.merge(&row.included));
		c
	}

	fn failed(&self) -> Counts {
		let mut c = Counts::default();
		self.rows.iter().for_each(|row| c.merge(&row.failed));
		c
	}

	/// Index in `rows` of the first block with any of the batch.
	fn first(&self) -> Option<usize> {
		self.rows.iter().position(|r| r.included.total() > 0)
	}

	/// Index in `rows` of the last block with one of `kind`.
	fn last(&self, kind: Kind) -> Option<usize> {
		self.rows.iter().rposition(|r| r.included.get(kind) > 0)
	}
}

/// The connections to the node.
struct Ctx {
	client: Client,
	rpc: Rpc,
	senders: Vec<Rpc>,
}

/// What one transaction costs, read from the chain.
struct Costs {
	deposit: u128,
	record_deposit: u128,
	submit_fee: u128,
	transfer_fee: u128,
}

impl Ctx {
	async fn connect(url: &str) -> Result<Ctx> {
		let client = Client::from_insecure_url(url)
			.await
			.with_context(|| format!("cannot reach the node at {url}"))?;
		let rpc = datacoop_e2e::rpc(url).await?;
		let mut senders = Vec::new();
		for _ in 0..SENDERS {
			senders.push(datacoop_e2e::rpc(url).await?);
		}
		Ok(Ctx { client, rpc, senders })
	}

	/// The next nonce of `account`, counting what the pool holds.
	async fn nonce(&self, account: &Keypair) -> Result<u64> {
		let id: AccountId32 = account.public_key().into();
		Ok(self.rpc.system_account_next_index(&id).await?)
	}

	async fn finalized(&self) -> Result<(At, Era)> {
		let at = self.client.at_current_block().await?;
		let era = Era { number: at.block_number(), hash: at.block_hash() };
		Ok((at, era))
	}

	/// Registers, as //Alice, the DAO the junk goes to: random collective keys (one key set
	/// serves one DAO), the chain's smallest contribution deposit.
	async fn create_junk_dao(&self, endpoint: &str, random: &mut SplitMix) -> Result<u32> {
		let at = self.client.at_current_block().await?;
		let min_deposit =
			at.constants().entry(datacoop::constants().data_daos().min_contribution_deposit())?;
		// A collective key of its own, which consents to serve the DAO about to be created.
		let server = Keypair::from_secret_key(random.bytes32())
			.map_err(|e| anyhow!("a collective key for the junk DAO: {e}"))?;
		let encryption_key = random.bytes32();
		let next: u32 = at
			.storage()
			.fetch(datacoop::storage().data_daos().next_dao_id(), ())
			.await?
			.decode()?;
		let alice = keypair("//Alice")?;
		let key_proof = datacoop_e2e::fixtures::create_key_proof(
			self.client.genesis_hash().0,
			&alice,
			next,
			&encryption_key,
			&server,
		);
		let tx = datacoop::transactions().data_daos().create(
			b"Load: junk".to_vec(),
			Vec::new(),
			TokenInfo { name: b"Junk".to_vec(), symbol: b"JUNK".to_vec() },
			Collective {
				encryption_key,
				attestation_signer: server.public_key().0,
				endpoint: endpoint.as_bytes().to_vec(),
				measurement: H256(random.bytes32()),
			},
			subxt::utils::Static(DaoRules {
				min_contribution_size: 1,
				max_contribution_size: 1 << 30,
				reward_at_full_score: UNIT,
				min_score: Permill::from_percent(50),
				contribution_deposit: min_deposit,
				voting_period: 100,
				quorum: Permill::from_percent(20),
				approval_threshold: Permill::from_percent(50),
				holders_share: Permill::from_percent(80),
			}),
			key_proof,
		);
		let events = at
			.transactions()
			.sign_and_submit_then_watch_default(&tx, &alice)
			.await
			.map_err(|e| anyhow!("the node refused the junk DAO: {e}"))?
			.wait_for_finalized_success()
			.await
			.map_err(|e| anyhow!("creating the junk DAO: {e}"))?;
		let created = events
			.find_first::<datacoop::data_daos::events::Created>()
			.ok_or_else(|| anyhow!("no Created event for the junk DAO"))??;
		Ok(created.dao_id)
	}

	/// The deposits a submit to `dao` holds, and the fees of a submit and of a transfer.
	async fn costs(&self, dao: u32, storage: &str, sink: &AccountId32) -> Result<Costs> {
		let (at, era) = self.finalized().await?;
		let record_deposit =
			at.constants().entry(datacoop::constants().contributions().record_deposit())?;
		let terms = at
			.runtime_apis()
			.call(datacoop::runtime_apis().data_daos_api().dao(dao))
			.await?
			.ok_or_else(|| anyhow!("the junk DAO #{dao} is not on chain"))?
			.0;
		let probe = keypair("//load/probe")?;
		let submit = junk_submit(dao, storage, &mut SplitMix(7));
		let submit = sign(&at, era, &probe, 0, &submit, Kind::Submit)?;
		let transfer = sign(&at, era, &probe, 0, &transfer_to(sink), Kind::Transfer)?;
		let submit_fee = fee_of(&at, submit).await?;
		let transfer_fee = fee_of(&at, transfer).await?;
		Ok(Costs {
			deposit: terms.rules.contribution_deposit,
			record_deposit,
			submit_fee,
			transfer_fee,
		})
	}

	/// //Alice sends each account its amount; fails unless every transfer succeeded.
	async fn fund(&self, accounts: &[(AccountId32, u128)], timeout: Duration) -> Result<()> {
		let total: u128 = accounts.iter().map(|(_, a)| a).sum();
		let alice = keypair("//Alice")?;
		let alice_id: AccountId32 = alice.public_key().into();
		let (at, era) = self.finalized().await?;
		let free = at
			.storage()
			.fetch(datacoop::storage().system().account(), (alice_id,))
			.await?
			.decode()?
			.data
			.free;
		if free < total + UNIT {
			bail!(
				"//Alice has {} and the accounts need {}: ask for fewer transactions",
				coop(free),
				coop(total)
			);
		}
		progress(format!("//Alice funds {} accounts with {} in all", accounts.len(), coop(total)));
		let nonce = self.rpc.system_account_next_index(&alice_id).await?;
		let mut stream = Vec::with_capacity(accounts.len());
		for (i, (who, amount)) in accounts.iter().enumerate() {
			let call =
				datacoop::transactions().balances().transfer_keep_alive((*who).into(), *amount);
			stream.push(sign(&at, era, &alice, nonce + i as u64, &call, Kind::Funding)?);
		}
		let outcome = self.run_batch(vec![stream], 8_000, timeout).await?;
		let failed = outcome.failed().get(Kind::Funding);
		if !outcome.complete || failed > 0 || outcome.refused.total() > 0 {
			bail!(
				"funding did not go through: {} of {} included, {failed} failed, refused: {:?}",
				outcome.included().get(Kind::Funding),
				accounts.len(),
				outcome.refusals
			);
		}
		progress(format!("funded in {:.1} s", outcome.seconds));
		Ok(())
	}

	/// Sends the streams (each in nonce order, all at once, at most `in_flight` not yet seen in a
	/// finalized block) and reads every finalized block until all are found or `timeout`.
	async fn run_batch(
		&self,
		streams: Vec<Vec<Signed>>,
		in_flight: u64,
		timeout: Duration,
	) -> Result<BatchOutcome> {
		let started = Instant::now();
		let deadline = started + timeout;
		let start_block = finalized_number(&self.rpc).await?;
		let mut wanted = HashMap::new();
		for tx in streams.iter().flatten() {
			wanted.insert(tx.hash, tx.kind);
		}
		let shared = Arc::new(Shared::default());
		let tracker = tokio::spawn(track(
			self.client.clone(),
			self.rpc.clone(),
			start_block,
			wanted,
			shared.clone(),
			deadline,
		));

		let mut senders = Vec::new();
		for (i, stream) in streams.into_iter().enumerate() {
			let rpc = self.senders[i % self.senders.len()].clone();
			let shared = shared.clone();
			senders.push(tokio::spawn(async move {
				send_stream(rpc, stream, shared, in_flight, deadline).await
			}));
		}
		let mut sent = Counts::default();
		let mut refused = Counts::default();
		let mut refusals = Vec::new();
		for sender in senders {
			let (s, r, why) = sender.await?;
			sent.merge(&s);
			refused.merge(&r);
			if let Some(why) = why {
				if refusals.len() < 5 {
					refusals.push(why);
				}
			}
		}
		let send_seconds = started.elapsed().as_secs_f64();
		shared.expected.store(u64::from(sent.total()), Ordering::SeqCst);
		shared.sending_done.store(true, Ordering::SeqCst);
		let rows = tracker.await??;
		let found: u32 = rows.iter().map(|r| r.included.total()).sum();
		Ok(BatchOutcome {
			sent,
			refused,
			refusals,
			send_seconds,
			complete: found == sent.total(),
			rows,
			seconds: started.elapsed().as_secs_f64(),
		})
	}

	/// The flood, with an honest contribution before (baseline) and after it.
	async fn flood(
		&self,
		args: &Args,
		junk_dao: u32,
		accounts: &[Keypair],
		counts: &[u32],
		random: &mut SplitMix,
	) -> Result<FloodReport> {
		let honest_dao = args.honest_dao.expect("checked in main");
		let honest = Honest::new(args)?;
		progress(format!("baseline: an honest contribution to DAO #{honest_dao}, no flood"));
		let baseline = honest.contribute(self, honest_dao, junk_dao, 0).await?;
		progress(format!("baseline: {baseline}"));

		let signing = Instant::now();
		let (at, era) = self.finalized().await?;
		let mut streams = Vec::with_capacity(accounts.len());
		for (kp, n) in accounts.iter().zip(counts) {
			let nonce = self.nonce(kp).await?;
			let mut stream = Vec::with_capacity(*n as usize);
			for j in 0..u64::from(*n) {
				let call = junk_submit(junk_dao, &args.storage, random);
				stream.push(sign(&at, era, kp, nonce + j, &call, Kind::Junk)?);
			}
			streams.push(stream);
		}
		progress(format!(
			"{} junk submits signed by {} accounts in {:.1} s; sending",
			args.junk,
			accounts.len(),
			signing.elapsed().as_secs_f64()
		));
		let outcome = self
			.run_batch(streams, args.in_flight, Duration::from_secs(args.batch_timeout))
			.await?;
		let included = outcome.included().get(Kind::Junk);
		let failed = outcome.failed().get(Kind::Junk);
		let blocks = match (outcome.first(), outcome.last(Kind::Junk)) {
			(Some(a), Some(b)) => (outcome.rows[a].number, outcome.rows[b].number),
			_ => (0, 0),
		};
		progress(format!(
			"junk: {included} included ({failed} failed) in blocks #{}..#{}, sent in {:.1} s, all in after {:.1} s",
			blocks.0, blocks.1, outcome.send_seconds, outcome.seconds
		));
		let (at, _) = self.finalized().await?;
		let pending = pending_of(&at, junk_dao).await?;
		progress(format!(
			"junk DAO #{junk_dao} has {pending} Pending; now the honest contribution"
		));
		let after = honest.contribute(self, honest_dao, junk_dao, 1).await?;
		progress(format!("after the flood: {after}"));
		Ok(FloodReport {
			junk_sent: outcome.sent.get(Kind::Junk),
			junk_refused: outcome.refused.get(Kind::Junk),
			refusals: outcome.refusals,
			junk_included: included,
			junk_failed: failed,
			accounts: accounts.len(),
			junk_blocks: blocks,
			send_seconds: outcome.send_seconds,
			inclusion_seconds: outcome.seconds,
			junk_pending: pending,
			baseline,
			after_flood: after,
		})
	}

	/// N submits and N transfers sent at once; included per block and per second, by kind.
	async fn rate(
		&self,
		args: &Args,
		junk_dao: u32,
		(submitters, transferrers): (&[Keypair], &[Keypair]),
		counts: &[u32],
		sink: &AccountId32,
		random: &mut SplitMix,
	) -> Result<RateReport> {
		let (at, era) = self.finalized().await?;
		let signing = Instant::now();
		let mut streams = Vec::with_capacity(2 * counts.len());
		let transfer = transfer_to(sink);
		for ((s, t), n) in submitters.iter().zip(transferrers).zip(counts) {
			// Interleaved: a submit stream, a transfer stream, ...: neither kind starts first.
			let nonce = self.nonce(s).await?;
			let mut stream = Vec::with_capacity(*n as usize);
			for j in 0..u64::from(*n) {
				let call = junk_submit(junk_dao, &args.storage, random);
				stream.push(sign(&at, era, s, nonce + j, &call, Kind::Submit)?);
			}
			streams.push(stream);
			let nonce = self.nonce(t).await?;
			let mut stream = Vec::with_capacity(*n as usize);
			for j in 0..u64::from(*n) {
				stream.push(sign(&at, era, t, nonce + j, &transfer, Kind::Transfer)?);
			}
			streams.push(stream);
		}
		progress(format!(
			"{0} submits and {0} transfers signed by {1} + {1} accounts in {2:.1} s; sending all at once",
			args.rate_count,
			submitters.len(),
			signing.elapsed().as_secs_f64()
		));
		let outcome = self
			.run_batch(streams, args.in_flight, Duration::from_secs(args.batch_timeout))
			.await?;
		let first = outcome.first();
		let kind_rate = |kind: Kind| -> KindRate {
			let included = outcome.included().get(kind);
			let (blocks, seconds, last_block) = match (first, outcome.last(kind)) {
				(Some(a), Some(b)) => {
					// The window opens at the end of the block before the first inclusion.
					let opened = outcome.rows[a.saturating_sub(1)].timestamp_ms;
					let seconds =
						(outcome.rows[b].timestamp_ms.saturating_sub(opened)) as f64 / 1e3;
					((b - a + 1) as u64, seconds, outcome.rows[b].number)
				},
				_ => (0, 0.0, 0),
			};
			KindRate {
				kind,
				sent: outcome.sent.get(kind),
				refused: outcome.refused.get(kind),
				included,
				failed: outcome.failed().get(kind),
				last_block,
				blocks,
				seconds,
				per_block: if blocks > 0 { f64::from(included) / blocks as f64 } else { 0.0 },
				per_second: if seconds > 0.0 { f64::from(included) / seconds } else { 0.0 },
			}
		};
		let submits = kind_rate(Kind::Submit);
		let transfers = kind_rate(Kind::Transfer);
		let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
		let table = match (first, outcome.last(Kind::Submit).max(outcome.last(Kind::Transfer))) {
			(Some(a), Some(b)) => outcome.rows[a..=b].to_vec(),
			_ => Vec::new(),
		};
		Ok(RateReport {
			count: args.rate_count,
			accounts_per_kind: submitters.len(),
			first_block: first.map(|a| outcome.rows[a].number).unwrap_or(0),
			send_seconds: outcome.send_seconds,
			complete: outcome.complete,
			refusals: outcome.refusals.clone(),
			ratio_per_block: ratio(submits.per_block, transfers.per_block),
			ratio_per_second: ratio(submits.per_second, transfers.per_second),
			submits,
			transfers,
			blocks: table,
		})
	}
}

/// What the senders and the tracker of a batch share.
#[derive(Default)]
struct Shared {
	/// Sent and accepted by the pool.
	sent: AtomicU64,
	/// Seen in a finalized block.
	included: AtomicU64,
	/// What the tracker waits for, once sending is done.
	expected: AtomicU64,
	sending_done: AtomicBool,
}

/// Sends one account's transactions in nonce order; returns what was sent, what was not
/// (the rest of the stream after a refusal) and why.
async fn send_stream(
	rpc: Rpc,
	stream: Vec<Signed>,
	shared: Arc<Shared>,
	in_flight: u64,
	deadline: Instant,
) -> (Counts, Counts, Option<String>) {
	let mut sent = Counts::default();
	let mut refused = Counts::default();
	let mut why = None;
	for tx in &stream {
		if why.is_some() {
			refused.add(tx.kind);
			continue;
		}
		while shared
			.sent
			.load(Ordering::SeqCst)
			.saturating_sub(shared.included.load(Ordering::SeqCst))
			>= in_flight
			&& Instant::now() < deadline
		{
			tokio::time::sleep(Duration::from_millis(50)).await;
		}
		loop {
			match rpc.author_submit_extrinsic(&tx.bytes).await {
				Ok(_) => {
					sent.add(tx.kind);
					shared.sent.fetch_add(1, Ordering::SeqCst);
					break;
				},
				Err(e) => {
					let message = e.to_string();
					// The pool is full for now: wait for a block to empty it.
					let full = message.contains("Immediately Dropped")
						|| message.contains("Priority is too low");
					if full && Instant::now() < deadline {
						tokio::time::sleep(Duration::from_millis(500)).await;
						continue;
					}
					refused.add(tx.kind);
					why = Some(format!("{}: {message}", tx.kind));
					break;
				},
			}
		}
	}
	(sent, refused, why)
}

/// Reads every finalized block after `start` (and `start` itself, for its timestamp) and
/// counts the transactions of `wanted` in each, until all that were sent are found or the
/// deadline passes.
async fn track(
	client: Client,
	rpc: Rpc,
	start: u64,
	mut wanted: HashMap<H256, Kind>,
	shared: Arc<Shared>,
	deadline: Instant,
) -> Result<Vec<BlockRow>> {
	let mut rows = Vec::new();
	let mut next = start;
	let mut found = 0u64;
	loop {
		let finalized = finalized_number(&rpc).await?;
		while next <= finalized {
			let mut tries = 0;
			let row = loop {
				match read_block(&client, next, &mut wanted).await {
					Ok(row) => break row,
					Err(e) if tries < 5 => {
						tries += 1;
						progress(format!("reading block #{next}: {e}; again"));
						tokio::time::sleep(Duration::from_secs(1)).await;
					},
					Err(e) => return Err(e.context(format!("reading block #{next}"))),
				}
			};
			found += u64::from(row.included.total());
			shared.included.store(found, Ordering::SeqCst);
			rows.push(row);
			next += 1;
		}
		let done = shared.sending_done.load(Ordering::SeqCst)
			&& found >= shared.expected.load(Ordering::SeqCst);
		if done || Instant::now() > deadline {
			return Ok(rows);
		}
		tokio::time::sleep(Duration::from_millis(300)).await;
	}
}

async fn read_block(
	client: &Client,
	number: u64,
	wanted: &mut HashMap<H256, Kind>,
) -> Result<BlockRow> {
	let at = client.at_block(number).await?;
	let extrinsics = at.extrinsics().fetch().await?;
	let mut row = BlockRow {
		number,
		timestamp_ms: at
			.storage()
			.fetch(datacoop::storage().timestamp().now(), ())
			.await?
			.decode()?,
		extrinsics: extrinsics.len(),
		included: Counts::default(),
		failed: Counts::default(),
	};
	let mut ours = HashMap::new();
	let mut hashes = Vec::new();
	for ext in extrinsics.iter() {
		let ext = ext?;
		if let Some(kind) = wanted.get(&ext.hash()) {
			row.included.add(*kind);
			ours.insert(ext.index() as u32, *kind);
			hashes.push(ext.hash());
		}
	}
	if !ours.is_empty() {
		for event in at.events().fetch().await?.iter() {
			let event = event?;
			if event.pallet_name() == "System" && event.event_name() == "ExtrinsicFailed" {
				if let Phase::ApplyExtrinsic(i) = event.phase() {
					if let Some(kind) = ours.get(&i) {
						row.failed.add(*kind);
					}
				}
			}
		}
	}
	// Only now: a read that failed half-way is read again whole.
	for hash in hashes {
		wanted.remove(&hash);
	}
	Ok(row)
}

/// The fee `tx` would pay now, less any tip.
async fn fee_of(at: &At, tx: Signed) -> Result<u128> {
	at.transactions()
		.from_bytes(tx.bytes)
		.partial_fee_estimate()
		.await
		.map_err(|e| anyhow!("estimating the fee of a {}: {e}", tx.kind))
}

/// A submit of a blob no storage holds: a random ciphertext hash at `storage`.
fn junk_submit(dao: u32, storage: &str, random: &mut SplitMix) -> impl Payload {
	let hash = random.bytes32();
	let url = format!("{}/blobs/0x{}", storage.trim_end_matches('/'), hex(&hash));
	datacoop::transactions().contributions().submit(dao, url.into_bytes(), H256(hash), JUNK_SIZE)
}

fn transfer_to(sink: &AccountId32) -> impl Payload {
	datacoop::transactions().balances().transfer_keep_alive((*sink).into(), TRANSFER_AMOUNT)
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Pending contributions of `dao`.
async fn pending_of(at: &At, dao: u32) -> Result<u32> {
	let v =
		at.storage().try_fetch(datacoop::storage().contributions().pending_daos(), (dao,)).await?;
	Ok(v.map(|v| v.decode()).transpose()?.unwrap_or(0))
}

/// The honest contributor: the `datacoop` wallet, as a user runs it.
struct Honest {
	wallet: PathBuf,
	url: String,
	storage: String,
	account: String,
	address: AccountId32,
	work_dir: PathBuf,
	timeout: Duration,
	salt: u64,
}

/// What `datacoop contribute --json` prints (the part read here).
#[derive(Deserialize)]
struct Contributed {
	id: u64,
}

impl Honest {
	fn new(args: &Args) -> Result<Honest> {
		Ok(Honest {
			wallet: args.wallet.clone().expect("checked in main"),
			url: args.url.clone(),
			storage: args.storage.clone(),
			account: args.honest_account.clone(),
			address: keypair(&args.honest_account)?.public_key().into(),
			work_dir: args.work_dir.clone(),
			timeout: Duration::from_secs(args.honest_timeout),
			salt: SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs(),
		})
	}

	/// A chat export of the contributor's own messages (the demo DAO's rules), the `nth` of
	/// the run: no two are alike.
	fn export(&self, nth: u32) -> Vec<u8> {
		let first = nth * HONEST_MESSAGES;
		let messages: Vec<serde_json::Value> = (first..first + HONEST_MESSAGES)
			.map(|i| {
				serde_json::json!({
					"account": self.address.to_string(),
					"text": format!("load run {} message {i} about topic {}", self.salt, i % 7),
					"at": 1_700_000_000 + i,
				})
			})
			.collect();
		serde_json::to_vec(&serde_json::json!({ "messages": messages })).expect("JSON values")
	}

	/// Contributes the `nth` export to `dao` with the wallet, then waits for its verdict.
	async fn contribute(
		&self,
		ctx: &Ctx,
		dao: u32,
		junk_dao: u32,
		nth: u32,
	) -> Result<HonestReport> {
		let file = self.work_dir.join(format!("honest-{nth}.json"));
		std::fs::write(&file, self.export(nth))?;
		let started = Instant::now();
		let mut wallet = tokio::process::Command::new(&self.wallet);
		wallet
			.args(["--url", &self.url, "--storage", &self.storage, "--account", &self.account])
			.args(["--json", "contribute"])
			.arg(&file)
			.args(["--dao", &dao.to_string(), "--wait", "0"])
			.env("DATACOOP_KEYSTORE", self.work_dir.join("keys"))
			.env("XDG_DATA_HOME", self.work_dir.join("wallet-data"))
			.env_remove("DATACOOP_ACCOUNT")
			.stdin(Stdio::null())
			.kill_on_drop(true);
		let out = tokio::time::timeout(self.timeout, wallet.output())
			.await
			.map_err(|_| anyhow!("datacoop contribute did not return within {:?}", self.timeout))?
			.with_context(|| format!("cannot run {}", self.wallet.display()))?;
		if !out.status.success() {
			bail!("datacoop contribute failed: {}", String::from_utf8_lossy(&out.stderr).trim());
		}
		let Contributed { id } = serde_json::from_slice(&out.stdout).with_context(|| {
			format!(
				"datacoop contribute printed no contribution: {}",
				String::from_utf8_lossy(&out.stdout)
			)
		})?;
		let wallet_seconds = started.elapsed().as_secs_f64();

		let deadline = started + self.timeout;
		let (submitted_at, verdict, judged_at) = loop {
			let at = ctx.client.at_current_block().await?;
			let c = at
				.runtime_apis()
				.call(datacoop::runtime_apis().contributions_api().contribution(id))
				.await?
				.ok_or_else(|| anyhow!("contribution #{id} is not on chain"))?
				.0;
			let submitted_at = u64::from(c.submitted_at);
			match c.status {
				ContributionStatus::Pending => {},
				ContributionStatus::Accepted { at, .. } => {
					break (submitted_at, "accepted".to_string(), Some(at))
				},
				ContributionStatus::Rejected { reason, at, .. } => {
					let why = format!("rejected: {}", String::from_utf8_lossy(&reason));
					break (submitted_at, why, Some(at));
				},
			}
			if Instant::now() > deadline {
				break (submitted_at, format!("still Pending after {:?}", self.timeout), None);
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		};
		let seconds_to_verdict = started.elapsed().as_secs_f64();
		let included = ctx.client.at_block(submitted_at).await?;
		let junk_pending = pending_of(&included, junk_dao).await?;
		let submitted_ms: u64 =
			included.storage().fetch(datacoop::storage().timestamp().now(), ()).await?.decode()?;
		let (blocks, chain_seconds, event_seen) = match judged_at {
			Some(judged) => {
				let judged = ctx.client.at_block(u64::from(judged)).await?;
				let judged_ms: u64 = judged
					.storage()
					.fetch(datacoop::storage().timestamp().now(), ())
					.await?
					.decode()?;
				let events = judged.events().fetch().await?;
				let seen = events
					.find::<datacoop::contributions::events::Accepted>()
					.filter_map(|e| e.ok())
					.any(|e| e.contribution_id == id);
				(
					Some(judged.block_number() - submitted_at),
					Some(judged_ms.saturating_sub(submitted_ms) as f64 / 1e3),
					seen,
				)
			},
			None => (None, None, false),
		};
		Ok(HonestReport {
			contribution: id,
			dao,
			verdict,
			submitted_at,
			judged_at: judged_at.map(u64::from),
			blocks,
			chain_seconds,
			accepted_event_seen: event_seen,
			junk_pending_at_submission: junk_pending,
			wallet_seconds,
			seconds_to_verdict,
		})
	}
}

// The figures, printed as text or JSON.

#[derive(Serialize)]
struct Report {
	command: String,
	junk_dao: u32,
	flood: Option<FloodReport>,
	rate: Option<RateReport>,
	/// The whole run, setup included.
	seconds: f64,
}

#[derive(Serialize)]
struct FloodReport {
	accounts: usize,
	junk_sent: u32,
	junk_refused: u32,
	refusals: Vec<String>,
	junk_included: u32,
	junk_failed: u32,
	/// The first and the last block that included junk.
	junk_blocks: (u64, u64),
	send_seconds: f64,
	/// From the first junk sent to the last seen in a finalized block.
	inclusion_seconds: f64,
	/// Pending in the junk DAO when the honest contribution was made.
	junk_pending: u32,
	baseline: HonestReport,
	after_flood: HonestReport,
}

#[derive(Serialize)]
struct HonestReport {
	contribution: u64,
	dao: u32,
	verdict: String,
	/// The block that included its submission.
	submitted_at: u64,
	/// The block of its verdict (the `Accepted` event).
	judged_at: Option<u64>,
	/// `judged_at - submitted_at`.
	blocks: Option<u64>,
	/// Between the two blocks' timestamps.
	chain_seconds: Option<f64>,
	accepted_event_seen: bool,
	junk_pending_at_submission: u32,
	/// The wallet's run: encrypt, upload, submit, wait for finality.
	wallet_seconds: f64,
	/// From starting the wallet to seeing the verdict in a finalized block.
	seconds_to_verdict: f64,
}

#[derive(Serialize)]
struct KindRate {
	kind: Kind,
	sent: u32,
	refused: u32,
	included: u32,
	failed: u32,
	last_block: u64,
	/// From the first block with any of the batch to the last with one of this kind.
	blocks: u64,
	seconds: f64,
	per_block: f64,
	per_second: f64,
}

#[derive(Serialize)]
struct RateReport {
	count: u32,
	accounts_per_kind: usize,
	first_block: u64,
	send_seconds: f64,
	complete: bool,
	refusals: Vec<String>,
	submits: KindRate,
	transfers: KindRate,
	ratio_per_block: f64,
	ratio_per_second: f64,
	blocks: Vec<BlockRow>,
}

impl fmt::Display for HonestReport {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "contribution #{} to DAO #{}: {}", self.contribution, self.dao, self.verdict)?;
		match (self.judged_at, self.blocks, self.chain_seconds) {
			(Some(judged), Some(blocks), Some(seconds)) => write!(
				f,
				"; submitted in block #{}, judged in #{judged}: {blocks} blocks ({seconds:.0} s of chain time); Accepted event {}",
				self.submitted_at,
				if self.accepted_event_seen { "seen in that block" } else { "NOT seen in that block" }
			)?,
			_ => write!(f, "; submitted in block #{}", self.submitted_at)?,
		}
		write!(
			f,
			"; {} junk Pending at submission; wallet {:.1} s, verdict seen after {:.1} s",
			self.junk_pending_at_submission, self.wallet_seconds, self.seconds_to_verdict
		)
	}
}

impl fmt::Display for KindRate {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(
			f,
			"{:>9}s: {} sent, {} included ({} failed, {} refused by the pool) by block #{}: {:.1} per block over {} blocks, {:.1} per second over {:.1} s",
			self.kind.to_string(),
			self.sent,
			self.included,
			self.failed,
			self.refused,
			self.last_block,
			self.per_block,
			self.blocks,
			self.per_second,
			self.seconds
		)
	}
}

impl fmt::Display for Report {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		writeln!(f, "command: {}", self.command)?;
		if let Some(flood) = &self.flood {
			writeln!(f, "\n1. Flood fairness (junk DAO #{})", self.junk_dao)?;
			writeln!(
				f,
				"   junk: {} sent from {} accounts ({} refused), {} included ({} failed) in blocks #{}..#{}; sent in {:.1} s, all in finalized blocks after {:.1} s; {} Pending in the junk DAO",
				flood.junk_sent,
				flood.accounts,
				flood.junk_refused,
				flood.junk_included,
				flood.junk_failed,
				flood.junk_blocks.0,
				flood.junk_blocks.1,
				flood.send_seconds,
				flood.inclusion_seconds,
				flood.junk_pending
			)?;
			for why in &flood.refusals {
				writeln!(f, "   refused: {why}")?;
			}
			writeln!(f, "   baseline (before the flood): {}", flood.baseline)?;
			writeln!(f, "   after the flood:             {}", flood.after_flood)?;
			if let Some(blocks) = flood.after_flood.blocks {
				writeln!(
					f,
					"   => the honest contribution was judged {blocks} blocks after its inclusion with {} junk Pending (aim: 10; {} without the flood)",
					flood.after_flood.junk_pending_at_submission,
					flood.baseline.blocks.map_or("not judged".into(), |b| b.to_string())
				)?;
			}
		}
		if let Some(rate) = &self.rate {
			writeln!(
				f,
				"\n2. Inclusion rate: {0} submits and {0} transfers from {1} + {1} accounts, sent in {2:.1} s{3}",
				rate.count,
				rate.accounts_per_kind,
				rate.send_seconds,
				if rate.complete { "" } else { " (NOT all included before the deadline)" }
			)?;
			writeln!(f, "   {}", rate.submits)?;
			writeln!(f, "   {}", rate.transfers)?;
			for why in &rate.refusals {
				writeln!(f, "   refused: {why}")?;
			}
			writeln!(
				f,
				"   => submits / transfers: {:.2} per block, {:.2} per second (aim: at least 0.9)",
				rate.ratio_per_block, rate.ratio_per_second
			)?;
			writeln!(f, "   block     time(ms)  extrinsics  submits  transfers  failed")?;
			let t0 = rate.blocks.first().map_or(0, |r| r.timestamp_ms);
			for row in &rate.blocks {
				writeln!(
					f,
					"   #{:<7} {:>+9}  {:>10}  {:>7}  {:>9}  {:>6}",
					row.number,
					row.timestamp_ms as i64 - t0 as i64,
					row.extrinsics,
					row.included.get(Kind::Submit),
					row.included.get(Kind::Transfer),
					row.failed.total()
				)?;
			}
		}
		writeln!(f, "\nwhole run: {:.0} s", self.seconds)
	}
}
