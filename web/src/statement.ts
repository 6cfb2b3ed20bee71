// The contributor's statement, signed and put before the data inside the ciphertext: the data
// is theirs, for this DAO on this chain (primitives: contribution::Statement).
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';

export const STATEMENT_CONTEXT = 'datacoop/contribution-statement/v1';
export const STATEMENT_PREFIX = 'datacoop-statement/v1 ';
/** Prefix, hex of 68 + 64 bytes, newline. */
export const STATEMENT_LINE_LEN = STATEMENT_PREFIX.length + 2 * (68 + 64) + 1;

/** SCALE(Statement): genesis hash (32) ‖ dao id (u32 LE) ‖ contributor's public key (32). */
export function encodeStatement (genesisHash: Uint8Array, daoId: number, contributor: Uint8Array): Uint8Array {
  if (genesisHash.length !== 32 || contributor.length !== 32) throw new Error('a statement names a 32-byte genesis hash and a 32-byte account');
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, daoId, true);
  return u8aConcat(genesisHash, id, contributor);
}

/** The bytes the contributor signs: the context, then the statement. */
export function statementPayload (statement: Uint8Array): Uint8Array {
  return u8aConcat(stringToU8a(STATEMENT_CONTEXT), statement);
}

/** `datacoop-statement/v1 <hex of statement ‖ signature>\n`, as bytes. */
export function statementLine (statement: Uint8Array, signature: Uint8Array): Uint8Array {
  if (statement.length !== 68 || signature.length !== 64) throw new Error('a statement line holds 68 statement bytes and a 64-byte signature');
  const line = stringToU8a(`${STATEMENT_PREFIX}${u8aToHex(u8aConcat(statement, signature), -1, false)}\n`);
  if (line.length !== STATEMENT_LINE_LEN) throw new Error('malformed statement line');
  return line;
}
