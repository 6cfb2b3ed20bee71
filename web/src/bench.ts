// The browser's encryption throughput: `window.benchEncrypt(mib)` encrypts `mib` MiB of
// non-repetitive bytes with encryptFile (the worker and the wasm envelope, as a contribution
// is) to one fresh identity, and answers how long encryptFile took and how many bytes it made.
import { encryptFile } from './encrypt';
import { envelope } from './envelope';

const MIB = 1024 * 1024;

/** `mib` MiB of non-repetitive bytes (xorshift), as a Blob of 1 MiB parts. */
function data (mib: number): Blob {
  const parts: Uint8Array[] = [];
  let x = 0x9e3779b9 >>> 0;
  for (let i = 0; i < mib; i++) {
    const part = new Uint8Array(MIB);
    const words = new Uint32Array(part.buffer);
    for (let j = 0; j < words.length; j++) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      words[j] = x;
    }
    parts.push(part);
  }
  return new Blob(parts as BlobPart[]);
}

declare global {
  interface Window {
    benchEncrypt: (mib: number) => Promise<{ seconds: number, bytes: number }>;
    benchEncryptFile: () => Promise<{ seconds: number, bytes: number }>;
  }
}

window.benchEncrypt = async (mib: number) => {
  const wasm = await envelope();
  const id = new wasm.Identity();
  const recipient = id.recipient();
  id.free();
  const file = data(mib);
  const started = performance.now();
  const blob = await encryptFile(file, new Uint8Array(), [recipient], () => {});
  const seconds = (performance.now() - started) / 1000;
  return { seconds, bytes: blob.size };
};

/** The same for the file picked in `#file` (a file on disk, as a contributor's). */
window.benchEncryptFile = async () => {
  const input = document.getElementById('file') as HTMLInputElement | null;
  const file = input?.files?.[0];
  if (!file) throw new Error('no file picked');
  const wasm = await envelope();
  const id = new wasm.Identity();
  const recipient = id.recipient();
  id.free();
  const started = performance.now();
  const blob = await encryptFile(file, new Uint8Array(), [recipient], () => {});
  const seconds = (performance.now() - started) / 1000;
  return { seconds, bytes: blob.size };
};

const state = document.getElementById('state');
envelope().then(
  () => { if (state) state.textContent = 'ready'; },
  (e: unknown) => { if (state) state.textContent = `the envelope failed to load: ${e instanceof Error ? e.message : String(e)}`; }
);
