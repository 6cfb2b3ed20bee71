// Writes a raw chain spec whose genesis state looks like a chain after some use, for
// `datacoop-node benchmark storage` (scripts/benchmark.sh db): database costs depend on how big
// the state is, and the dev chain's genesis is nearly empty.
//
//   node e2e/js/tools/synthetic-state.mjs IN_RAW_SPEC OUT_SPEC CONTRIBUTIONS
//
// For CONTRIBUTIONS contributions it adds, under the real storage prefixes: a
// `Contributions::Contributions` record (300 bytes, about a judged record's size) and its
// three index entries (`ByCiphertext`, `Fingerprints`, `ByContributor`); one `System::Account`
// (80 bytes) per two contributions; and one `DatasetTokens::Holdings` (80 bytes) per two.
// Keys have the shape of the real ones (hashers included); values are random bytes of the
// real sizes: the benchmark reads and writes raw values and never decodes them.
//
// It lives here for e2e/js's node_modules (@polkadot/util-crypto, for twox128).
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { u8aToHex } from '@polkadot/util';
import { xxhashAsU8a } from '@polkadot/util-crypto';

const [input, output, countArg] = process.argv.slice(2);
const contributions = Number(countArg);
if (!input || !output || !Number.isSafeInteger(contributions) || contributions <= 0) {
	console.error('usage: node synthetic-state.mjs IN_RAW_SPEC OUT_SPEC CONTRIBUTIONS');
	process.exit(2);
}

const prefix = (pallet, item) =>
	Buffer.concat([xxhashAsU8a(pallet, 128), xxhashAsU8a(item, 128)]);
const hex = (buf) => u8aToHex(buf).slice(2);
const PLACEHOLDER = '__synthetic_state__';

const spec = JSON.parse(readFileSync(input, 'utf8'));
const top = spec?.genesis?.raw?.top;
if (!top) {
	console.error(`${input} is not a raw chain spec (no genesis.raw.top)`);
	process.exit(2);
}
top[PLACEHOLDER] = '';
const [head, tail] = JSON.stringify(spec).split(`"${PLACEHOLDER}":""`);

// The placeholder is the last key of `top`, which has real entries before it: `head` ends
// with the comma after the last real one, and each synthetic entry brings its own.
const out = openSync(output, 'w');
writeSync(out, head.replace(/,$/, ''));
let written = 0;
const put = (key, valueLen) => {
	writeSync(out, `,"0x${hex(key)}":"0x${hex(randomBytes(valueLen))}"`);
	written += 1;
};

const account = prefix('System', 'Account');
const record = prefix('Contributions', 'Contributions');
const byCiphertext = prefix('Contributions', 'ByCiphertext');
const fingerprints = prefix('Contributions', 'Fingerprints');
const byContributor = prefix('Contributions', 'ByContributor');
const holdings = prefix('DatasetTokens', 'Holdings');
const id = (n) => {
	const b = Buffer.alloc(8);
	b.writeBigUInt64LE(BigInt(n));
	return b;
};
const dao = (n) => {
	const b = Buffer.alloc(4);
	b.writeUInt32LE(n % 50);
	return b;
};

for (let n = 0; n < contributions; n += 1) {
	// Twox64Concat / Blake2_128Concat: an 8- or 16-byte hash, then the key itself.
	put(Buffer.concat([record, randomBytes(8), id(n)]), 300);
	put(Buffer.concat([byCiphertext, randomBytes(8), dao(n), randomBytes(16), randomBytes(32)]), 8);
	put(Buffer.concat([fingerprints, randomBytes(8), dao(n), randomBytes(16), randomBytes(32)]), 8);
	put(Buffer.concat([byContributor, randomBytes(16), randomBytes(32), randomBytes(8), id(n)]), 0);
	if (n % 2 === 0) {
		put(Buffer.concat([account, randomBytes(16), randomBytes(32)]), 80);
		put(Buffer.concat([holdings, randomBytes(8), dao(n), randomBytes(16), randomBytes(32)]), 80);
	}
}
writeSync(out, tail);
closeSync(out);
console.error(`wrote ${written} synthetic entries to ${output}`);
