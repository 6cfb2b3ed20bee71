// The contributor's own key, the second recipient of every contribution: whoever holds it can
// open their contribution again with age or `datacoop decrypt ID`.
//
// For a dev account it is the key the CLI wallet derives from the account (`//Bob`): the same
// on the page and in the wallet. An extension does not give out secrets, so the page makes an
// age identity per extension account and keeps it in this browser's localStorage; My data
// offers it as a file to keep.
import type { PageAccount } from './accounts';
import { envelope } from './envelope';

const storageKey = (address: string) => `datacoop.identity.${address}`;

/** The stored identity of extension account `address`, if this browser has one. */
export function storedSecret (address: string): string | null {
  try {
    return localStorage.getItem(storageKey(address));
  } catch {
    return null;
  }
}

/** The age recipient (age1…) `account`'s contributions are encrypted to besides the DAO's. */
export async function ownRecipient (account: PageAccount): Promise<string> {
  const wasm = await envelope();
  if (account.uri) return wasm.contribution_recipient(account.publicKey, account.uri);
  let secret = storedSecret(account.address);
  if (!secret) {
    const id = new wasm.Identity();
    secret = id.secret();
    id.free();
    try {
      localStorage.setItem(storageKey(account.address), secret);
    } catch {
      throw new Error('This browser does not let the page keep your key (localStorage is off), so a contribution could never be opened by you: allow site data and try again.');
    }
  }
  const id = wasm.Identity.parse(secret);
  try {
    return id.recipient();
  } finally {
    id.free();
  }
}

/** Downloads extension account `account`'s key as an age identity file. */
export async function saveKey (account: PageAccount): Promise<void> {
  const secret = storedSecret(account.address);
  if (!secret) throw new Error('This browser keeps no key for this account yet: it makes one with your first contribution.');
  const wasm = await envelope();
  const id = wasm.Identity.parse(secret);
  const recipient = id.recipient();
  id.free();
  const text = `# Datacoop contribution key of ${account.address}\n# public key: ${recipient}\n# open a contribution with: age -d -i this-file contribution.age\n${secret}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `datacoop-key-${account.address}.txt`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
