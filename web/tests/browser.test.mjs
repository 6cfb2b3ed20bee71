// The web page in a real browser (Debian's Chromium through playwright-core) against the real
// dev stack (`scripts/dev.sh --no-build` on free ports: node, storage, collective server, the
// built page): //Bob connects, explores the demo DAO, contributes a chat export that the
// collective server accepts (and that leaves the browser only encrypted), claims the rewards
// //Alice deposits, votes on her proposal; a file too large, a retired DAO and an extension
// that refuses to sign are each refused with a message before anything is uploaded or
// submitted, and an unreachable chain is said; an extension account (signing as the
// polkadot{.js} extension does) contributes too, and saves the key the page keeps for it.
//
// Needs the release binaries and web/dist (scripts/build-web.sh). CHROMIUM names the browser
// (default /usr/bin/chromium). Screenshots go to web/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { freePort } from '../../e2e/js/tests/ports.mjs';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, stringToU8a, u8aConcat, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress, randomAsHex } from '@polkadot/util-crypto';

const web = fileURLToPath(new URL('..', import.meta.url));

// A collective no server runs (nothing listens at its endpoint), with its attestation key's
// consent to serve the next DAO `creator` creates (the key proof `dataDaos.create` requires).
async function silentCollective (api, creator) {
  const server = new Keyring({ type: 'sr25519' }).addFromUri(randomAsHex(32));
  const collective = { encryptionKey: randomAsHex(32), attestationSigner: server.publicKey, endpoint: 'http://127.0.0.1:9', measurement: randomAsHex(32) };
  // The create context, the genesis hash, the creator's account, the next id (u32 LE), the
  // key: as e2e/js/tests/node.mjs `createKeyProof` (not imported: its packages are e2e/js's).
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, (await api.query.dataDaos.nextDaoId()).toNumber(), true);
  const payload = u8aConcat(stringToU8a('datacoop/collective-key/create/v1'), api.genesisHash.toU8a(),
    decodeAddress(creator.address), id, hexToU8a(collective.encryptionKey));
  return [collective, u8aToHex(server.sign(payload))];
}
const repo = join(web, '..');
const shots = join(web, 'screenshots');
const UNIT = 1_000_000_000_000n;

let stack; // { child, log, ports, exited }
let browser;
let api;
let keys;
let page;
let daoId;
let pageUrl;
const requests = []; // every HTTP request the page made: { url, method, body }
const frames = []; // every WebSocket frame the page sent

// `scripts/dev.sh --no-build` in its own process group on free ports; resolves once it says
// the demo DAO is ready (its offer included).
async function startStack () {
  const names = ['RPC', 'P2P', 'PROMETHEUS', 'STORAGE', 'COLLECTIVE', 'WEB'];
  const ports = {};
  for (const name of names) ports[name] = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'datacoop-web-test-'));
  const log = join(dir, 'dev.log');
  const env = { ...process.env, XDG_DATA_HOME: join(dir, 'data') };
  for (const name of names) env[`DATACOOP_${name}_PORT`] = String(ports[name]);
  const child = spawn('bash', [join(repo, 'scripts', 'dev.sh'), '--no-build'], {
    cwd: repo, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']
  });
  const out = createWriteStream(log);
  child.stdout.pipe(out);
  const s = { child, log, dir, ports, exited: null, env };
  child.on('exit', (code) => { s.exited = code; });
  // Known at once, so that after() stops it even if it never gets ready.
  stack = s;
  await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`dev.sh was not ready within 5 minutes; see ${log}`)), 300_000);
    child.stderr.on('data', (d) => {
      out.write(d);
      seen += d.toString();
      const m = /==> ready: demo DAO #(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        s.demo = Number(m[1]);
        resolve();
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`dev.sh exited (${code}) before it was ready; see ${log}`)); });
  });
  return s;
}

async function stopStack () {
  if (!stack || stack.exited !== null) return;
  const gone = new Promise((resolve) => stack.child.on('exit', resolve));
  try { process.kill(-stack.child.pid, 'SIGTERM'); } catch { return; }
  const timeout = new Promise((resolve) => setTimeout(resolve, 15_000, 'timeout'));
  if (await Promise.race([gone, timeout]) === 'timeout') {
    try { process.kill(-stack.child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

// However this process ends, the dev stack's process group ends with it.
process.on('exit', () => {
  if (stack && stack.exited === null) try { process.kill(-stack.child.pid, 'SIGKILL'); } catch { /* gone */ }
});

// Sends `tx` signed by `signer`; resolves with its events once in a block, or throws the
// decoded error.
function send (tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          reject(new Error(`${section}.${name}`));
        } else reject(new Error(dispatchError.toString()));
      } else if (status.isInBlock) resolve(events);
    }).catch(reject);
  });
}
const eventData = (events, section, method) =>
  events.find(({ event }) => event.section === section && event.method === method)?.event.data;

async function shot (p, name) {
  mkdirSync(shots, { recursive: true });
  const path = join(shots, name);
  await p.screenshot({ path, fullPage: true });
  return path;
}

const testid = (id) => `[data-testid="${id}"]`;

// A new page with the requests and frames it sends recorded.
async function openPage (context) {
  const p = await context.newPage();
  p.on('request', (r) => {
    let body = null;
    try { body = r.postDataBuffer(); } catch { /* none */ }
    requests.push({ url: r.url(), method: r.method(), body });
  });
  p.on('websocket', (ws) => ws.on('framesent', (f) => frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString())));
  p.on('pageerror', (e) => console.error('page error:', e.message));
  return p;
}

const uploads = () => requests.filter((r) => r.method === 'POST' && r.url.startsWith(`http://127.0.0.1:${stack.ports.STORAGE}/blobs`));
const submits = () => frames.filter((f) => f.includes('author_submit'));

function chatExport (address, marker, n = 60) {
  const base = 1_700_000_000 + Math.floor(Math.random() * 1_000_000);
  const words = ['lunch', 'train', 'meeting', 'garden', 'concert', 'invoice', 'holiday', 'bicycle', 'recipe', 'weather'];
  return Buffer.from(JSON.stringify({
    messages: Array.from({ length: n }, (_, i) => ({
      account: address,
      text: `${marker} message ${i}: about the ${words[i % words.length]} on day ${i * 7 + 3}, ${randomAsHex(6)}`,
      at: base + i * 61
    }))
  }));
}

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  keys = Object.fromEntries(['Alice', 'Bob', 'Charlie', 'Dave', 'Penniless'].map((n) => [n, keyring.addFromUri(`//${n}`)]));
  if (!existsSync(join(web, 'dist', 'index.html'))) throw new Error('web/dist is missing: run scripts/build-web.sh (or npm run build in web/) first');
  await startStack();
  daoId = stack.demo;
  pageUrl = `http://127.0.0.1:${stack.ports.WEB}/`;
  api = await ApiPromise.create({ provider: new WsProvider(`ws://127.0.0.1:${stack.ports.RPC}`), noInitWarn: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await openPage(context);
});

after(async () => {
  await browser?.close().catch(() => {});
  await api?.disconnect().catch(() => {});
  await stopStack();
  if (stack) rmSync(stack.dir, { recursive: true, force: true });
});

test('1. the page connects and //Bob is picked', async () => {
  await page.goto(pageUrl);
  await page.waitForSelector(`${testid('account-select')} option[value="dev://Bob"]`, { state: 'attached', timeout: 60_000 });
  await page.selectOption(testid('account-select'), 'dev://Bob');
  await page.waitForSelector(testid('account-address'));
  assert.equal(await page.textContent(testid('account-address')), keys.Bob.address);
  await page.waitForFunction(() => /COOP/.test(document.querySelector('[data-testid="account-balance"]')?.textContent ?? ''));
  assert.match(await page.textContent(testid('chain-status')), /block #\d+/);
  await shot(page, '01-connect.png');
});

test('2. Explore shows the demo DAO with its offer', async () => {
  await page.click(testid('tab-explore'));
  await page.waitForSelector(testid(`dao-name-${daoId}`));
  assert.equal(await page.textContent(testid(`dao-name-${daoId}`)), 'Chat exports');
  assert.equal(await page.textContent(testid(`dao-status-${daoId}`)), 'Active');
  assert.match(await page.textContent(testid(`dao-token-${daoId}`)), /CHAT/);
  assert.match(await page.textContent(testid(`dao-sizes-${daoId}`)), /100 bytes to 100,000,000 bytes/);
  assert.match(await page.textContent(testid(`dao-voting-period-${daoId}`)), /^5 blocks/);
  assert.ok(Number(await page.textContent(testid(`dao-contributions-${daoId}`))) >= 1);
  assert.match(await page.textContent(testid(`offer-${daoId}-0`)), /full records: 1 COOP a day, up to 30 days/);
  await shot(page, '02-explore.png');
});

let contributionId;
let chat;

test('3. //Bob contributes a chat export: Accepted, tokens minted, only ciphertext leaves the page', async () => {
  const marker = `plaintext-marker-${randomAsHex(8).slice(2)}`;
  chat = chatExport(keys.Bob.address, marker);
  await page.click(testid('tab-contribute'));
  await page.waitForSelector(`${testid('contribute-dao')} option[value="${daoId}"]`, { state: 'attached' });
  await page.selectOption(testid('contribute-dao'), String(daoId));
  await page.setInputFiles(testid('contribute-file'), { name: 'chat.json', mimeType: 'application/json', buffer: chat });
  const before = uploads().length;
  await page.click(testid('contribute-submit'));
  await page.waitForFunction(() => ['Accepted', 'Rejected'].includes(document.querySelector('[data-testid="contribute-status"]')?.textContent ?? ''),
    null, { timeout: 150_000 });
  const error = await page.$(`${testid('contribute-error')}:not([hidden])`);
  assert.equal(error ? await error.textContent() : null, null);
  assert.equal(await page.textContent(testid('contribute-status')), 'Accepted', await page.textContent(testid('contribute-result')));
  assert.match(await page.textContent(testid('contribute-reward')), /CHAT minted to you/);
  assert.match(await page.textContent(testid('contribute-scores')), /overall \d+\.\d%/);
  const path = await shot(page, '03-contribute-accepted.png');
  // The README's picture, refreshed on request only (a test run leaves the tree clean).
  if (process.env.UPDATE_README_IMAGE) {
    mkdirSync(join(repo, 'docs', 'images'), { recursive: true });
    copyFileSync(path, join(repo, 'docs', 'images', 'web-contribute.png'));
  }

  // On chain: Bob's, accepted.
  const ids = (await api.query.contributions.byContributor.keys(keys.Bob.address)).map((k) => k.args[1].toNumber());
  contributionId = Math.max(...ids);
  const c = (await api.call.contributionsApi.contribution(contributionId)).unwrap();
  assert.ok(c.status.isAccepted);
  assert.ok((await api.call.dataDaosApi.tokenBalance(daoId, keys.Bob.address)).toBigInt() > 0n);

  // What left the page: one upload, whose body (a Blob, which the browser does not report)
  // is what storage kept: the age ciphertext of the size on chain. The plaintext is in no
  // request body and no WebSocket frame.
  const sent = uploads().slice(before);
  assert.equal(sent.length, 1, 'one upload to storage');
  const res = await fetch(c.url.toUtf8());
  assert.equal(res.status, 200);
  const stored = Buffer.from(await res.arrayBuffer());
  assert.equal(stored.subarray(0, 21).toString(), 'age-encryption.org/v1');
  assert.equal(stored.length, c.ciphertextSize.toNumber());
  assert.ok(!stored.includes(marker), 'storage holds the plaintext');
  // Chromium does not hand a Blob body to playwright: what storage kept is what was sent
  // (storage names a blob by the hash of what came, and the chain holds that hash).
  if (sent[0].body) assert.ok(sent[0].body.equals(stored));
  for (const r of requests) assert.ok(!r.body || !r.body.includes(marker), `${r.method} ${r.url} carried the plaintext`);
  for (const f of frames) assert.ok(!f.includes(marker), 'a WebSocket frame carried the plaintext');

  // The wallet opens it with the key it derives from //Bob: the page encrypted to the same.
  const wallet = join(process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'datacoop-target'), 'release', 'datacoop');
  assert.ok(existsSync(wallet), `the wallet is not built at ${wallet} (scripts/test.sh builds it)`);
  {
    const out = join(stack.dir, 'decrypted.json');
    // The wallet reads at the finalized block, which may be a few blocks behind.
    for (let tries = 1; ; tries++) {
      try {
        execFileSync(wallet, ['--account', '//Bob', 'decrypt', String(contributionId), '-o', out], {
          env: { ...stack.env, DATACOOP_URL: `ws://127.0.0.1:${stack.ports.RPC}`, DATACOOP_STORAGE: `http://127.0.0.1:${stack.ports.STORAGE}` },
          stdio: ['ignore', 'pipe', 'pipe']
        });
        break;
      } catch (e) {
        if (tries >= 15) throw new Error(`the wallet cannot decrypt contribution #${contributionId}: ${e.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
    assert.ok(readFileSync(out).equals(chat), 'the wallet decrypts exactly the file contributed');
  }
});

test('4. //Alice deposits rewards; //Bob sees and claims his share', async () => {
  await send(api.tx.datasetTokens.depositRewards(daoId, 100n * UNIT), keys.Alice);
  const owed = (await api.call.dataDaosApi.claimableRewards(daoId, keys.Bob.address)).toBigInt();
  assert.ok(owed > 0n);
  const free = async () => (await api.query.system.account(keys.Bob.address)).data.free.toBigInt();
  const before = await free();
  await page.click(testid('tab-mydata'));
  await page.waitForFunction((id) => /^[1-9][\d,.]* COOP$/.test(document.querySelector(`[data-testid="claimable-${id}"]`)?.textContent ?? ''), daoId);
  assert.equal(await page.textContent(testid(`my-contribution-status-${contributionId}`)), 'Accepted');
  assert.match(await page.textContent(testid(`balance-${daoId}`)), /CHAT$/);
  await page.click(testid(`claim-${daoId}`));
  await page.waitForSelector(testid('mydata-message'), { timeout: 60_000 });
  assert.match(await page.textContent(testid('mydata-message')), /^Claimed [\d,.]+ COOP from DAO #\d+\.$/);
  assert.equal(await page.textContent(testid(`claimable-${daoId}`)), '0 COOP');
  assert.equal((await api.call.dataDaosApi.claimableRewards(daoId, keys.Bob.address)).toBigInt(), 0n);
  // Paid the rewards, less the fee of the claim.
  const gained = (await free()) - before;
  assert.ok(gained > owed - UNIT && gained <= owed, `balance moved by ${gained}, owed ${owed}`);
  await shot(page, '04-claim.png');
});

test('5. //Alice proposes an offer; //Bob votes aye on the page', async () => {
  const events = await send(api.tx.daoGovernance.propose(daoId,
    { SetOffer: { scope: 'Anonymized', pricePerDay: 2n * UNIT, maxDays: 10 } }, ''), keys.Alice);
  const id = eventData(events, 'daoGovernance', 'Proposed').proposalId.toNumber();
  await page.click(testid('tab-governance'));
  await page.waitForSelector(testid(`vote-aye-${id}`), { timeout: 30_000 });
  assert.match(await page.textContent(testid(`proposal-action-${id}`)), /Offer anonymized records at 2 COOP a day, up to 10 days/);
  await page.click(testid(`vote-aye-${id}`));
  await page.waitForSelector(testid(`proposal-my-vote-${id}`), { timeout: 30_000 });
  assert.match(await page.textContent(testid('governance-message')), new RegExp(`^You voted aye on proposal #${id} with [\\d,.]+ CHAT`));
  const held = (await api.call.dataDaosApi.tokenBalance(daoId, keys.Bob.address)).toBigInt();
  const tally = (await api.call.governanceApi.proposal(id)).unwrap();
  assert.equal(tally.ayes.toBigInt(), held);
  await shot(page, '05-vote.png');
});

test('6. refused before anything is uploaded or submitted: too large, retired, extension refuses', async () => {
  const rules = (await api.call.dataDaosApi.dao(daoId)).unwrap().rules.toJSON();
  const create = async (name, symbol, min, max) => {
    const [collective, proof] = await silentCollective(api, keys.Alice);
    const events = await send(api.tx.dataDaos.create(name, '', { name, symbol }, collective,
      { ...rules, minContributionSize: min, maxContributionSize: max }, proof), keys.Alice);
    return eventData(events, 'dataDaos', 'Created').daoId.toNumber();
  };
  const tiny = await create('Tiny', 'TINY', 100, 1000);
  const old = await create('Old', 'OLD', 100, 100_000_000);
  await send(api.tx.dataDaos.retire(old), keys.Alice);

  const quiet = () => ({ uploads: uploads().length, submits: submits().length });
  const check = async (p, dao, file, expected) => {
    const was = quiet();
    await p.click(testid('tab-contribute'));
    await p.waitForSelector(`${testid('contribute-dao')} option[value="${dao}"]`, { state: 'attached' });
    await p.selectOption(testid('contribute-dao'), String(dao));
    await p.setInputFiles(testid('contribute-file'), { name: 'chat.json', mimeType: 'application/json', buffer: file });
    await p.click(testid('contribute-submit'));
    await p.waitForSelector(`${testid('contribute-error')}:not([hidden])`, { timeout: 30_000 });
    const text = await p.textContent(testid('contribute-error'));
    assert.match(text, expected);
    await p.waitForTimeout(500);
    assert.deepEqual(quiet(), was, 'nothing was uploaded or submitted');
    return text;
  };

  await page.reload();
  await page.click(testid('tab-connect'));
  await page.waitForSelector(`${testid('account-select')} option[value="dev://Bob"]`, { state: 'attached' });
  await page.selectOption(testid('account-select'), 'dev://Bob');
  const big = await check(page, tiny, chatExport(keys.Bob.address, 'too-big', 30),
    new RegExp(`^chat\\.json would be [\\d,]+ bytes encrypted; DAO #${tiny} takes 100 bytes to 1,000 bytes\\.$`));
  assert.ok(big);
  await shot(page, '06-too-large.png');
  await check(page, old, chat, new RegExp(`^DAO #${old} is retired and takes no new contributions\\.$`));
  await shot(page, '07-retired.png');

  // An extension account whose extension refuses to sign.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(([address, penniless]) => {
    const accounts = [{ address, name: 'ext', type: 'sr25519' }, { address: penniless, name: 'penniless', type: 'sr25519' }];
    window.injectedWeb3 = window.injectedWeb3 || {};
    window.injectedWeb3.fake = {
      version: '1',
      enable: async () => ({
        accounts: { get: async () => accounts, subscribe: (cb) => { cb(accounts); return () => {}; } },
        signer: {
          signRaw: async () => { throw new Error('Cancelled'); },
          signPayload: async () => { throw new Error('Cancelled'); }
        }
      })
    };
  }, [keys.Charlie.address, keys.Penniless.address]);
  const ext = await openPage(context);
  await ext.goto(pageUrl);
  const key = `ext:fake:${keys.Charlie.address}`;
  await ext.waitForSelector(`${testid('account-select')} option[value="${key}"]`, { state: 'attached', timeout: 60_000 });
  await ext.selectOption(testid('account-select'), key);
  await check(ext, daoId, chatExport(keys.Charlie.address, 'refused'), /^The statement was not signed, so nothing was uploaded: Cancelled\.$/);
  await shot(ext, '08-extension-refuses.png');

  // An account that cannot pay the deposits: said before anything is signed.
  const poor = `ext:fake:${keys.Penniless.address}`;
  await ext.click(testid('tab-connect'));
  await ext.selectOption(testid('account-select'), poor);
  await check(ext, daoId, chatExport(keys.Penniless.address, 'penniless'),
    /^Contributing to DAO #\d+ holds [\d,.]+ COOP in deposits and costs about [\d,.]+ COOP in fees; penniless \(fake\) has 0 COOP\.$/);

  // A chain that does not answer is said.
  const down = await openPage(context);
  await down.route('**/config.json', (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({ chain: 'ws://127.0.0.1:9', storage: 'http://127.0.0.1:9', collective: 'http://127.0.0.1:9', dev: true })
  }));
  await down.goto(pageUrl);
  await down.waitForSelector(`${testid('chain-error')}:not([hidden])`, { timeout: 20_000 });
  assert.match(await down.textContent(testid('chain-error')), /^The chain at ws:\/\/127\.0\.0\.1:9 cannot be reached/);
  await shot(down, '09-chain-down.png');
  await context.close();
});

test('7. an extension account contributes: Accepted, and its key opens the ciphertext', async () => {
  // A stand-in for the polkadot{.js} extension holding //Dave: raw messages signed wrapped in
  // <Bytes>, transactions signed from the payload the page hands over.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.exposeFunction('fakeExtensionSign', (kind, what) => {
    if (kind === 'raw') return u8aToHex(keys.Dave.sign(u8aWrapBytes(hexToU8a(what.data))));
    return api.registry.createType('ExtrinsicPayload', what, { version: what.version }).sign(keys.Dave).signature;
  });
  await context.addInitScript((address) => {
    const accounts = [{ address, name: 'Dave in an extension', type: 'sr25519' }];
    window.injectedWeb3 = window.injectedWeb3 || {};
    let id = 0;
    window.injectedWeb3['fake-signer'] = {
      version: '1',
      enable: async () => ({
        accounts: { get: async () => accounts, subscribe: (cb) => { cb(accounts); return () => {}; } },
        signer: {
          signRaw: async (raw) => ({ id: ++id, signature: await window.fakeExtensionSign('raw', raw) }),
          signPayload: async (payload) => ({ id: ++id, signature: await window.fakeExtensionSign('payload', payload) })
        }
      })
    };
  }, keys.Dave.address);
  const p = await openPage(context);
  await p.goto(`${pageUrl}#connect`);
  const key = `ext:fake-signer:${keys.Dave.address}`;
  await p.waitForSelector(`${testid('account-select')} option[value="${key}"]`, { state: 'attached', timeout: 60_000 });
  await p.selectOption(testid('account-select'), key);
  await p.click(testid('tab-contribute'));
  await p.waitForSelector(`${testid('contribute-dao')} option[value="${daoId}"]`, { state: 'attached' });
  await p.selectOption(testid('contribute-dao'), String(daoId));
  const marker = `extension-marker-${randomAsHex(8).slice(2)}`;
  const file = chatExport(keys.Dave.address, marker);
  await p.setInputFiles(testid('contribute-file'), { name: 'dave.json', mimeType: 'application/json', buffer: file });
  await p.click(testid('contribute-submit'));
  await p.waitForFunction(() => ['Accepted', 'Rejected'].includes(document.querySelector('[data-testid="contribute-status"]')?.textContent ?? '')
    || !document.querySelector('[data-testid="contribute-error"]')?.hidden, null, { timeout: 150_000 });
  const error = await p.$(`${testid('contribute-error')}:not([hidden])`);
  assert.equal(error ? await error.textContent() : null, null);
  assert.equal(await p.textContent(testid('contribute-status')), 'Accepted', await p.textContent(testid('contribute-result')));
  await shot(p, '10-extension-accepted.png');

  // My data offers the key the page keeps for this account; it opens the stored ciphertext.
  await p.click(testid('tab-mydata'));
  await p.waitForSelector(`${testid('save-key')}:not([disabled])`);
  const [download] = await Promise.all([p.waitForEvent('download'), p.click(testid('save-key'))]);
  const keyFile = join(stack.dir, 'dave-key.txt');
  await download.saveAs(keyFile);
  assert.match(readFileSync(keyFile, 'utf8'), /^AGE-SECRET-KEY-1[0-9A-Z]+$/m);
  const ids = (await api.query.contributions.byContributor.keys(keys.Dave.address)).map((k) => k.args[1].toNumber());
  const c = (await api.call.contributionsApi.contribution(Math.max(...ids))).unwrap();
  assert.ok(c.status.isAccepted);
  const blob = join(stack.dir, 'dave.age');
  writeFileSync(blob, Buffer.from(await (await fetch(c.url.toUtf8())).arrayBuffer()));
  // The age tool: scripts/test.sh installs it (Debian package `age`).
  const plain = execFileSync('age', ['-d', '-i', keyFile, blob]);
  assert.match(plain.subarray(0, 287).toString(), /^datacoop-statement\/v1 [0-9a-f]{264}\n$/);
  assert.ok(plain.subarray(287).equals(file), 'the key opens exactly the file contributed');
  await shot(p, '11-extension-mydata.png');
  await context.close();
});

test('8. the collective server down: the contribution stays Pending, shown as such', async () => {
  // A DAO whose collective server never answers (nothing listens on port 9).
  const rules = (await api.call.dataDaosApi.dao(daoId)).unwrap().rules.toJSON();
  const [collective, proof] = await silentCollective(api, keys.Alice);
  const events = await send(api.tx.dataDaos.create('Silent', '', { name: 'Silent', symbol: 'SLNT' },
    collective, rules, proof), keys.Alice);
  const silent = eventData(events, 'dataDaos', 'Created').daoId.toNumber();
  await page.reload();
  await page.click(testid('tab-connect'));
  await page.waitForSelector(`${testid('account-select')} option[value="dev://Bob"]`, { state: 'attached' });
  await page.selectOption(testid('account-select'), 'dev://Bob');
  await page.click(testid('tab-contribute'));
  await page.waitForSelector(`${testid('contribute-dao')} option[value="${silent}"]`, { state: 'attached' });
  await page.selectOption(testid('contribute-dao'), String(silent));
  await page.setInputFiles(testid('contribute-file'), { name: 'chat.json', mimeType: 'application/json', buffer: chatExport(keys.Bob.address, 'silent') });
  await page.click(testid('contribute-submit'));
  await page.waitForSelector(testid('contribute-status'), { timeout: 60_000 });
  assert.equal(await page.textContent(testid('contribute-status')), 'Pending');
  const submittedAt = (await api.rpc.chain.getHeader()).number.toNumber();
  // Three blocks later it is still Pending on chain and on the page, which says why.
  while ((await api.rpc.chain.getHeader()).number.toNumber() < submittedAt + 3) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  assert.equal(await page.textContent(testid('contribute-status')), 'Pending');
  assert.match(await page.textContent(testid('contribute-note')), /collective server/);
  const error = await page.$(`${testid('contribute-error')}:not([hidden])`);
  assert.equal(error ? await error.textContent() : null, null);
  const ids = (await api.query.contributions.byContributor.keys(keys.Bob.address)).map((k) => k.args[1].toNumber());
  const c = (await api.call.contributionsApi.contribution(Math.max(...ids))).unwrap();
  assert.equal(c.daoId.toNumber(), silent);
  assert.ok(c.status.isPending);
  await shot(page, '12-collective-down-pending.png');
  // My data lists it as Pending too.
  await page.click(testid('tab-mydata'));
  const id = Math.max(...ids);
  await page.waitForSelector(testid(`my-contribution-status-${id}`), { timeout: 30_000 });
  assert.equal(await page.textContent(testid(`my-contribution-status-${id}`)), 'Pending');
  // Cancelling is open once the chain's timeout has passed (an hour): the page says from when.
  const from = c.submittedAt.toNumber() + api.consts.contributions.pendingTimeout.toNumber();
  await page.waitForSelector(testid(`cancel-wait-${id}`), { timeout: 30_000 });
  assert.match(await page.textContent(testid(`cancel-wait-${id}`)), new RegExp(`^can be cancelled from block ${from}, in `));
  assert.equal(await page.$(testid(`cancel-${id}`)), null, 'no Cancel button before the timeout');
});
