// The WireGuard keys of a lab: those netlab makes, one per interface, kept 0600 in the lab's record
// directory (wireguard/NODE.IF.key, in a 0700 directory) and gone with the record; and those a
// `key:` names. Read at plan time for their public halves, made by apply just before its run.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { LabState } from '../model/types.js';
import { newPrivateKey, publicKeyOf } from '../model/wireguard-key.js';
import type { WireguardKey, WireguardState } from '../model/wireguard.js';

/** Larger than any key file: a key is 44 characters and a newline. */
const MAX_KEY_BYTES = 4096;

export function keysDir(recordDir: string): string {
  return join(recordDir, 'wireguard');
}

export function keyFile(recordDir: string, key: WireguardKey): string {
  return 'file' in key ? key.file : join(keysDir(recordDir), `${key.generated}.key`);
}

/**
 * A key netlab made, or nothing: missing, or not what netlab writes (a symlink, not a regular file,
 * not a key) — apply makes it again. Opened without following a symlink.
 */
async function readMadeKey(path: string): Promise<string | undefined> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!file) return undefined;
  try {
    const info = await file.stat();
    if (!info.isFile() || info.size > MAX_KEY_BYTES) return undefined;
    return (await file.readFile('utf8')).trim();
  } finally {
    await file.close();
  }
}

/** A key the lab's `key:` names: the user's file, so anything wrong with it is the user's to fix. */
async function readNamedKey(path: string, owner: string): Promise<string> {
  const fix = `write a private key there (wg genkey > ${path}), or remove key: to let netlab make one`;
  let text: string | undefined;
  try {
    // stat first: a pipe named there must not hang the read.
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`key ${path} of ${owner} is not a regular file — ${fix}`);
    text = info.size > MAX_KEY_BYTES ? undefined : (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`key ${path} of ${owner} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}) — ${fix}`);
  }
  if (text === undefined || publicKeyOf(text) === undefined) throw new UserError(`key ${path} of ${owner} is not a WireGuard private key (44 base64 characters, as wg genkey writes) — ${fix}`);
  return text;
}

/** The public key of an interface's key; undefined for a key netlab has not made (yet). */
export async function publicKeyFor(recordDir: string, key: WireguardKey, owner: string): Promise<string | undefined> {
  const text = 'file' in key ? await readNamedKey(key.file, owner) : await readMadeKey(keyFile(recordDir, key));
  return text === undefined ? undefined : publicKeyOf(text);
}

/** Every key a WireGuard interface names, its own and its peers', with whose it is. */
function keysOf(wg: WireguardState, node: string): Array<{ key: WireguardKey; owner: string }> {
  return [{ key: wg.key!, owner: `${node}:${wg.dev}` }, ...wg.peers.map((p) => ({ key: p.key!, owner: p.peer! }))];
}

/** The desired state with the public keys of every key there is; a key not made yet has none. */
export async function withPublicKeys(state: LabState, recordDir: string): Promise<LabState> {
  const cache = new Map<string, Promise<string | undefined>>();
  const publicKey = (key: WireguardKey, owner: string) => {
    const path = keyFile(recordDir, key);
    if (!cache.has(path)) cache.set(path, publicKeyFor(recordDir, key, owner));
    return cache.get(path)!;
  };
  const nodes = new Map(state.nodes);
  for (const [name, node] of state.nodes) {
    if (node.wireguard.size === 0) continue;
    const wireguard = new Map<string, WireguardState>();
    for (const [dev, wg] of node.wireguard) {
      const own = await publicKey(wg.key!, `${name}:${dev}`);
      const peers = await Promise.all(wg.peers.map(async (p) => ({ ...p, publicKey: await publicKey(p.key!, p.peer!) })));
      wireguard.set(dev, { ...wg, publicKey: own, peers });
    }
    nodes.set(name, { ...node, wireguard });
  }
  return { ...state, nodes };
}

/** The keys directory, made 0700 if missing; one that is not a directory (a symlink) is refused. */
async function ensureKeysDir(recordDir: string): Promise<string> {
  const dir = keysDir(recordDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory()) throw new UserError(`${dir} is not a directory (${info.isSymbolicLink() ? 'a symlink' : 'a file'}): the lab keeps its WireGuard keys there — remove it and apply again`);
  return dir;
}

/**
 * Makes the keys the interfaces name that netlab has not made, or that are not keys any more: a
 * new one is written aside (0600) and renamed into place, so a key file is whole or absent.
 * Returns the names of the keys made.
 */
export async function makeKeys(recordDir: string, interfaces: ReadonlyArray<{ node: string; wireguard: WireguardState }>): Promise<string[]> {
  const wanted = new Set(interfaces.flatMap(({ node, wireguard }) => keysOf(wireguard, node).flatMap(({ key }) => ('generated' in key ? [key.generated] : []))));
  const made: string[] = [];
  for (const name of [...wanted].sort()) {
    const path = keyFile(recordDir, { generated: name });
    const text = await readMadeKey(path);
    if (text !== undefined && publicKeyOf(text) !== undefined) continue;
    const dir = await ensureKeysDir(recordDir);
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    try {
      // One a killed run left under the same name is no key of anybody's.
      await rm(tmp, { force: true });
      await writeFile(tmp, `${newPrivateKey()}\n`, { mode: 0o600, flag: 'wx' });
      // A symlink or directory in its place is taken away, not followed.
      await rm(path, { recursive: true, force: true });
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw e;
    }
    made.push(name);
  }
  return made;
}

/** Takes away the keys of interfaces the lab no longer has. */
export async function pruneKeys(recordDir: string, state: LabState): Promise<void> {
  const dir = keysDir(recordDir);
  const keep = new Set([...state.nodes.values()].flatMap((n) => [...n.wireguard.values()].flatMap((wg) => ('generated' in wg.key! ? [`${wg.key.generated}.key`] : []))));
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return;
  for (const name of await readdir(dir)) if (!keep.has(name)) await rm(join(dir, name), { recursive: true, force: true });
}
