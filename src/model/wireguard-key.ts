// WireGuard's keys are X25519 keys in base64, as `wg genkey` and `wg pubkey` write them. Node's
// crypto does the curve: a key is made and its public half found without running wg. Pure.
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { isKeyText } from './wireguard.js';

/** A PKCS#8 X25519 private key is this prefix and the key's 32 bytes. */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A new private key, clamped as `wg genkey` clamps it. */
export function newPrivateKey(): string {
  const raw = randomBytes(32);
  raw[0]! &= 248;
  raw[31] = (raw[31]! & 127) | 64;
  return raw.toString('base64');
}

/** The public key of a private key, as `wg pubkey` prints it; undefined for text that is no key. */
export function publicKeyOf(privateKey: string): string | undefined {
  const text = privateKey.trim();
  if (!isKeyText(text)) return undefined;
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, Buffer.from(text, 'base64')]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32).toString('base64');
}
