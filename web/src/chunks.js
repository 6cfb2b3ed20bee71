// Cuts a plaintext handed over in pieces of any size into age STREAM chunks and seals them:
// every chunk 64 KiB but the last, which may be shorter and is empty only when the whole
// plaintext is. Sealed chunks are gathered in one reused buffer and handed to `emit` a few MiB
// at a time, as a view the callee must copy before returning (a `Blob` made of it does). The
// encryption worker uses it; plain JavaScript (with chunks.d.ts) so that the Node.js tests
// run exactly this code against the wasm envelope.

/** age's STREAM chunk: every chunk is this long but the last. */
export const CHUNK = 64 * 1024;
/** A sealed chunk: the chunk and its Poly1305 tag. */
export const SEALED = CHUNK + 16;

export class ChunkSealer {
  /**
   * @param {{ header(): Uint8Array, sealInto(chunk: Uint8Array, last: boolean, out: Uint8Array): number }} sealer
   * @param {(bytes: Uint8Array) => void} emit
   * @param {number} gather sealed chunks gathered before `emit` (64: 4 MiB)
   */
  constructor (sealer, emit, gather = 64) {
    this.sealer = sealer;
    this.emit = emit;
    this.gathered = new Uint8Array(gather * SEALED);
    this.used = 0;
    this.chunk = new Uint8Array(CHUNK);
    this.fill = 0;
    this.finished = false;
    emit(sealer.header());
  }

  /** Seals `chunk` into the buffer, handing the buffer out first when it is full. */
  seal (chunk, last) {
    if (this.used + SEALED > this.gathered.length) {
      this.emit(this.gathered.subarray(0, this.used));
      this.used = 0;
    }
    this.used += this.sealer.sealInto(chunk, last, this.gathered.subarray(this.used, this.used + SEALED));
  }

  /** The next bytes of the plaintext. A full chunk is sealed only once more bytes come: the
   * last chunk may be a full one. */
  push (bytes) {
    if (this.finished) throw new Error('the plaintext was finished already');
    let at = 0;
    while (at < bytes.length) {
      if (this.fill === CHUNK) {
        this.seal(this.chunk, false);
        this.fill = 0;
      }
      const n = Math.min(CHUNK - this.fill, bytes.length - at);
      this.chunk.set(bytes.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
    }
  }

  /** Seals the last chunk and hands out what is left. */
  finish () {
    if (this.finished) throw new Error('the plaintext was finished already');
    this.finished = true;
    this.seal(this.chunk.subarray(0, this.fill), true);
    this.emit(this.gathered.subarray(0, this.used));
    this.used = 0;
  }
}
