// The chain, read with @polkadot/api from its metadata (no hand-written types): the DAOs,
// contributions, balances, proposals, offers and grants as plain values for the views, and
// transactions sent with a decoded error when they fail.
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { ISubmittableResult } from '@polkadot/types/types';
import { u8aToString } from '@polkadot/util';
import type { PageAccount } from './accounts';
import { txSigner } from './accounts';
import { amount as fmtAmount, permill } from './format';

// Decoded codecs are read field by field, as the metadata names them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Codec = any;

export interface Chain {
  api: ApiPromise;
  url: string;
  name: string;
  /** COOP: the native token. */
  decimals: number;
  symbol: string;
  ss58: number;
  genesisHash: Uint8Array;
  blockMs: number;
}

/**
 * Connects to the node at `url`. Resolves once the API is ready; `onState` hears whether the
 * node answers (the provider keeps retrying while it does not).
 */
export async function connect (url: string, onState: (connected: boolean) => void): Promise<Chain> {
  const provider = new WsProvider(url, 2_500);
  provider.on('connected', () => onState(true));
  provider.on('disconnected', () => onState(false));
  provider.on('error', () => onState(false));
  const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: false });
  await api.isReady;
  let blockMs = 6_000;
  try {
    blockMs = Number((await api.call.auraApi.slotDuration()).toString());
  } catch {
    // a chain without Aura: six seconds is the usual
  }
  return {
    api,
    url,
    name: api.runtimeChain.toString(),
    decimals: api.registry.chainDecimals[0] ?? 12,
    symbol: api.registry.chainTokens[0] ?? 'UNIT',
    ss58: api.registry.chainSS58 ?? 42,
    genesisHash: api.genesisHash.toU8a(),
    blockMs
  };
}

/** A native amount (COOP) for people. */
export function coop (chain: Chain, value: bigint): string {
  return fmtAmount(value, chain.decimals, chain.symbol);
}

export interface Rules {
  minContributionSize: number;
  maxContributionSize: number;
  rewardAtFullScore: bigint;
  minScore: number;
  contributionDeposit: bigint;
  votingPeriod: number;
  quorum: number;
  approvalThreshold: number;
  holdersShare: number;
}

export interface Dao {
  id: number;
  name: string;
  metadataUri: string;
  admin: string;
  governed: boolean;
  tokenName: string;
  tokenSymbol: string;
  tokenDecimals: number;
  collectiveKey: Uint8Array;
  endpoint: string;
  rules: Rules;
  status: 'Active' | 'Retired';
  createdAt: number;
}

const text = (c: Codec): string => u8aToString(c.toU8a(true));
const big = (c: Codec): bigint => c.toBigInt();
const num = (c: Codec): number => c.toNumber();

function toDao (id: number, d: Codec): Dao {
  const r = d.rules;
  return {
    id,
    name: text(d.name),
    metadataUri: text(d.metadataUri),
    admin: d.admin.toString(),
    governed: d.governed.isTrue,
    tokenName: text(d.token.name),
    tokenSymbol: text(d.token.symbol),
    tokenDecimals: num(d.tokenDecimals),
    collectiveKey: d.collective.encryptionKey.toU8a(),
    endpoint: text(d.collective.endpoint),
    rules: {
      minContributionSize: num(r.minContributionSize),
      maxContributionSize: num(r.maxContributionSize),
      rewardAtFullScore: big(r.rewardAtFullScore),
      minScore: num(r.minScore),
      contributionDeposit: big(r.contributionDeposit),
      votingPeriod: num(r.votingPeriod),
      quorum: num(r.quorum),
      approvalThreshold: num(r.approvalThreshold),
      holdersShare: num(r.holdersShare)
    },
    status: d.status.isRetired ? 'Retired' : 'Active',
    createdAt: num(d.createdAt)
  };
}

/** An amount of DAO `dao`'s dataset token for people. */
export function tokens (dao: Dao, value: bigint): string {
  return fmtAmount(value, dao.tokenDecimals, dao.tokenSymbol);
}

/** DAO `id`, or null if there is none. */
export async function readDao (chain: Chain, id: number): Promise<Dao | null> {
  const d: Codec = await chain.api.call.dataDaosApi.dao(id);
  return d.isSome ? toDao(id, d.unwrap()) : null;
}

/** Every DAO, by id. */
export async function allDaos (chain: Chain): Promise<Dao[]> {
  const next = num(await chain.api.query.dataDaos.nextDaoId());
  const daos = await Promise.all(Array.from({ length: next }, (_, i) => readDao(chain, i)));
  return daos.filter((d): d is Dao => d !== null);
}

/** How many contributions DAO `id` has on chain (Pending, Accepted or Rejected). */
/** Contributions counted at most (one page of keys, the most a node hands out at once): a DAO
 * with as many shows "or more" (reading every key of a large DAO on each refresh would cost
 * every visitor's page). */
export const COUNT_CAP = 1000;

export async function contributionCount (chain: Chain, id: number): Promise<number> {
  return (await chain.api.query.contributions.byCiphertext.keysPaged({ args: [id], pageSize: COUNT_CAP })).length;
}

export interface Scores {
  overall: number;
  authenticity: number;
  ownership: number;
  quality: number;
  uniqueness: number;
}

export interface Contribution {
  id: number;
  daoId: number;
  contributor: string;
  url: string;
  hash: string;
  size: number;
  deposit: bigint;
  recordDeposit: bigint;
  submittedAt: number;
  status: 'Pending' | 'Accepted' | 'Rejected';
  scores?: Scores;
  reward?: bigint;
  reason?: string;
  slashed?: bigint;
  at?: number;
  /** If its contributor asked to cancel it: the first block `withdraw` may be called in. */
  withdrawableFrom: number | null;
}

function toScores (s: Codec): Scores {
  return {
    overall: num(s.overall),
    authenticity: num(s.authenticity),
    ownership: num(s.ownership),
    quality: num(s.quality),
    uniqueness: num(s.uniqueness)
  };
}

/** The scores as one line: `overall 80.0% (authenticity 100.0%, ...)`. */
export function scoresText (s: Scores): string {
  return `overall ${permill(s.overall)} (authenticity ${permill(s.authenticity)}, ownership ${permill(s.ownership)}, quality ${permill(s.quality)}, uniqueness ${permill(s.uniqueness)})`;
}

/** Contribution `id`, or null if there is none. */
export async function readContribution (chain: Chain, id: number): Promise<Contribution | null> {
  const o: Codec = await chain.api.call.contributionsApi.contribution(id);
  if (o.isNone) return null;
  const c = o.unwrap();
  const s = c.status;
  const base: Contribution = {
    id,
    daoId: num(c.daoId),
    contributor: c.contributor.toString(),
    url: text(c.url),
    hash: c.ciphertextHash.toHex(),
    size: num(c.ciphertextSize),
    deposit: big(c.deposit),
    recordDeposit: big(c.recordDeposit),
    submittedAt: num(c.submittedAt),
    status: 'Pending',
    withdrawableFrom: c.withdrawableFrom.isSome ? num(c.withdrawableFrom.unwrap()) : null
  };
  if (s.isAccepted) {
    const a = s.asAccepted;
    return { ...base, status: 'Accepted', scores: toScores(a.scores), reward: big(a.reward), at: num(a.at) };
  }
  if (s.isRejected) {
    const r = s.asRejected;
    return {
      ...base, status: 'Rejected', scores: toScores(r.scores), reason: text(r.reason), slashed: big(r.slashed), at: num(r.at)
    };
  }
  return base;
}

/** The ids of `address`'s contributions, oldest first. */
export async function contributionIdsOf (chain: Chain, address: string): Promise<number[]> {
  const keys = await chain.api.query.contributions.byContributor.keys(address);
  return keys.map((k: Codec) => num(k.args[1])).sort((a: number, b: number) => a - b);
}

export async function tokenBalance (chain: Chain, daoId: number, who: string): Promise<bigint> {
  return big(await chain.api.call.dataDaosApi.tokenBalance(daoId, who));
}

export async function tokenSupply (chain: Chain, daoId: number): Promise<bigint> {
  return big(await chain.api.call.dataDaosApi.tokenSupply(daoId));
}

export async function claimable (chain: Chain, daoId: number, who: string): Promise<bigint> {
  return big(await chain.api.call.dataDaosApi.claimableRewards(daoId, who));
}

export async function treasury (chain: Chain, daoId: number): Promise<bigint> {
  return big(await chain.api.call.accessGrantsApi.treasuryBalance(daoId));
}

export async function freeBalance (chain: Chain, who: string): Promise<bigint> {
  const account: Codec = await chain.api.query.system.account(who);
  return big(account.data.free);
}

export async function bestNumber (chain: Chain): Promise<number> {
  return num((await chain.api.rpc.chain.getHeader()).number);
}

/** A scope as people read it. */
export function scopeText (scope: Codec): string {
  if (scope.isFull) return 'full records';
  if (scope.isAnonymized) return 'anonymized records';
  if (scope.isAggregate) return `aggregate queries (groups of at least ${num(scope.asAggregate.minGroupSize)})`;
  return scope.toString();
}

export interface Offer {
  /** The scope as decoded: passed back as it is to `accessGrants.buy`. */
  scope: Codec;
  scopeText: string;
  pricePerDay: bigint;
  maxDays: number;
}

export async function offers (chain: Chain, daoId: number): Promise<Offer[]> {
  const list: Codec = await chain.api.call.accessGrantsApi.offers(daoId);
  return list.map((o: Codec) => ({
    scope: o.scope,
    scopeText: scopeText(o.scope),
    pricePerDay: big(o.pricePerDay),
    maxDays: num(o.maxDays)
  }));
}

export interface Grant {
  id: number;
  daoId: number;
  scopeText: string;
  starts: number;
  expires: number;
  paid: bigint;
}

/** `who`'s live grant to DAO `daoId`'s data, if any. */
export async function liveGrant (chain: Chain, daoId: number, who: string): Promise<Grant | null> {
  const o: Codec = await chain.api.call.accessGrantsApi.liveGrant(daoId, who);
  if (o.isNone) return null;
  const g = o.unwrap();
  return {
    id: num(g.id), daoId: num(g.daoId), scopeText: scopeText(g.scope), starts: num(g.starts), expires: num(g.expires), paid: big(g.paid)
  };
}

export interface Proposal {
  id: number;
  daoId: number;
  proposer: string;
  action: Codec;
  descriptionUri: string;
  ends: number;
  quorum: number;
  approvalThreshold: number;
  ayes: bigint;
  nays: bigint;
  escrow: bigint;
}

function toProposal (p: Codec): Proposal {
  return {
    id: num(p.id),
    daoId: num(p.daoId),
    proposer: p.proposer.toString(),
    action: p.action,
    descriptionUri: text(p.descriptionUri),
    ends: num(p.ends),
    quorum: num(p.quorum),
    approvalThreshold: num(p.approvalThreshold),
    ayes: big(p.ayes),
    nays: big(p.nays),
    escrow: big(p.escrow)
  };
}

/** DAO `daoId`'s open proposals, oldest first. */
export async function proposals (chain: Chain, daoId: number): Promise<Proposal[]> {
  const list: Codec = await chain.api.call.governanceApi.proposals(daoId);
  return list.map(toProposal);
}

export interface Vote {
  proposalId: number;
  aye: boolean;
  amount: bigint;
  ends: number;
}

/** `who`'s votes in DAO `daoId` whose tokens are still frozen. */
export async function votes (chain: Chain, daoId: number, who: string): Promise<Vote[]> {
  const list: Codec = await chain.api.call.governanceApi.votes(daoId, who);
  return list.map((v: Codec) => ({ proposalId: num(v.proposalId), aye: v.aye.isTrue, amount: big(v.amount), ends: num(v.ends) }));
}

/** What a proposal would do, in one line. */
export function actionText (chain: Chain, dao: Dao, action: Codec): string {
  if (action.isGrantAccess) {
    const a = action.asGrantAccess;
    return `grant ${a.grantee.toString()} access to ${scopeText(a.scope)} for ${num(a.duration)} blocks, for a fee of ${coop(chain, big(a.fee))}`;
  }
  if (action.isRevokeAccess) return `revoke grant #${num(action.asRevokeAccess.grantId)}`;
  if (action.isSetOffer) {
    const a = action.asSetOffer;
    return `offer ${scopeText(a.scope)} at ${coop(chain, big(a.pricePerDay))} a day, up to ${num(a.maxDays)} days`;
  }
  if (action.isRemoveOffer) return `withdraw the offer of ${scopeText(action.asRemoveOffer.scope)}`;
  if (action.isUpdateRules) return 'change the DAO\'s rules';
  if (action.isUpdateCollective) return `move to the collective server at ${text(action.asUpdateCollective.collective.endpoint)}`;
  if (action.isRetire) return `retire DAO #${dao.id}`;
  if (action.isTreasurySpend) {
    const a = action.asTreasurySpend;
    return `pay ${coop(chain, big(a.amount))} from the treasury to ${a.to.toString()}`;
  }
  return action.type ?? action.toString();
}

/** A dispatch error as one sentence, with its pallet and name: `... (contributions.DaoRetired)`. */
export function dispatchErrorText (chain: Chain, error: Codec): string {
  if (error.isModule) {
    try {
      const { section, name, docs } = chain.api.registry.findMetaError(error.asModule);
      const doc = docs.join(' ').trim();
      return doc ? `${doc.replace(/\.$/, '')} (${section}.${name}).` : `The chain refused it: ${section}.${name}.`;
    } catch {
      // fall through to the plain form
    }
  }
  if (error.isToken) return `The chain refused it: ${error.asToken.type} (token error).`;
  if (error.isArithmetic) return `The chain refused it: ${error.asArithmetic.type} (arithmetic error).`;
  return `The chain refused it: ${error.type ?? error.toString()}.`;
}

/** An error that says the account's signer refused (or failed) to sign. */
export class SigningRefused extends Error {}

/**
 * Signs `tx` with `account` and sends it; resolves with its events once it is in a block.
 * Rejects with the decoded dispatch error, or a SigningRefused if the signer refused.
 */
/** How long a sent transaction may take to be in a block before the page says so. */
const SEND_DEADLINE_S = 120;

export async function send (chain: Chain, tx: SubmittableExtrinsic<'promise'>, account: PageAccount): Promise<ISubmittableResult['events']> {
  const { signer, options } = await txSigner(account);
  return new Promise((resolve, reject) => {
    let unsub: (() => void) | undefined;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lost = () => finish(() => reject(new Error('The connection to the node was lost before the transaction was in a block; it may still be included: look at My data before trying again.')));
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      chain.api.off('disconnected', lost);
      f();
      if (unsub) unsub();
    };
    chain.api.on('disconnected', lost);
    const watch = (result: ISubmittableResult) => {
      const { status, events, dispatchError } = result;
      if (dispatchError) finish(() => reject(new Error(dispatchErrorText(chain, dispatchError))));
      else if (status.isInBlock || status.isFinalized) finish(() => resolve(events));
      else if (status.isInvalid || status.isDropped || status.isUsurped) {
        finish(() => reject(new Error(`The transaction was ${status.type.toLowerCase()} by the node.`)));
      }
    };
    tx.signAndSend(signer, options, watch).then((u) => {
      unsub = u;
      if (done) u();
      // Signed and sent (a person may take their time in the extension before this): a
      // deadline for the block.
      else timer = setTimeout(() => finish(() => reject(new Error(`The node did not put the transaction in a block within ${SEND_DEADLINE_S} s; it may still be included: look at My data before trying again.`))), SEND_DEADLINE_S * 1000);
    }, (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      // A signer's refusal comes before anything reaches the node; the node's own refusals
      // start with a code (`1010: Invalid Transaction: ...`).
      if (/^\d{4}:/.test(message)) finish(() => reject(new Error(`The node refused the transaction: ${message}.`)));
      else finish(() => reject(new SigningRefused(`The account's signer refused to sign the transaction: ${message}.`)));
    });
  });
}

/** The data of the first event `pallet.name` among `events`. */
export function findEvent (events: ISubmittableResult['events'], pallet: string, name: string): Codec | undefined {
  const found = events.find(({ event }) => event.section === pallet && event.method === name);
  return found?.event.data;
}
