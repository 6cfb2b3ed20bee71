// A user's path with polkadot.js: connect to `datacoop-node --dev`, read what the chain says
// about itself, sign and send a transfer as //Alice and wait for finality. No custom type
// definitions: everything is decoded from the runtime's metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { connectDevChain } from './node.mjs';

let chain;
let api;

before(async () => {
  chain = await connectDevChain();
  api = chain.api;
});

after(async () => {
  await chain?.close();
});

test('the chain reports its name, token and runtime', async () => {
  assert.equal((await api.rpc.system.chain()).toString(), 'Datacoop Development');
  const props = await api.rpc.system.properties();
  assert.equal(props.tokenSymbol.unwrap()[0].toString(), 'COOP');
  assert.equal(props.tokenDecimals.unwrap()[0].toNumber(), 12);
  assert.equal(props.ss58Format.unwrap().toNumber(), 42);
  assert.equal(api.registry.chainDecimals[0], 12);
  assert.equal(api.runtimeVersion.specName.toString(), 'datacoop');
});

test('metadata is v15 or newer, with runtime APIs polkadot.js can call', async () => {
  assert.ok(api.runtimeMetadata.version >= 15, `metadata v${api.runtimeMetadata.version}`);
  const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
  for (const name of ['System', 'Timestamp', 'Aura', 'Grandpa', 'Balances', 'TransactionPayment', 'Sudo', 'DataDaos', 'DatasetTokens']) {
    assert.ok(pallets.includes(name), `pallet ${name} missing from ${pallets}`);
  }
  const apis = api.runtimeMetadata.asLatest.apis.map((a) => a.name.toString());
  assert.ok(apis.includes('AccountNonceApi'), `runtime APIs: ${apis}`);
  // A runtime API call decoded from metadata alone.
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const nonce = await api.call.accountNonceApi.accountNonce(alice.address);
  assert.equal(nonce.toNumber(), 0);
  const sudoKey = await api.query.sudo.key();
  assert.equal(sudoKey.unwrap().toString(), alice.address);
});

test('a transfer signed by //Alice is finalized with its event', async () => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice');
  const dest = keyring.addFromUri('//DatacoopJsDest');
  const amount = 4_200_000_000_000n;

  const { events, blockHash } = await new Promise((resolve, reject) => {
    api.tx.balances.transferKeepAlive(dest.address, amount)
      .signAndSend(alice, ({ status, events, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        else if (status.isFinalized) resolve({ events, blockHash: status.asFinalized });
      })
      .catch(reject);
  });

  const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event));
  assert.ok(transfer, 'no Balances.Transfer event');
  const [from, to, value] = transfer.event.data;
  assert.equal(from.toString(), alice.address);
  assert.equal(to.toString(), dest.address);
  assert.equal(value.toBigInt(), amount);
  assert.ok(events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event)));

  const account = await (await api.at(blockHash)).query.system.account(dest.address);
  assert.equal(account.data.free.toBigInt(), amount);
  const finalized = await api.rpc.chain.getFinalizedHead();
  const finalizedNumber = (await api.rpc.chain.getHeader(finalized)).number.toNumber();
  const blockNumber = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
  assert.ok(finalizedNumber >= blockNumber);
});
