import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState, type NodeState } from '../../src/model/types.js';
import type { Change } from '../../src/plan/change.js';
import { diff } from '../../src/plan/diff.js';
import { schedule } from '../../src/plan/graph.js';
import { planToJson } from '../../src/plan/render.js';
import { commandsOf, featureNeeds } from '../../src/resources/registry.js';
import { commandLines } from '../../src/views/script.js';
import { newPrivateKey, publicKeyOf } from '../../src/model/wireguard-key.js';
import { canonicalAllowed, canonicalEndpoint, parseWgDump, peersToRemove, wgSetWords, wireguardDifferences, type WireguardState } from '../../src/model/wireguard.js';

const hasWg = (() => {
  try {
    execFileSync('wg', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

const wgPubkey = (key: string) => execFileSync('wg', ['pubkey'], { input: `${key}\n` }).toString().trim();

describe('WireGuard keys', () => {
  it.skipIf(!hasWg)('a made key and its public half are what wg genkey and wg pubkey make', () => {
    for (let i = 0; i < 5; i++) {
      const key = newPrivateKey();
      expect(publicKeyOf(key)).toBe(wgPubkey(key));
      // Clamped as wg genkey clamps it.
      const raw = Buffer.from(key, 'base64');
      expect(raw[0]! & 7).toBe(0);
      expect(raw[31]! & 0xc0).toBe(0x40);
    }
    const genkey = execFileSync('wg', ['genkey']).toString().trim();
    expect(publicKeyOf(`${genkey}\n`)).toBe(wgPubkey(genkey));
    // A key that is not clamped has the public key the kernel gives it (it clamps it itself).
    const unclamped = Buffer.alloc(32, 0xff).toString('base64');
    expect(publicKeyOf(unclamped)).toBe(wgPubkey(unclamped));
  });

  it('text that is no key has no public key', () => {
    expect(publicKeyOf('')).toBeUndefined();
    expect(publicKeyOf('not a key')).toBeUndefined();
    expect(publicKeyOf(Buffer.alloc(31).toString('base64'))).toBeUndefined();
    expect(publicKeyOf(Buffer.alloc(33).toString('base64'))).toBeUndefined();
  });
});

describe('WireGuard state', () => {
  const A = 'YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
  const B = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
  const C = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';

  it('wg show all dump is read per interface, its private key left out', () => {
    const dump = [
      `wg0\tcPrivateKeyIsNeverKeptcPrivateKeyIsNeverKe=\t${A}\t51820\toff`,
      `wg0\t${B}\t(none)\t192.0.2.2:51820\t10.9.0.0/24,10.8.0.0/16\t0\t0\t0\toff`,
      `wg0\t${C}\t(none)\t(none)\t(none)\t0\t0\t0\t25`,
      `wg1\t(none)\t(none)\t0\toff`,
    ].join('\n');
    const read = parseWgDump(`${dump}\n`);
    expect(read.get('wg0')).toEqual({
      dev: 'wg0',
      publicKey: A,
      listen: 51820,
      peers: [
        { publicKey: B, endpoint: '192.0.2.2:51820', allowed: ['10.8.0.0/16', '10.9.0.0/24'] },
        { publicKey: C, allowed: [], keepalive: 25 },
      ],
    });
    expect(read.get('wg1')).toEqual({ dev: 'wg1', peers: [] });
    expect(JSON.stringify([...read.values()])).not.toContain('PrivateKey');
  });

  it('endpoints and allowed IPs compare as the kernel keeps them', () => {
    expect(canonicalEndpoint('192.0.2.2:51820')).toBe('192.0.2.2:51820');
    expect(canonicalEndpoint('[2001:DB8::0002]:51820')).toBe('[2001:db8::2]:51820');
    expect(canonicalEndpoint('192.0.2.2')).toBeUndefined();
    expect(canonicalEndpoint('peer.example:51820')).toBeUndefined();
    expect(canonicalAllowed('10.9.0.1/24')).toBe('10.9.0.0/24');
    expect(canonicalAllowed('2001:db8:0::/48')).toBe('2001:db8::/48');
  });

  const want: WireguardState = {
    dev: 'wg0',
    key: { generated: 'r1.wg0' },
    publicKey: A,
    listen: 51820,
    peers: [{ peer: 'r2:wg0', key: { generated: 'r2.wg0' }, publicKey: B, endpoint: '192.0.2.2:51820', allowed: ['10.9.0.0/24'] }],
  };
  const same: WireguardState = { dev: 'wg0', publicKey: A, listen: 51820, peers: [{ publicKey: B, endpoint: '192.0.2.2:51820', allowed: ['10.9.0.0/24'] }] };

  it('an interface as the file wants it has no differences; each that differs is named', () => {
    expect(wireguardDifferences(want, same)).toEqual([]);
    const drifted: WireguardState = { dev: 'wg0', publicKey: C, listen: 51821, peers: [{ publicKey: B, endpoint: '198.51.100.2:51820', allowed: [], keepalive: 5 }, { publicKey: C, allowed: ['0.0.0.0/0'] }] };
    expect(wireguardDifferences(want, drifted)).toEqual([
      'wg0: private key is another',
      'listen 51821 → 51820',
      'peer r2:wg0: endpoint 198.51.100.2:51820 → 192.0.2.2:51820',
      'peer r2:wg0: allowed none → 10.9.0.0/24',
      'peer r2:wg0: keepalive 5 → off',
      `peer ${C} is not in the file`,
    ]);
    expect(peersToRemove(want, drifted)).toEqual([C]);
  });

  it('a key not made yet is a difference, and an endpoint the file leaves out is the peer’s own', () => {
    const unmade = { ...want, publicKey: undefined, peers: [{ ...want.peers[0]!, publicKey: undefined }] };
    expect(wireguardDifferences(unmade, same)).toEqual([
      'wg0: its key is made at apply',
      'peer r2:wg0: its key is made at apply',
      // The peer there is r2's old key: taken away, and r2 set again with its new one.
      `peer ${B} is not in the file`,
    ]);
    const roaming = { ...want, peers: [{ ...want.peers[0]!, endpoint: undefined }] };
    expect(wireguardDifferences(roaming, { ...same, peers: [{ ...same.peers[0]!, endpoint: '203.0.113.9:40000' }] })).toEqual([]);
    // With no listen port in the file, the kernel's pick is no drift.
    expect(wireguardDifferences({ ...want, listen: undefined }, { ...same, listen: 40001 })).toEqual([]);
  });

  it('wg set says the whole wanted state and takes away peers the file does not list', () => {
    const words = wgSetWords({ ...want, peers: [...want.peers, { peer: 'r3:wg0', key: { file: '/k/r3' }, allowed: [], keepalive: 25 }] }, [C], {
      privateKeyFile: (k) => ('file' in k ? k.file : `/rec/${k.generated}.key`),
      publicKey: (p) => ('file' in p.key! ? 'PUB-r3' : `PUB-${p.key!.generated}`),
    });
    expect(words.join(' ')).toBe(
      `set wg0 listen-port 51820 private-key /rec/r1.wg0.key peer PUB-r2.wg0 endpoint 192.0.2.2:51820 allowed-ips 10.9.0.0/24 persistent-keepalive off peer PUB-r3 allowed-ips  persistent-keepalive 25 peer ${C} remove`,
    );
  });
});

describe('WireGuard in the plan', () => {
  const PUB = { r1: 'YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=', r2: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=' };
  const spec: LabSpec = {
    name: 'wg',
    nodes: {
      r1: { interfaces: { wg0: { kind: 'wireguard', listen: 51820, addresses: ['10.9.0.1/24'], peers: [{ peer: 'r2:wg0', endpoint: '192.0.2.2:51820', allowed: ['10.9.0.2/32'] }] } } },
      r2: { interfaces: { wg0: { kind: 'wireguard', listen: 51820, addresses: ['10.9.0.2/24'], peers: [{ peer: 'r1:wg0', allowed: ['10.9.0.1/32'] }] } } },
    },
  };
  /** The file's state with its keys made, as plan reads them once apply has made them. */
  function keyed(): LabState {
    const state = resolveLab(spec);
    for (const node of state.nodes.values()) {
      const wg = node.wireguard.get('wg0')!;
      wg.publicKey = PUB[node.node as 'r1' | 'r2'];
      for (const p of wg.peers) p.publicKey = PUB[p.peer!.split(':')[0] as 'r1' | 'r2'];
    }
    return state;
  }
  /** The kernel as apply leaves it: the links there, wg showing what was set. */
  function applied(desired: LabState, edit: (wg: WireguardState) => void = () => {}): LabState {
    const nodes = new Map<string, NodeState>();
    for (const [name, d] of desired.nodes) {
      const wireguard = new Map([...d.wireguard].map(([dev, w]) => [dev, { dev, publicKey: w.publicKey, listen: w.listen, peers: w.peers.map(({ publicKey, endpoint, allowed, keepalive }) => ({ publicKey, endpoint, allowed: [...allowed], keepalive })) }]));
      nodes.set(name, { ...d, owner: desired.lab, exists: true, loUp: true, links: structuredClone(d.links), wireguard });
    }
    edit(nodes.get('r1')!.wireguard.get('wg0')!);
    return { lab: desired.lab, nodes };
  }
  const wgChanges = (plan: ReturnType<typeof diff>) => plan.changes.filter((c) => c.kind === 'wireguard');

  it('a new interface is made by ip, then set by wg in a later step', () => {
    const desired = resolveLab(spec);
    const plan = diff(desired, { lab: 'wg', nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) });
    expect(wgChanges(plan).map((c) => `${c.action} ${c.id}: ${c.reason}`)).toEqual(["create wireguard/r1:wg0: wg0's keys and peers not set", "create wireguard/r2:wg0: wg0's keys and peers not set"]);
    expect(featureNeeds(desired).map((n) => `${n.object} ${n.feature}`)).toEqual(['r1:wg0 wireguard', 'r2:wg0 wireguard']);
    const rounds = schedule(plan.changes).rounds;
    const roundOf = (pick: (c: Change) => boolean) => rounds.findIndex((r) => r.some((b) => b.changes.some(pick)));
    expect(roundOf((c) => c.kind === 'wireguard')).toBeGreaterThan(roundOf((c) => c.kind === 'virtual'));
    // The plan shows a key not made yet by whose it is; the script makes it where apply keeps it.
    const [cmd] = commandsOf(wgChanges(plan)[0]!);
    expect(planToJson(plan)).toMatchObject({ changes: expect.arrayContaining([expect.objectContaining({ id: 'wireguard/r1:wg0', commands: ['wg set wg0 listen-port 51820 private-key <record>/wireguard/r1.wg0.key peer <public key of r2:wg0> endpoint 192.0.2.2:51820 allowed-ips 10.9.0.2/32 persistent-keepalive off'] })]) });
    expect(commandLines(cmd!, 'r1', 'wg')).toEqual([
      'mkdir -p -m 700 "${NETLAB_STATE_DIR:-/run/netlab}"/wg/wireguard',
      '[ -s "${NETLAB_STATE_DIR:-/run/netlab}"/wg/wireguard/r1.wg0.key ] || (umask 077 && wg genkey > "${NETLAB_STATE_DIR:-/run/netlab}"/wg/wireguard/r1.wg0.key)',
      '[ -s "${NETLAB_STATE_DIR:-/run/netlab}"/wg/wireguard/r2.wg0.key ] || (umask 077 && wg genkey > "${NETLAB_STATE_DIR:-/run/netlab}"/wg/wireguard/r2.wg0.key)',
      'ip netns exec r1 wg set wg0 listen-port 51820 private-key "${NETLAB_STATE_DIR:-/run/netlab}"/wg/wireguard/r1.wg0.key peer "$(wg pubkey < "${NETLAB_STATE_DIR:-/run/netlab}"/wg/wireguard/r2.wg0.key)" endpoint 192.0.2.2:51820 allowed-ips 10.9.0.2/32 persistent-keepalive off',
    ]);
  });

  it('as the file wants it, nothing; drift is one change in place that takes foreign peers away', () => {
    const desired = keyed();
    expect(diff(desired, applied(desired)).changes).toEqual([]);
    const foreign = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';
    const drifted = applied(desired, (wg) => {
      wg.listen = 51999;
      wg.peers[0]!.allowed = [];
      wg.peers.push({ publicKey: foreign, allowed: ['10.99.0.0/24'] });
    });
    const [change, ...rest] = wgChanges(diff(desired, drifted));
    expect(rest).toEqual([]);
    expect(change).toMatchObject({ action: 'update', id: 'wireguard/r1:wg0', remove: [foreign] });
    expect(change!.reason).toBe(`listen 51999 → 51820; peer r2:wg0: allowed none → 10.9.0.2/32; peer ${foreign} is not in the file`);
    expect(diff(desired, drifted).changes.filter((c) => c.kind !== 'wireguard')).toEqual([]);
  });

  it('an interface made again is set again; a key lost from the record is made again on both sides', () => {
    const desired = keyed();
    const remade = applied(desired);
    remade.nodes.get('r1')!.links.get('wg0')!.virtual = { kind: 'vxlan', settings: {} };
    expect(wgChanges(diff(desired, remade)).map((c) => `${c.action} ${c.id}: ${c.reason}`)).toEqual(['create wireguard/r1:wg0: goes with wg0, made again; set again']);
    const lost = keyed();
    lost.nodes.get('r1')!.wireguard.get('wg0')!.publicKey = undefined;
    lost.nodes.get('r2')!.wireguard.get('wg0')!.peers[0]!.publicKey = undefined;
    expect(wgChanges(diff(lost, applied(desired))).map((c) => `${c.id}: ${c.reason}`)).toEqual([
      'wireguard/r1:wg0: wg0: its key is made at apply',
      `wireguard/r2:wg0: peer r1:wg0: its key is made at apply; peer ${PUB.r1} is not in the file`,
    ]);
  });
});
