// The DAO creator's path with polkadot.js: create a data DAO as //Alice and read it back
// from storage and through the runtime API; bad input is refused with the pallet's own error and changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { connectDevChain, createKeyProof, keyProof, nextDaoId, send as sendTx } from './node.mjs';

let chain;
let api;
let alice;
let server;
let collective;

before(async () => {
  chain = await connectDevChain();
  api = chain.api;
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  server = keyring.addFromUri('//Collective');
  collective = {
    encryptionKey: '0x' + '11'.repeat(32),
    attestationSigner: server.publicKey,
    endpoint: 'http://127.0.0.1:8700',
    measurement: '0x' + '33'.repeat(32)
  };
});

after(async () => {
  await chain?.close();
});

const rules = {
  minContributionSize: 1,
  maxContributionSize: 10 * 1024 * 1024,
  rewardAtFullScore: 1_000_000_000_000n,
  minScore: 400_000, // Permill: 40%
  contributionDeposit: 1_000_000_000_000n,
  votingPeriod: 100,
  quorum: 200_000,
  approvalThreshold: 500_000,
  holdersShare: 800_000
};

const send = (tx, signer) => sendTx(api, tx, signer);
// The collective server's consent to serve the next DAO created, by `creator` (//Alice).
const consent = async (creator = alice) =>
  createKeyProof(api, server, creator.address, await nextDaoId(api), collective.encryptionKey);

test('//Alice creates a data DAO and reads it back', async () => {
  const free = (await api.query.system.account(alice.address)).data.free.toBigInt();
  const tx = api.tx.dataDaos.create(
    'Reddit exports', 'ipfs://bafy-reddit-schema',
    { name: 'Reddit Comments 2026', symbol: 'RDC26' }, collective, rules, await consent());
  const { events, error } = await send(tx, alice);
  assert.equal(error, undefined);
  const created = events.find(({ event }) => api.events.dataDaos.Created.is(event));
  assert.ok(created, 'no DataDaos.Created event');
  const daoId = created.event.data.daoId.toNumber();
  assert.equal(created.event.data.admin.toString(), alice.address);

  const dao = (await api.query.dataDaos.daos(daoId)).unwrap();
  assert.equal(dao.name.toUtf8(), 'Reddit exports');
  assert.equal(dao.token.symbol.toUtf8(), 'RDC26');
  assert.equal(dao.collective.endpoint.toUtf8(), 'http://127.0.0.1:8700');
  assert.equal(dao.rules.maxContributionSize.toNumber(), 10 * 1024 * 1024);
  assert.ok(dao.status.isActive);
  assert.equal((await api.query.dataDaos.nextDaoId()).toNumber(), daoId + 1);

  // The same DAO through the runtime API (decoded from metadata, no custom types).
  const viaApi = (await api.call.dataDaosApi.dao(daoId)).unwrap();
  assert.equal(viaApi.name.toUtf8(), 'Reddit exports');
  assert.equal(viaApi.admin.toString(), alice.address);
  assert.equal(viaApi.deposit.toBigInt(), dao.deposit.toBigInt());
  assert.ok((await api.call.dataDaosApi.dao(daoId + 1000)).isNone);
  // No contribution accepted yet: no dataset tokens, nothing to claim.
  assert.equal((await api.call.dataDaosApi.tokenSupply(daoId)).toBigInt(), 0n);
  assert.equal((await api.call.dataDaosApi.tokenBalance(daoId, alice.address)).toBigInt(), 0n);
  assert.equal((await api.call.dataDaosApi.claimableRewards(daoId, alice.address)).toBigInt(), 0n);

  // The deposit is held, not spent.
  const account = (await api.query.system.account(alice.address)).data;
  assert.equal(account.reserved.toBigInt(), dao.deposit.toBigInt());
  assert.ok(free - account.free.toBigInt() >= dao.deposit.toBigInt());
});

test('bad input is refused with a specific error and changes nothing', async () => {
  const next = (await api.query.dataDaos.nextDaoId()).toNumber();
  const proof = await consent();
  const bad = await send(api.tx.dataDaos.create(
    'x', 'ipfs://x', { name: 'X', symbol: 'not a symbol' }, collective, rules, proof), alice);
  assert.equal(bad.error, 'dataDaos.InvalidTokenSymbol');
  const badUrl = await send(api.tx.dataDaos.create(
    'x', 'ipfs://x', { name: 'X', symbol: 'X' }, { ...collective, endpoint: 'ftp://nope' }, rules, proof), alice);
  assert.equal(badUrl.error, 'dataDaos.InvalidEndpoint');
  const notAdmin = await send(api.tx.dataDaos.retire(0),
    new Keyring({ type: 'sr25519' }).addFromUri('//Bob'));
  assert.equal(notAdmin.error, 'dataDaos.NotAdmin');
  // The mirror attack: a copycat registers another DAO's collective keys. A key set is
  // registered only with its server's consent for that DAO (the one shown for DAO 0 is none
  // for the copycat's), and serves exactly one DAO.
  const bobKey = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
  const copy = (proof) => send(api.tx.dataDaos.create(
    'Copycat', 'ipfs://x', { name: 'Copy', symbol: 'CPY' }, collective, rules, proof), bobKey);
  const shown = keyProof(api, server, 0, collective.encryptionKey);
  assert.equal((await copy(shown)).error, 'dataDaos.BadKeyProof');
  // The creation race: //Alice's consent (seen in the pool) names her, so //Bob cannot use it.
  assert.equal((await copy(proof)).error, 'dataDaos.BadKeyProof');
  // Even with the server's consent for //Bob's own creation, the keys serve DAO 0.
  assert.equal((await copy(await consent(bobKey))).error, 'dataDaos.CollectiveKeyInUse');
  assert.equal((await api.query.dataDaos.nextDaoId()).toNumber(), next);
});
