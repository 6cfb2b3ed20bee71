// The age envelope compiled to wasm (envelope/ in Rust, built by scripts/build-web.sh into
// src/envelope/pkg/), loaded once for the page. The worker loads its own copy.
import init, * as wasm from './envelope/pkg/datacoop_envelope_wasm.js';

let ready: Promise<typeof wasm> | null = null;

/** The envelope module, initialised. */
export function envelope (): Promise<typeof wasm> {
  ready ??= init().then(() => wasm);
  return ready;
}
