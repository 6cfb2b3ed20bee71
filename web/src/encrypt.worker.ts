// Encrypts `prefix ‖ file` to the recipients with the wasm envelope, off the page's thread.
// Reads the file in 1 MiB slices and seals 64 KiB chunks as they fill, so memory stays flat
// however large the file: the sealed pieces are gathered into Blobs of a few MiB (which the
// browser may keep out of the JS heap), and the answer is one Blob of them all.
import init, { Sealer } from './envelope/pkg/datacoop_envelope_wasm.js';

/** age's STREAM chunk: every chunk is this long but the last. */
const CHUNK = 64 * 1024;
/** How much of the file is read at a time. */
const READ = 1024 * 1024;
/** Sealed bytes gathered before they become one Blob. */
const MERGE = 4 * 1024 * 1024;

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

async function encrypt ({ file, prefix, recipients }: EncryptRequest): Promise<Blob> {
  await init();
  const total = prefix.length + file.size;
  const sealer = new Sealer(recipients);
  try {
    const merged: Blob[] = [];
    let pieces: Uint8Array[] = [];
    let pending = 0;
    const keep = (piece: Uint8Array) => {
      pieces.push(piece);
      pending += piece.length;
      if (pending >= MERGE) {
        merged.push(new Blob(pieces as BlobPart[]));
        pieces = [];
        pending = 0;
      }
    };
    keep(sealer.header());
    const chunk = new Uint8Array(CHUNK);
    let fill = 0;
    // A full chunk is sealed only once more bytes come: the last chunk may be full too.
    const feed = (bytes: Uint8Array) => {
      let at = 0;
      while (at < bytes.length) {
        if (fill === CHUNK) {
          keep(sealer.seal(chunk, false));
          fill = 0;
        }
        const n = Math.min(CHUNK - fill, bytes.length - at);
        chunk.set(bytes.subarray(at, at + n), fill);
        fill += n;
        at += n;
      }
    };
    feed(prefix);
    let done = prefix.length;
    for (let start = 0; start < file.size; start += READ) {
      const slice = new Uint8Array(await file.slice(start, Math.min(start + READ, file.size)).arrayBuffer());
      feed(slice);
      done += slice.length;
      post({ type: 'progress', done, total });
    }
    if (done !== total) throw new Error(`the file changed while it was read (${done} bytes of ${total})`);
    keep(sealer.seal(chunk.subarray(0, fill), true));
    post({ type: 'progress', done: total, total });
    return new Blob([...merged, ...(pieces as BlobPart[])], { type: 'application/octet-stream' });
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
