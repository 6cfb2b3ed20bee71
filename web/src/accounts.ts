// The accounts the page may act as: those of a browser extension (polkadot.js and the like)
// and, on a development chain, the dev accounts //Alice ... //Ferdie. Each signs raw bytes
// (statements, upload tokens) and transactions the same way for the rest of the page.
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { SignerOptions } from '@polkadot/api/types';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';

export interface PageAccount {
  /** Unique in the picker: `dev://Bob`, `ext:<source>:<address>`. */
  key: string;
  address: string;
  publicKey: Uint8Array;
  name: string;
  source: 'dev' | 'extension';
  /** The extension's name, for an extension account. */
  extension?: string;
  /** The secret URI of a dev account (`//Bob`): the wallet derives its contribution key from it. */
  uri?: string;
  pair?: KeyringPair;
}

export const DEV_NAMES = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'];

/** The dev accounts, sr25519 from `//Name`, with addresses in the chain's SS58 format. */
export async function devAccounts (ss58: number): Promise<PageAccount[]> {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: ss58 });
  return DEV_NAMES.map((name) => {
    const uri = `//${name}`;
    const pair = keyring.addFromUri(uri, { name });
    return { key: `dev:${uri}`, address: pair.address, publicKey: pair.publicKey, name: `${uri} (dev)`, source: 'dev', uri, pair };
  });
}

/**
 * The accounts of the browser's extensions, after asking them to let "Datacoop" in. `note`
 * says why there are none (no extension, or access refused).
 */
export async function extensionAccounts (): Promise<{ accounts: PageAccount[], note: string }> {
  const { web3Enable, web3Accounts } = await import('@polkadot/extension-dapp');
  const extensions = await web3Enable('Datacoop');
  if (extensions.length === 0) {
    return { accounts: [], note: 'No browser extension with accounts (or access to it was refused): install one such as polkadot{.js}, or use a dev account.' };
  }
  const found = await web3Accounts();
  const accounts = found
    .filter((a) => !a.type || a.type === 'sr25519')
    .map((a): PageAccount => ({
      key: `ext:${a.meta.source}:${a.address}`,
      address: a.address,
      publicKey: decodeAddress(a.address),
      name: `${a.meta.name ?? a.address.slice(0, 8)} (${a.meta.source})`,
      source: 'extension',
      extension: a.meta.source
    }));
  const note = accounts.length === 0 ? 'The browser extension offers no sr25519 account: create one there, or use a dev account.' : '';
  return { accounts, note };
}

/**
 * `account`'s sr25519 signature (64 bytes) over `message`. An extension signs it wrapped in
 * `<Bytes>` … `</Bytes>`, which the storage service and the collective server accept.
 */
export async function signBytes (account: PageAccount, message: Uint8Array): Promise<Uint8Array> {
  if (account.pair) return account.pair.sign(message);
  const { web3FromAddress } = await import('@polkadot/extension-dapp');
  const injector = await web3FromAddress(account.address);
  if (!injector.signer.signRaw) throw new Error(`the extension ${account.extension ?? ''} cannot sign raw messages`);
  const { signature } = await injector.signer.signRaw({ address: account.address, data: u8aToHex(message), type: 'bytes' });
  let bytes = hexToU8a(signature);
  // Some signers put the MultiSignature type byte first (1: sr25519).
  if (bytes.length === 65) {
    if (bytes[0] !== 1) throw new Error('the extension signed with another key type than sr25519, which the chain\'s services do not accept');
    bytes = bytes.subarray(1);
  }
  if (bytes.length !== 64) throw new Error(`the extension answered with a ${bytes.length}-byte signature, not 64 bytes`);
  // Checked here, as the storage service and the collective server will check it: a signature
  // they refuse would cost an upload, or a deposit slashed for a contribution judged Invalid.
  if (!sr25519Verify(message, bytes, account.publicKey) && !sr25519Verify(u8aWrapBytes(message), bytes, account.publicKey)) {
    throw new Error('the extension\'s signature does not verify for this account (is it an sr25519 account?)');
  }
  return bytes;
}

/** What `signAndSend` takes for `account`: the pair, or the address and the extension's signer. */
export async function txSigner (account: PageAccount): Promise<{ signer: KeyringPair | string, options: Partial<SignerOptions> }> {
  if (account.pair) return { signer: account.pair, options: {} };
  const { web3FromAddress } = await import('@polkadot/extension-dapp');
  const injector = await web3FromAddress(account.address);
  return { signer: account.address, options: { signer: injector.signer } };
}
