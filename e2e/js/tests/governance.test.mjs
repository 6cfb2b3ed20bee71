// Governance and paid access with polkadot.js on the real node: three contributors earn a DAO's
// tokens; a data consumer proposes a grant with a fee; the holders vote (one of them moving
// tokens mid-vote, the voted ones frozen); the proposal is closed and the fee reaches the
// holders pro rata and the treasury its share; then the holders set an offer and anyone buys
// access at it without a vote. Every call, event, error and runtime API decodes from metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat } from '@polkadot/util';
import { connectDevChain, createKeyProof, nextDaoId, send as sendTx } from './node.mjs';

let chain;
let api;
const keys = {};

before(async () => {
  chain = await connectDevChain();
  api = chain.api;
  const keyring = new Keyring({ type: 'sr25519' });
  for (const name of ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie', 'GovernanceCollective']) {
    keys[name] = keyring.addFromUri(`//${name}`);
  }
});

after(async () => {
  await chain?.close();
});

const UNIT = 1_000_000_000_000n;
const measurement = '0x' + '4d'.repeat(32);
const send = (tx, signer) => sendTx(api, tx, signer);
const ok = async (tx, signer) => {
  const { events, error } = await send(tx, signer);
  assert.equal(error, undefined);
  return events;
};
const find = (events, is) => events.find(({ event }) => is(event))?.event;

async function waitForBlock (n) {
  for (;;) {
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    if (head >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// The attestation the collective server signs: context, genesis hash, then the SCALE bytes.
function signedAttest (attestation) {
  const encoded = api.createType('DatacoopPrimitivesContributionAttestation', attestation);
  const payload = u8aConcat(stringToU8a('datacoop/attestation/v1'), api.genesisHash, encoded.toU8a());
  return api.tx.contributions.attest(encoded, keys.GovernanceCollective.sign(payload));
}

async function vote (who, id, aye, amount) {
  return send(api.tx.daoGovernance.vote(id, aye, amount === undefined ? null : amount), keys[who]);
}

// Waits for the proposal's end, closes it, and returns the Closed event's data.
async function closeAtEnd (id) {
  const proposal = (await api.call.governanceApi.proposal(id)).unwrap();
  await waitForBlock(proposal.ends.toNumber());
  const events = await ok(api.tx.daoGovernance.close(id), keys.Dave);
  return find(events, api.events.daoGovernance.Closed.is).data;
}

let daoId;

test('a granted fee reaches the holders pro rata, after a transfer mid-vote, and the treasury', async () => {
  const encryptionKey = '0x' + '17'.repeat(32);
  const proof = createKeyProof(api, keys.GovernanceCollective, keys.Alice.address, await nextDaoId(api),
    encryptionKey);
  const created = await ok(api.tx.dataDaos.create(
    'Chat exports', 'ipfs://bafy-chat-schema', { name: 'Chat 2026', symbol: 'CHAT' },
    {
      encryptionKey,
      attestationSigner: keys.GovernanceCollective.publicKey,
      endpoint: 'http://127.0.0.1:8700',
      measurement
    },
    {
      minContributionSize: 16,
      maxContributionSize: 64 * 1024 * 1024,
      rewardAtFullScore: 1_000n * UNIT,
      minScore: 500_000,
      contributionDeposit: 2n * UNIT,
      // Over a minute: the votes below take a block each (the development chain allows 5).
      votingPeriod: 12,
      quorum: 200_000,
      approvalThreshold: 500_000,
      holdersShare: 800_000
    }, proof), keys.Alice);
  daoId = find(created, api.events.dataDaos.Created.is).data.daoId.toNumber();

  // Bob, Charlie and Dave contribute; the collective accepts at 80%, 60% and 60%.
  const contributors = [['Bob', 800_000], ['Charlie', 600_000], ['Dave', 600_000]];
  const submitted = await Promise.all(contributors.map(async ([who]) => {
    const hash = blake2AsHex(`${who}'s chat export ${Date.now()}`);
    const events = await ok(api.tx.contributions.submit(
      daoId, `http://127.0.0.1:8090/v1/blobs/${hash.slice(2)}`, hash, 4096), keys[who]);
    return { id: find(events, api.events.contributions.Submitted.is).data.contributionId.toNumber(), hash };
  }));
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  await Promise.all(contributors.map(([who, overall], i) => ok(signedAttest({
    daoId,
    contributionId: submitted[i].id,
    contributor: keys[who].publicKey,
    ciphertextHash: submitted[i].hash,
    fingerprint: blake2AsHex('plaintext of ' + submitted[i].hash),
    scores: { authenticity: 1_000_000, ownership: 1_000_000, quality: overall, uniqueness: 1_000_000, overall },
    verdict: 'Valid',
    measurement,
    validUntil: head + 50
  }))));
  assert.equal((await api.call.dataDaosApi.tokenSupply(daoId)).toBigInt(), 2_000n * UNIT);

  // Ferdie, a data consumer, proposes his own grant: 100 blocks of the full records for
  // 1,000 COOP, held in escrow while the vote runs.
  const fee = 1_000n * UNIT;
  const proposed = await ok(api.tx.daoGovernance.propose(daoId,
    { GrantAccess: { grantee: keys.Ferdie.address, scope: 'Full', duration: 100, fee } },
    'ipfs://bafy-research-plan'), keys.Ferdie);
  const id = find(proposed, api.events.daoGovernance.Proposed.is).data.proposalId.toNumber();
  const open = (await api.call.governanceApi.proposal(id)).unwrap();
  assert.ok(open.action.isGrantAccess);
  assert.equal(open.escrow.toBigInt(), fee);
  assert.equal((await api.call.governanceApi.proposals(daoId)).length, 1);

  // Bob votes with 500 of his 800, then sends 300 to Charlie; the 500 that voted stay.
  assert.equal((await vote('Bob', id, true, 500n * UNIT)).error, undefined);
  await ok(api.tx.datasetTokens.transfer(daoId, keys.Charlie.address, 300n * UNIT), keys.Bob);
  const frozen = await send(api.tx.datasetTokens.transfer(daoId, keys.Dave.address, UNIT), keys.Bob);
  assert.equal(frozen.error, 'datasetTokens.TokensFrozen');
  const bobsVotes = await api.call.governanceApi.votes(daoId, keys.Bob.address);
  assert.equal(bobsVotes[0].amount.toBigInt(), 500n * UNIT);
  // Charlie votes his 900, Dave votes nay with his 600.
  const [charlie, dave] = await Promise.all([vote('Charlie', id, true), vote('Dave', id, false)]);
  assert.equal(charlie.error, undefined);
  assert.equal(dave.error, undefined);
  const tally = (await api.call.governanceApi.proposal(id)).unwrap();
  assert.equal(tally.ayes.toBigInt(), 1_400n * UNIT);
  assert.equal(tally.nays.toBigInt(), 600n * UNIT);
  assert.equal((await send(api.tx.daoGovernance.close(id), keys.Dave)).error, 'daoGovernance.VotingOpen');

  const closed = await closeAtEnd(id);
  assert.ok(closed.passed.isTrue);
  assert.ok(closed.result.unwrap().isOk);
  assert.equal((await vote('Bob', id, true)).error, 'daoGovernance.UnknownProposal');

  const grant = (await api.call.accessGrantsApi.liveGrant(daoId, keys.Ferdie.address)).unwrap();
  assert.ok(grant.scope.isFull);
  assert.equal(grant.paid.toBigInt(), fee);
  // 80% to the holders by their balances at the close (500, 900, 600 of 2,000), 20% to the
  // treasury.
  const claimable = async (who) => (await api.call.dataDaosApi.claimableRewards(daoId, keys[who].address)).toBigInt();
  assert.deepEqual(
    [await claimable('Bob'), await claimable('Charlie'), await claimable('Dave')],
    [200n * UNIT, 360n * UNIT, 240n * UNIT]);
  assert.equal((await api.call.accessGrantsApi.treasuryBalance(daoId)).toBigInt(), 200n * UNIT);
  const claimed = await ok(api.tx.datasetTokens.claimRewards(daoId), keys.Charlie);
  assert.equal(find(claimed, api.events.datasetTokens.RewardsClaimed.is).data.amount.toBigInt(), 360n * UNIT);

  // Bob's tokens move again once he unlocks his ended vote.
  await ok(api.tx.daoGovernance.unlock(daoId), keys.Bob);
  await ok(api.tx.datasetTokens.transfer(daoId, keys.Dave.address, UNIT), keys.Bob);
});

test('the holders set an offer, and anyone buys access at it without a vote', async () => {
  const proposed = await ok(api.tx.daoGovernance.propose(daoId,
    { SetOffer: { scope: { Aggregate: { minGroupSize: 10 } }, pricePerDay: 10n * UNIT, maxDays: 30 } },
    ''), keys.Charlie);
  const id = find(proposed, api.events.daoGovernance.Proposed.is).data.proposalId.toNumber();
  assert.equal((await vote('Charlie', id, true)).error, undefined);
  const closed = await closeAtEnd(id);
  assert.ok(closed.result.unwrap().isOk);

  const offers = await api.call.accessGrantsApi.offers(daoId);
  assert.equal(offers.length, 1);
  assert.equal(offers[0].scope.asAggregate.minGroupSize.toNumber(), 10);
  const scope = { Aggregate: { minGroupSize: 10 } };
  // More days than the offer allows, a scope not on offer, or a price above the buyer's limit
  // (3 days at 10 COOP is 30): refused, nothing paid.
  assert.equal((await send(api.tx.accessGrants.buy(daoId, scope, 31, 310n * UNIT), keys.Eve)).error, 'accessGrants.InvalidDays');
  assert.equal((await send(api.tx.accessGrants.buy(daoId, 'Full', 1, 10n * UNIT), keys.Eve)).error, 'accessGrants.NoOffer');
  assert.equal((await send(api.tx.accessGrants.buy(daoId, scope, 3, 30n * UNIT - 1n), keys.Eve)).error, 'accessGrants.PriceAboveLimit');
  const treasury = (await api.call.accessGrantsApi.treasuryBalance(daoId)).toBigInt();
  await ok(api.tx.accessGrants.buy(daoId, scope, 3, 30n * UNIT), keys.Eve);
  const grant = (await api.call.accessGrantsApi.liveGrant(daoId, keys.Eve.address)).unwrap();
  assert.equal(grant.paid.toBigInt(), 30n * UNIT);
  assert.ok(grant.scope.isAggregate);
  assert.equal((await api.call.accessGrantsApi.treasuryBalance(daoId)).toBigInt() - treasury, 6n * UNIT);
});
