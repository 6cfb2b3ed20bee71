// Encrypts `prefix ‖ file` to the recipients with the wasm envelope, off the page's thread,
// allocating nothing per chunk, so memory stays flat however large the file: the file is read
// into one reused 1 MiB buffer (a BYOB reader where the browser has one, else 1 MiB slices),
// and ChunkSealer (chunks.js) seals each 64 KiB chunk straight into one reused 4 MiB buffer,
// copied into a Blob when full (which the browser keeps out of the page's heap); the answer is
// one Blob of them all.
import init, { Sealer } from './envelope/pkg/datacoop_envelope_wasm.js';
import { ChunkSealer } from './chunks.js';

/** How much of the file is read at a time. */
const READ = 1024 * 1024;

export interface EncryptRequest {
  file: Blob;
  prefix: Uint8Array;
  recipients: string[];
}

export type EncryptAnswer =
  | { type: 'progress', done: number, total: number }
  | { type: 'done', blob: Blob }
  | { type: 'error', message: string };

const post = (m: EncryptAnswer) => (self as unknown as Worker).postMessage(m);

/** The file's bytes in order, each view valid until the next is asked for. */
async function * read (file: Blob): AsyncGenerator<Uint8Array> {
  let reader: ReadableStreamBYOBReader | null = null;
  try {
    reader = file.stream().getReader({ mode: 'byob' });
  } catch {
    reader = null; // no byte stream for Blobs in this browser
  }
  if (!reader) {
    for (let start = 0; start < file.size; start += READ) {
      yield new Uint8Array(await file.slice(start, Math.min(start + READ, file.size)).arrayBuffer());
    }
    return;
  }
  // The buffer goes to the reader and comes back with each read: one buffer for the file.
  let buffer = new ArrayBuffer(READ);
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer));
    if (done || !value) return;
    yield value;
    buffer = value.buffer;
  }
}

async function encrypt ({ file, prefix, recipients }: EncryptRequest): Promise<Blob> {
  await init();
  const total = prefix.length + file.size;
  const sealer = new Sealer(recipients);
  try {
    const blobs: Blob[] = [];
    // The Blob constructor copies the bytes: the buffer is free again at once.
    const chunks = new ChunkSealer(sealer, (bytes) => blobs.push(new Blob([bytes as BlobPart])));
    chunks.push(prefix);
    let done = prefix.length;
    let told = 0;
    for await (const bytes of read(file)) {
      if (done + bytes.length > total) throw new Error(`the file changed while it was read (more than ${file.size} bytes)`);
      chunks.push(bytes);
      done += bytes.length;
      if (done - told >= READ) {
        post({ type: 'progress', done, total });
        told = done;
      }
    }
    if (done !== total) throw new Error(`the file changed while it was read (${done} bytes of ${total})`);
    chunks.finish();
    post({ type: 'progress', done: total, total });
    return new Blob(blobs, { type: 'application/octet-stream' });
  } finally {
    sealer.free();
  }
}

self.onmessage = (e: MessageEvent<EncryptRequest>) => {
  encrypt(e.data).then(
    (blob) => post({ type: 'done', blob }),
    (err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  );
};
