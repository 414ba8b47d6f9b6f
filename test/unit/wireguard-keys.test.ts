// The lab's WireGuard keys on disk: made once, 0600 in a 0700 directory of the record, kept across
// runs, made again when not a key, never followed through a symlink; a key: file of the user's is
// read, and what is wrong with it said; the keys of interfaces gone from the file are taken away.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/config/load.js';
import { resolveLab } from '../../src/model/resolve.js';
import type { LabState } from '../../src/model/types.js';
import { newPrivateKey, publicKeyOf } from '../../src/model/wireguard-key.js';
import { keyFile, makeKeys, pruneKeys, withPublicKeys } from '../../src/state/wireguard-keys.js';

const LAB = `
name: wg
nodes:
  r1:
    interfaces:
      wg0: {kind: wireguard, listen: 51820, peers: [{peer: r2:wg0, endpoint: "192.0.2.2:51820", allowed: [10.9.0.2/32]}]}
  r2:
    interfaces:
      wg0: {kind: wireguard, KEY peers: [{peer: r1:wg0, allowed: [10.9.0.1/32]}]}
`;

function lab(key?: string, file = join(tmpdir(), 'lab.yaml')): LabState {
  const loaded = parseLab(LAB.replace('KEY ', key === undefined ? '' : `key: ${key}, `), file);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return resolveLab(loaded.spec!);
}

const interfaces = (state: LabState) => [...state.nodes.values()].flatMap((n) => [...n.wireguard.values()].map((wireguard) => ({ node: n.node, wireguard })));
const wgOf = (state: LabState, node: string) => state.nodes.get(node)!.wireguard.get('wg0')!;

function recordDir(): string {
  return mkdtempSync(join(tmpdir(), 'netlab-wg-keys-'));
}

describe('the lab’s WireGuard keys', () => {
  it('are made once each, 0600 in a 0700 directory, and their public keys fill both sides', async () => {
    const dir = recordDir();
    const state = lab();
    // Before apply makes them, plan knows no key and writes nothing.
    const before = await withPublicKeys(state, dir);
    expect(wgOf(before, 'r1').publicKey).toBeUndefined();
    expect(existsSync(join(dir, 'wireguard'))).toBe(false);

    expect(await makeKeys(dir, interfaces(state))).toEqual(['r1.wg0', 'r2.wg0']);
    expect(statSync(join(dir, 'wireguard')).mode & 0o777).toBe(0o700);
    for (const name of ['r1.wg0', 'r2.wg0']) {
      const path = keyFile(dir, { generated: name });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(publicKeyOf(readFileSync(path, 'utf8'))).toBeDefined();
    }
    const after = await withPublicKeys(state, dir);
    const r1 = wgOf(after, 'r1');
    const r2 = wgOf(after, 'r2');
    expect(r1.publicKey).toBe(publicKeyOf(readFileSync(keyFile(dir, { generated: 'r1.wg0' }), 'utf8')));
    expect(r1.peers[0]!.publicKey).toBe(r2.publicKey);
    expect(r2.peers[0]!.publicKey).toBe(r1.publicKey);

    // A second run keeps them.
    const kept = readFileSync(keyFile(dir, { generated: 'r1.wg0' }), 'utf8');
    expect(await makeKeys(dir, interfaces(state))).toEqual([]);
    expect(readFileSync(keyFile(dir, { generated: 'r1.wg0' }), 'utf8')).toBe(kept);
    expect(readdirSync(join(dir, 'wireguard')).sort()).toEqual(['r1.wg0.key', 'r2.wg0.key']);
  });

  it('a key file that is no key, or a symlink in its place, is made again; what the symlink names is untouched', async () => {
    const dir = recordDir();
    const state = lab();
    mkdirSync(join(dir, 'wireguard'), { mode: 0o700 });
    writeFileSync(keyFile(dir, { generated: 'r1.wg0' }), 'half a ke');
    const elsewhere = join(recordDir(), 'someone-elses-key');
    const theirs = newPrivateKey();
    writeFileSync(elsewhere, theirs);
    symlinkSync(elsewhere, keyFile(dir, { generated: 'r2.wg0' }));
    // Neither counts as made: plan says so.
    const planned = await withPublicKeys(state, dir);
    expect([wgOf(planned, 'r1').publicKey, wgOf(planned, 'r2').publicKey]).toEqual([undefined, undefined]);

    expect(await makeKeys(dir, interfaces(state))).toEqual(['r1.wg0', 'r2.wg0']);
    expect(lstatSync(keyFile(dir, { generated: 'r2.wg0' })).isFile()).toBe(true);
    expect(readFileSync(elsewhere, 'utf8')).toBe(theirs);
    expect(publicKeyOf(readFileSync(keyFile(dir, { generated: 'r1.wg0' }), 'utf8'))).toBeDefined();
  });

  it('a keys directory that is a symlink is refused, and nothing is written through it', async () => {
    const dir = recordDir();
    const target = recordDir();
    symlinkSync(target, join(dir, 'wireguard'));
    await expect(makeKeys(dir, interfaces(lab()))).rejects.toThrow(/wireguard is not a directory \(a symlink\)/);
    expect(readdirSync(target)).toEqual([]);
  });

  it('a key: file is the user’s: read relative to the lab file, never made, and a bad one is said', async () => {
    const dir = recordDir();
    const labDir = recordDir();
    const key = newPrivateKey();
    writeFileSync(join(labDir, 'r2.key'), `${key}\n`);
    const state = lab('r2.key', join(labDir, 'lab.yaml'));
    expect(wgOf(state, 'r2').key).toEqual({ file: join(labDir, 'r2.key') });
    expect(await makeKeys(dir, interfaces(state))).toEqual(['r1.wg0']);
    const keyed = await withPublicKeys(state, dir);
    expect(wgOf(keyed, 'r2').publicKey).toBe(publicKeyOf(key));
    expect(wgOf(keyed, 'r1').peers[0]!.publicKey).toBe(publicKeyOf(key));

    writeFileSync(join(labDir, 'r2.key'), 'not a key\n');
    await expect(withPublicKeys(state, dir)).rejects.toThrow(/key .*r2\.key of r2:wg0 is not a WireGuard private key/);
    const missing = lab('nowhere.key', join(labDir, 'lab.yaml'));
    await expect(withPublicKeys(missing, dir)).rejects.toThrow(/key .*nowhere\.key of r2:wg0 cannot be read \(ENOENT\) — write a private key there \(wg genkey > /);
  });

  it('the keys of interfaces gone from the file are taken away', async () => {
    const dir = recordDir();
    const state = lab();
    await makeKeys(dir, interfaces(state));
    const withoutR2 = { ...state, nodes: new Map([...state.nodes].filter(([n]) => n !== 'r2')) };
    await pruneKeys(dir, withoutR2);
    expect(readdirSync(join(dir, 'wireguard'))).toEqual(['r1.wg0.key']);
  });
});
