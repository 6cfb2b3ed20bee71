// The contribution path with polkadot.js on the real node: //Alice creates a DAO, //Bob submits
// a contribution, both are read back from storage and through the runtime APIs; a collective's
// signed attestation (sr25519, as the collective server will sign it) is relayed unsigned and
// mints Bob's tokens; a forged one is refused by the transaction pool.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { connectDevChain, createKeyProof, nextDaoId, send as sendTx } from './node.mjs';

let chain;
let api;
let alice;
let bob;
let collectiveKey;
let mallory;

before(async () => {
  chain = await connectDevChain();
  api = chain.api;
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
  collectiveKey = keyring.addFromUri('//DatacoopCollective');
  mallory = keyring.addFromUri('//Mallory');
});

after(async () => {
  await chain?.close();
});

const UNIT = 1_000_000_000_000n;
const measurement = '0x' + '4d'.repeat(32);

const send = (tx, signer) => sendTx(api, tx, signer);

// One collective key set serves one DAO: the first DAO gets //DatacoopCollective's, others
// keys of their own; each server consents to serve its DAO (the key proof).
let daos = 0;
async function createDao () {
  const server = daos === 0 ? collectiveKey : new Keyring({ type: 'sr25519' }).addFromUri(`//Collective${daos}`);
  const encryptionKey = '0x' + (daos + 0x11).toString(16).repeat(32);
  daos += 1;
  const proof = createKeyProof(api, server, alice.address, await nextDaoId(api), encryptionKey);
  const { events, error } = await send(api.tx.dataDaos.create(
    'Fitness tracker exports', 'ipfs://bafy-fitness-schema',
    { name: 'Fitness 2026', symbol: 'FIT26' },
    {
      encryptionKey,
      attestationSigner: server.publicKey,
      endpoint: 'http://127.0.0.1:8700',
      measurement
    },
    {
      minContributionSize: 16,
      maxContributionSize: 64 * 1024 * 1024,
      rewardAtFullScore: 1_000n * UNIT,
      minScore: 500_000,
      contributionDeposit: 2n * UNIT,
      votingPeriod: 100,
      quorum: 200_000,
      approvalThreshold: 500_000,
      holdersShare: 800_000
    }, proof), alice);
  assert.equal(error, undefined);
  return events.find(({ event }) => api.events.dataDaos.Created.is(event)).event.data.daoId.toNumber();
}

// The attestation the collective server signs: context, genesis hash, then the SCALE bytes.
function signedAttest (attestation, key) {
  const encoded = api.createType('DatacoopPrimitivesContributionAttestation', attestation);
  const payload = u8aConcat(stringToU8a('datacoop/attestation/v1'), api.genesisHash, encoded.toU8a());
  return api.tx.contributions.attest(encoded, key.sign(payload));
}

test('//Bob contributes to //Alice\'s DAO; a signed attestation mints his tokens', async () => {
  const daoId = await createDao();
  const ciphertextHash = blake2AsHex('ciphertext of Bob\'s export ' + Date.now());
  const url = `http://127.0.0.1:8090/v1/blobs/${ciphertextHash.slice(2)}`;
  const reservedBefore = (await api.query.system.account(bob.address)).data.reserved.toBigInt();

  const { events, error } = await send(api.tx.contributions.submit(daoId, url, ciphertextHash, 4096), bob);
  assert.equal(error, undefined);
  const submitted = events.find(({ event }) => api.events.contributions.Submitted.is(event));
  assert.ok(submitted, 'no Contributions.Submitted event');
  const id = submitted.event.data.contributionId.toNumber();

  // Read back from storage...
  const stored = (await api.query.contributions.contributions(id)).unwrap();
  assert.equal(stored.daoId.toNumber(), daoId);
  assert.equal(stored.contributor.toString(), bob.address);
  assert.equal(stored.url.toUtf8(), url);
  assert.equal(stored.ciphertextHash.toHex(), ciphertextHash);
  assert.equal(stored.ciphertextSize.toNumber(), 4096);
  assert.ok(stored.status.isPending);
  assert.ok((await api.query.contributions.pending(daoId, id)).isSome);
  assert.equal((await api.query.contributions.byCiphertext(daoId, ciphertextHash)).unwrap().toNumber(), id);
  // ...and through the runtime APIs, with the DAO.
  const viaApi = (await api.call.contributionsApi.contribution(id)).unwrap();
  assert.equal(viaApi.contributor.toString(), bob.address);
  assert.ok(viaApi.status.isPending);
  assert.equal((await api.call.contributionsApi.contributionByCiphertext(daoId, ciphertextHash)).unwrap().toNumber(), id);
  const dao = (await api.call.dataDaosApi.dao(daoId)).unwrap();
  assert.equal(dao.token.symbol.toUtf8(), 'FIT26');
  assert.equal(dao.collective.attestationSigner.toHex(), u8aToHex(collectiveKey.publicKey));
  // The DAO's contribution deposit is held, and the record deposit.
  const reserved = (await api.query.system.account(bob.address)).data.reserved.toBigInt();
  const recordDeposit = api.consts.contributions.recordDeposit.toBigInt();
  assert.ok(recordDeposit > 0n);
  assert.equal(reserved - reservedBefore, 2n * UNIT + recordDeposit);

  const header = await api.rpc.chain.getHeader();
  const attestation = {
    daoId,
    contributionId: id,
    // The account the statement inside the data names: the contributor.
    contributor: bob.publicKey,
    ciphertextHash,
    fingerprint: blake2AsHex('normalized plaintext ' + ciphertextHash),
    scores: { authenticity: 1_000_000, ownership: 900_000, quality: 750_000, uniqueness: 1_000_000, overall: 800_000 },
    verdict: 'Valid',
    measurement,
    validUntil: header.number.toNumber() + 50
  };

  // Signed by a key the DAO did not register: the pool refuses it with BadSignature's index.
  const badSignature = api.errors.contributions.BadSignature.meta.index.toNumber();
  await assert.rejects(signedAttest(attestation, mallory).send(),
    (e) => e.message.includes('Invalid Transaction') && e.message.includes(`Custom error: ${badSignature}`));

  // Signed by the DAO's collective key and relayed unsigned: accepted, tokens minted.
  const accepted = await send(signedAttest(attestation, collectiveKey));
  assert.equal(accepted.error, undefined);
  const event = accepted.events.find(({ event }) => api.events.contributions.Accepted.is(event));
  assert.ok(event, 'no Contributions.Accepted event');
  assert.equal(event.event.data.reward.toBigInt(), 800n * UNIT);
  const judged = (await api.call.contributionsApi.contribution(id)).unwrap();
  assert.ok(judged.status.isAccepted);
  assert.equal(judged.status.asAccepted.scores.overall.toNumber(), 800_000);
  assert.equal((await api.call.dataDaosApi.tokenBalance(daoId, bob.address)).toBigInt(), 800n * UNIT);
  assert.equal((await api.call.contributionsApi.contributionByFingerprint(daoId, attestation.fingerprint)).unwrap().toNumber(), id);
  // The contribution deposit is back; the record deposit stays with the record.
  assert.equal((await api.query.system.account(bob.address)).data.reserved.toBigInt(), reservedBefore + recordDeposit);

  // The same attestation again is a replay: refused by the pool.
  const replay = api.errors.contributions.AlreadyAttested.meta.index.toNumber();
  await assert.rejects(signedAttest(attestation, collectiveKey).send(),
    (e) => e.message.includes(`Custom error: ${replay}`));
});

test('bad submissions are refused with a specific error and change nothing', async () => {
  const daoId = await createDao();
  const next = (await api.query.contributions.nextContributionId()).toNumber();
  const hash = blake2AsHex('bad ' + Date.now());
  const cases = [
    [[daoId + 1000, 'http://x.example/b', hash, 4096], 'contributions.UnknownDao'],
    [[daoId, 'http://x.example/b', hash, 0], 'contributions.SizeBelowMinimum'],
    [[daoId, 'http://x.example/b', hash, 2n ** 64n - 1n], 'contributions.SizeAboveMaximum'],
    [[daoId, 'not a url', hash, 4096], 'contributions.InvalidUrl'],
    [[daoId, 'http://' + 'a'.repeat(300), hash, 4096], 'contributions.UrlTooLong']
  ];
  for (const [args, expected] of cases) {
    const { error } = await send(api.tx.contributions.submit(...args), bob);
    assert.equal(error, expected);
  }
  assert.equal((await api.query.contributions.nextContributionId()).toNumber(), next);
});
