// Starts the real datacoop-node binary for a test and stops it afterwards.
import { spawn } from 'node:child_process';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import { hexToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { freePort } from './ports.mjs';
import { openSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';

export function nodeBinary () {
  if (process.env.DATACOOP_NODE) return process.env.DATACOOP_NODE;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'datacoop-target');
  return join(target, 'release', 'datacoop-node');
}

async function rpcAnswers (port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'system_health', params: [] }),
      signal: AbortSignal.timeout(2000)
    });
    return res.ok;
  } catch {
    return false;
  }
}

// `datacoop-node --dev --tmp` on free loopback ports; resolves once its RPC answers.
export async function startDevNode () {
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const log = join(tmpdir(), `datacoop-e2e-js-node-${rpcPort}.log`);
  const child = spawn(nodeBinary(), [
    '--dev', '--tmp', '--rpc-port', String(rpcPort), '--port', String(p2pPort),
    '--no-prometheus', '--no-telemetry', '--no-mdns'
  ], { stdio: ['ignore', 'ignore', openSync(log, 'w')] });
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  const deadline = Date.now() + 60_000;
  while (!(await rpcAnswers(rpcPort))) {
    if (exited !== null) throw new Error(`datacoop-node exited with ${exited}; see ${log}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`no RPC within 60 s; see ${log}`); }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url: `ws://127.0.0.1:${rpcPort}`,
    log,
    stop: () => new Promise((resolve) => {
      if (exited !== null) return resolve();
      child.on('exit', () => resolve());
      child.kill('SIGTERM');
    })
  };
}

// A dev node and a polkadot.js API connected to it; `close()` disconnects and stops the node.
export async function connectDevChain () {
  await cryptoWaitReady();
  const node = await startDevNode();
  try {
    const api = await ApiPromise.create({ provider: new WsProvider(node.url), noInitWarn: true });
    return { api, close: async () => { await api.disconnect(); await node.stop(); } };
  } catch (e) {
    await node.stop();
    throw e;
  }
}

// Sends `tx`, signed by `signer` or unsigned when there is none, and resolves once it is in a
// block with its events, or with its decoded module error (`{ error: 'pallet.Error' }`).
export function send (api, tx, signer) {
  return new Promise((resolve, reject) => {
    const watch = ({ status, events, dispatchError }) => {
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          resolve({ error: `${section}.${name}` });
        } else resolve({ error: dispatchError.toString() });
      } else if (status.isInBlock) resolve({ events });
    };
    (signer ? tx.signAndSend(signer, watch) : tx.send(watch)).catch(reject);
  });
}

// A collective server's consent to serve the existing DAO `daoId` with `encryptionKey` (0x…):
// its attestation key `pair` signs the context, the chain's genesis hash, the DAO id (u32
// little-endian) and the key. `updateCollective` (and a governance UpdateCollective) refuse
// keys without it.
export function keyProof (api, pair, daoId, encryptionKey) {
  const payload = u8aConcat(stringToU8a('datacoop/collective-key/v1'), api.genesisHash.toU8a(),
    u32le(daoId), hexToU8a(encryptionKey));
  return u8aToHex(pair.sign(payload));
}

// A collective server's consent to serve the DAO `creator` (an address) creates as `daoId`
// (the next id, `nextDaoId`): the create context, the genesis hash, the creator's 32-byte
// account, the DAO id and the key. `dataDaos.create` refuses keys without it, and it is of no
// use to any other creator.
export function createKeyProof (api, pair, creator, daoId, encryptionKey) {
  const payload = u8aConcat(stringToU8a('datacoop/collective-key/create/v1'),
    api.genesisHash.toU8a(), decodeAddress(creator), u32le(daoId), hexToU8a(encryptionKey));
  return u8aToHex(pair.sign(payload));
}

function u32le (n) {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n, true);
  return bytes;
}

// The id the next DAO created gets: what its key proof names.
export async function nextDaoId (api) {
  return (await api.query.dataDaos.nextDaoId()).toNumber();
}
