// Types of chunks.js (plain JavaScript, so the Node.js tests run it as the worker does).
export declare const CHUNK: number;
export declare const SEALED: number;
export interface ChunkSink {
  header(): Uint8Array;
  sealInto(chunk: Uint8Array, last: boolean, out: Uint8Array): number;
}
export declare class ChunkSealer {
  constructor (sealer: ChunkSink, emit: (bytes: Uint8Array) => void, gather?: number);
  push (bytes: Uint8Array): void;
  finish (): void;
}
