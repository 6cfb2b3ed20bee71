// The page's envelope (envelope/wasm, as the page loads it) writes the wallet's format: what
// it seals opens with `age -d` and with `datacoop decrypt-file` (the account's contribution
// key, derived in the page as the wallet derives it), and has the size and header layout of
// what `datacoop encrypt` writes. Needs scripts/build-web.sh --wasm, the wallet binary and
// the `age` tool (scripts/test.sh provides all three).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { initSync, Sealer, Identity, encrypted_len, contribution_recipient, recipient_from_bytes }
  from '../src/envelope/pkg/datacoop_envelope_wasm.js';
import { ChunkSealer } from '../src/chunks.js';

const here = dirname(fileURLToPath(import.meta.url));
const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'datacoop-target');
const wallet = join(target, 'release', 'datacoop');
initSync({ module: readFileSync(join(here, '..', 'src', 'envelope', 'pkg', 'datacoop_envelope_wasm_bg.wasm')) });

const CHUNK = 65536;

// What the page's worker does: the header, then each 64 KiB chunk sealed (`sealInto`, into a
// reused buffer), the last flagged. `seal`, which returns a new array, seals every other file.
function seal (recipients, plain, into) {
  const sealer = new Sealer(recipients);
  const parts = [sealer.header()];
  const chunks = Math.max(1, Math.ceil(plain.length / CHUNK));
  const out = new Uint8Array(CHUNK + 16);
  for (let i = 0; i < chunks; i++) {
    const chunk = plain.subarray(i * CHUNK, (i + 1) * CHUNK);
    if (into) {
      const n = sealer.sealInto(chunk, i + 1 === chunks, out);
      parts.push(Buffer.from(out.subarray(0, n)));
    } else {
      parts.push(sealer.seal(chunk, i + 1 === chunks));
    }
  }
  assert.ok(sealer.isDone());
  sealer.free();
  return Buffer.concat(parts);
}

function data (len) {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = (i * 7 + (i >> 11)) & 0xff;
  return out;
}

test('what the page seals opens with age and with the wallet, in the wallet\'s layout', async () => {
  await cryptoWaitReady();
  const dir = mkdtempSync(join(tmpdir(), 'datacoop-web-envelope-'));
  try {
    const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
    const mine = new Identity();
    writeFileSync(join(dir, 'key.txt'), mine.secret() + '\n');
    const recipients = [mine.recipient(), contribution_recipient(bob.publicKey, '//Bob')];
    for (const [i, len] of [0, 1, CHUNK, 2 * CHUNK, 3 * CHUNK + 17].entries()) {
      const plain = data(len);
      const sealed = seal(recipients, plain, i % 2 === 0);
      assert.equal(sealed.length, encrypted_len(len, 2), `${len} bytes`);
      writeFileSync(join(dir, 'sealed.age'), sealed);
      writeFileSync(join(dir, 'plain'), plain);
      const byAge = execFileSync('age', ['-d', '-i', join(dir, 'key.txt'), join(dir, 'sealed.age')]);
      assert.ok(byAge.equals(plain), `age opens ${len} bytes`);
      rmSync(join(dir, 'out'), { force: true });
      execFileSync(wallet, ['--account', '//Bob', 'decrypt-file', join(dir, 'sealed.age'), '-o', join(dir, 'out')]);
      assert.ok(readFileSync(join(dir, 'out')).equals(plain), `the wallet opens ${len} bytes as //Bob`);
      // The wallet's own file of the same plaintext for the same two recipients: same size,
      // same header lines but for the random stanza and MAC values.
      execFileSync(wallet, ['encrypt', join(dir, 'plain'), '--to', recipients[0], '--to', recipients[1], '-o', join(dir, 'cli.age')]);
      const cli = readFileSync(join(dir, 'cli.age'));
      assert.equal(cli.length, sealed.length);
      const layout = (b) => b.subarray(0, b.indexOf('\n---') + 4).toString('latin1')
        .split('\n').map((l) => l.replace(/[A-Za-z0-9+/]{43}/g, '<b64>'));
      assert.deepEqual(layout(sealed), layout(cli));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the page\'s envelope refuses what would make a file nobody can read', () => {
  assert.throws(() => new Sealer([]), /no recipients/);
  assert.throws(() => new Sealer(['age1notakey']), /age1notakey/);
  const sealer = new Sealer([new Identity().recipient()]);
  assert.throws(() => sealer.seal(new Uint8Array(10), false), /64 KiB/);
  assert.throws(() => sealer.sealInto(new Uint8Array(5), true, new Uint8Array(20)), /no room/);
  sealer.seal(new Uint8Array(5), true);
  assert.throws(() => sealer.seal(new Uint8Array(5), true), /last chunk was sealed/);
  assert.throws(() => recipient_from_bytes(new Uint8Array(31)), /32 bytes/);
  assert.throws(() => encrypted_len(-1, 1), /whole number/);
  assert.throws(() => Identity.parse('AGE-SECRET-KEY-1XYZ'), /invalid key|key/i);
  // A DAO's collective key (32 bytes on chain) becomes the recipient the CLI prints.
  const id = new Identity();
  assert.match(recipient_from_bytes(new Uint8Array(32).fill(9)), /^age1[0-9a-z]{58}$/);
  assert.match(id.secret(), /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
});

// The worker's own chunking (chunks.js), fed as the worker feeds it: the 287-byte statement
// line, then the file in reads of any size. At the chunk and read boundaries, with the
// statement before: every file opens with age to exactly the plaintext.
test('the worker\'s chunking seals at every chunk and read boundary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datacoop-web-chunks-'));
  try {
    const me = new Identity();
    writeFileSync(join(dir, 'key.txt'), me.secret() + '\n');
    const line = Buffer.alloc(287, 0x61);
    const MIB = 1 << 20;
    const sizes = [0, 1, CHUNK - 287 - 1, CHUNK - 287, CHUNK - 287 + 1, 2 * CHUNK - 287, MIB - 1, MIB, MIB + 1, 3 * MIB + 5];
    for (const [i, len] of sizes.entries()) {
      const file = data(len);
      const parts = [];
      // A small buffer (3 sealed chunks) so that it is handed out and reused several times.
      const chunks = new ChunkSealer(new Sealer([me.recipient()]), (b) => parts.push(Buffer.from(b)), 3);
      chunks.push(line);
      // Reads of 1 MiB, or of odd sizes (a BYOB reader hands out what it has).
      const read = i % 2 ? MIB : 40_000 + i;
      for (let at = 0; at < len; at += read) chunks.push(file.subarray(at, Math.min(at + read, len)));
      chunks.finish();
      assert.throws(() => chunks.push(Buffer.from('x')), /finished/);
      const sealed = Buffer.concat(parts);
      assert.equal(sealed.length, encrypted_len(287 + len, 1), `${len} bytes`);
      writeFileSync(join(dir, 'sealed.age'), sealed);
      const opened = execFileSync('age', ['-d', '-i', join(dir, 'key.txt'), join(dir, 'sealed.age')], { maxBuffer: 64 << 20 });
      assert.ok(opened.equals(Buffer.concat([line, file])), `${len} bytes open as they were`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
