// Encryption of a contribution in a Web Worker (see encrypt.worker.ts): the page stays
// responsive and hears the progress.
import type { EncryptAnswer, EncryptRequest } from './encrypt.worker';

/**
 * The age ciphertext of `prefix ‖ file` to `recipients` (age1…), 64 KiB STREAM chunks;
 * `onProgress(done, total)` hears the plaintext bytes sealed so far.
 */
export function encryptFile (
  file: Blob,
  prefix: Uint8Array,
  recipients: string[],
  onProgress: (done: number, total: number) => void
): Promise<Blob> {
  const worker = new Worker(new URL('./encrypt.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<Blob>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<EncryptAnswer>) => {
      const m = e.data;
      if (m.type === 'progress') {
        onProgress(m.done, m.total);
      } else if (m.type === 'done') {
        worker.terminate();
        resolve(m.blob);
      } else {
        worker.terminate();
        reject(new Error(`Encryption failed: ${m.message}`));
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      worker.terminate();
      reject(new Error(`Encryption failed: ${e.message || 'the encryption worker could not start'}`));
    };
    const request: EncryptRequest = { file, prefix, recipients };
    worker.postMessage(request);
  });
}
