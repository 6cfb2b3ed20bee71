// Uploads a ciphertext to the encrypted storage service (storage/: `POST /blobs`) with an
// upload token signed by the contributing account (storage/src/token.rs).
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import type { PageAccount } from './accounts';
import { signBytes } from './accounts';

export interface Stored {
  hash: string;
  size: number;
  created: boolean;
}

function u64le (n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/**
 * The message an upload token signs: `datacoop/upload/v1` ‖ account (32) ‖ 32 zero bytes (a
 * POST's hash is known only at the end) ‖ size (u64 LE) ‖ time (u64 LE) ‖ nonce (16).
 */
export function uploadMessage (account: Uint8Array, size: number, time: number, nonce: Uint8Array): Uint8Array {
  return u8aConcat(stringToU8a('datacoop/upload/v1'), account, new Uint8Array(32), u64le(size), u64le(time), nonce);
}

/** The `Authorization` header for an upload of `size` bytes, signed by `account` now. */
export async function uploadToken (account: PageAccount, size: number): Promise<string> {
  const time = Math.floor(Date.now() / 1000);
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const signature = await signBytes(account, uploadMessage(account.publicKey, size, time, nonce));
  const hex = (b: Uint8Array) => u8aToHex(b, -1, false);
  return `DatacoopUpload ${hex(account.publicKey)}:${time}:${hex(nonce)}:${size}:${hex(signature)}`;
}

/** POSTs `blob` to `${storage}/blobs` with `authorization`; `onProgress` hears the bytes sent. */
export function upload (
  storage: string,
  blob: Blob,
  authorization: string,
  onProgress: (sent: number, total: number) => void
): Promise<Stored> {
  const url = `${storage.replace(/\/$/, '')}/blobs`;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Authorization', authorization);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    // The storage service cuts uploads slower than 64 KiB/s (after a 60 s floor): the page
    // gives up a little after it would, so a request never hangs.
    xhr.timeout = (90 + blob.size / (64 * 1024)) * 1000;
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : blob.size);
    xhr.onerror = () => reject(new Error(`The storage service at ${storage} cannot be reached.`));
    xhr.ontimeout = () => reject(new Error(`The storage service at ${storage} did not answer in time.`));
    xhr.onload = () => {
      let body: { hash?: string, size?: number, created?: boolean, error?: string } = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: said below with the status
      }
      if (xhr.status >= 200 && xhr.status < 300 && typeof body.hash === 'string') {
        resolve({ hash: body.hash, size: Number(body.size), created: Boolean(body.created) });
      } else {
        const why = body.error ?? (xhr.responseText.trim().slice(0, 200) || xhr.statusText);
        reject(new Error(`The storage service refused the upload (HTTP ${xhr.status}): ${why}`));
      }
    };
    xhr.send(blob);
  });
}
