// A WireGuard interface's keys and peers (`kind: wireguard`): what the file wants, what
// `wg show all dump` says, how they differ, and the `wg set` that makes one like the other. Pure:
// keys are named here by where they are kept; state/wireguard-keys.ts reads and makes them.
import { parseCidr, parseHostPort, subnetText } from './ip.js';

/** Where an interface's private key is: a file the lab names, or one netlab makes in the lab's record. */
export type WireguardKey = { file: string } | { generated: string };

export interface WireguardPeer {
  /** Desired: the peer's interface in the lab, NODE:IF. */
  peer?: string;
  /** Desired: where the peer's private key is, from which its public key comes. */
  key?: WireguardKey;
  /** Desired: once the peer's key is read (a key made at apply has none before). Actual: as wg shows it. */
  publicKey?: string;
  /** ADDR:PORT or [ADDR]:PORT, canonical; desired only when the file sets one (else the peer's roaming is its own). */
  endpoint?: string;
  /** Canonical prefixes (host bits cleared, as the kernel keeps them), sorted. */
  allowed: string[];
  /** Seconds between keepalives; undefined: off. */
  keepalive?: number;
}

export interface WireguardState {
  dev: string;
  /** Desired: where its private key is. */
  key?: WireguardKey;
  /** Desired: once its key is read. Actual: as wg shows it (none before a key is set). */
  publicKey?: string;
  /** Desired: only when the file sets one (else the kernel picks a port). */
  listen?: number;
  /** Desired: in the file's order. Actual: in wg's. */
  peers: WireguardPeer[];
}

/** The file's peer of an interface, as `peers:` writes it. */
export interface WireguardPeerSpec {
  peer: string;
  endpoint?: string;
  allowed?: string[];
  keepalive?: number;
}

/** The record's file name of a key netlab makes: one per node and interface. */
export function generatedKeyName(node: string, dev: string): string {
  return `${node}.${dev}`;
}

/** An interface's key: the file its `key:` names, else the one netlab makes for it. */
export function keyOf(node: string, dev: string, file: string | undefined): WireguardKey {
  return file !== undefined ? { file } : { generated: generatedKeyName(node, dev) };
}

/** The file's WireGuard interface, its peers' keys found through `keyFileOf` (the peer's own `key:`, if any). */
export function wantedWireguard(
  node: string,
  dev: string,
  spec: { listen?: number; key?: string; peers?: WireguardPeerSpec[] },
  keyFileOf: (peerNode: string, peerDev: string) => string | undefined,
): WireguardState {
  const peers = (spec.peers ?? []).map((p): WireguardPeer => {
    const [peerNode = '', peerDev = ''] = p.peer.split(':');
    const endpoint = p.endpoint === undefined ? undefined : canonicalEndpoint(p.endpoint) ?? p.endpoint;
    return {
      peer: p.peer,
      key: keyOf(peerNode, peerDev, keyFileOf(peerNode, peerDev)),
      ...(endpoint !== undefined ? { endpoint } : {}),
      allowed: sortedAllowed(p.allowed ?? []),
      ...(p.keepalive !== undefined ? { keepalive: p.keepalive } : {}),
    };
  });
  return { dev, key: keyOf(node, dev, spec.key), ...(spec.listen !== undefined ? { listen: spec.listen } : {}), peers };
}

export function describeKey(key: WireguardKey): string {
  return 'file' in key ? key.file : `the lab's key ${key.generated}`;
}

/** "192.0.2.2:51820", "[2001:db8::2]:51820": canonical; undefined for text that is neither. */
export function canonicalEndpoint(text: string): string | undefined {
  const parsed = parseHostPort(text);
  if (!parsed || parsed.port === undefined) return undefined;
  return parsed.ip.family === 6 ? `[${parsed.ip.text}]:${parsed.port}` : `${parsed.ip.text}:${parsed.port}`;
}

/** A prefix as the kernel keeps an allowed IP: its host bits cleared. */
export function canonicalAllowed(text: string): string | undefined {
  const parsed = parseCidr(text);
  return 'cidr' in parsed ? subnetText(parsed.cidr) : undefined;
}

export function sortedAllowed(texts: readonly string[]): string[] {
  return [...new Set(texts.map((t) => canonicalAllowed(t) ?? t))].sort();
}

/** A base64 WireGuard key: 32 bytes, 44 characters ending in '='. */
const KEY_TEXT = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isKeyText(text: string): boolean {
  return KEY_TEXT.test(text);
}

function field(text: string | undefined): string | undefined {
  return text === undefined || text === '(none)' ? undefined : text;
}

/**
 * `wg show all dump`: per interface a line "IF PRIVATE PUBLIC LISTEN FWMARK", then a line per
 * peer "IF PUBLIC PRESHARED ENDPOINT ALLOWED HANDSHAKE RX TX KEEPALIVE", tab-separated. The
 * private key is read past, never kept.
 */
export function parseWgDump(stdout: string): Map<string, WireguardState> {
  const interfaces = new Map<string, WireguardState>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split('\t');
    const dev = f[0]!;
    if (f.length === 5) {
      const listen = Number(f[3]);
      const publicKey = field(f[2]);
      interfaces.set(dev, { dev, ...(publicKey ? { publicKey } : {}), ...(listen > 0 ? { listen } : {}), peers: [] });
    } else if (f.length === 9) {
      const wg = interfaces.get(dev);
      if (!wg) continue;
      const endpoint = field(f[3]);
      const allowed = field(f[4]);
      const keepalive = Number(f[8]);
      wg.peers.push({
        publicKey: f[1]!,
        ...(endpoint ? { endpoint: canonicalEndpoint(endpoint) ?? endpoint } : {}),
        allowed: allowed ? sortedAllowed(allowed.split(',')) : [],
        ...(keepalive > 0 ? { keepalive } : {}),
      });
    }
  }
  return interfaces;
}

function peerName(p: WireguardPeer): string {
  return p.peer ?? p.publicKey ?? 'a peer';
}

function describePeer(p: WireguardPeer): string {
  const parts = [p.endpoint ? `endpoint ${p.endpoint}` : '', `allowed ${p.allowed.length > 0 ? p.allowed.join(',') : 'none'}`, p.keepalive ? `keepalive ${p.keepalive}s` : ''];
  return `${peerName(p)} (${parts.filter(Boolean).join(', ')})`;
}

export function describeWireguard(wg: WireguardState): string {
  const listen = wg.listen !== undefined ? `listen ${wg.listen}, ` : '';
  return `${listen}${wg.peers.length === 0 ? 'no peers' : `peers ${wg.peers.map(describePeer).join('; ')}`}`;
}

/** The actual peers the wanted ones are, by public key; a wanted peer whose key is not made yet matches none. */
function matchPeers(want: WireguardState, have: WireguardState): { pairs: Array<[WireguardPeer, WireguardPeer | undefined]>; extra: WireguardPeer[] } {
  const byKey = new Map(have.peers.map((p) => [p.publicKey, p]));
  const pairs = want.peers.map((p): [WireguardPeer, WireguardPeer | undefined] => [p, p.publicKey ? byKey.get(p.publicKey) : undefined]);
  const matched = new Set(pairs.map(([, h]) => h));
  return { pairs, extra: have.peers.filter((p) => !matched.has(p)) };
}

/** What differs, in words; none when the interface is as the file wants it. */
export function wireguardDifferences(want: WireguardState, have: WireguardState): string[] {
  const out: string[] = [];
  if (!want.publicKey) out.push(`${want.dev}: its key is made at apply`);
  else if (want.publicKey !== have.publicKey) out.push(`${want.dev}: private key ${have.publicKey ? 'is another' : 'not set'}`);
  if (want.listen !== undefined && want.listen !== have.listen) out.push(`listen ${have.listen ?? 'unset'} → ${want.listen}`);
  const { pairs, extra } = matchPeers(want, have);
  for (const [w, h] of pairs) {
    if (!w.publicKey) out.push(`peer ${peerName(w)}: its key is made at apply`);
    else if (!h) out.push(`peer ${peerName(w)} missing`);
    else {
      if (w.endpoint !== undefined && w.endpoint !== h.endpoint) out.push(`peer ${peerName(w)}: endpoint ${h.endpoint ?? 'none'} → ${w.endpoint}`);
      if (w.allowed.join(',') !== h.allowed.join(',')) out.push(`peer ${peerName(w)}: allowed ${h.allowed.join(',') || 'none'} → ${w.allowed.join(',') || 'none'}`);
      if (w.keepalive !== h.keepalive) out.push(`peer ${peerName(w)}: keepalive ${h.keepalive ?? 'off'} → ${w.keepalive ?? 'off'}`);
    }
  }
  for (const p of extra) out.push(`peer ${p.publicKey} is not in the file`);
  return out;
}

/** The peers `wg set` takes away: those there that the file does not list. */
export function peersToRemove(want: WireguardState, have: WireguardState | undefined): string[] {
  return have ? matchPeers(want, have).extra.map((p) => p.publicKey!).sort() : [];
}

/** How a `wg set` line names keys: a file for the private key, the text of a peer's public key. */
export interface KeyWords {
  privateKeyFile(key: WireguardKey): string;
  publicKey(peer: WireguardPeer): string;
}

/** As a plan shows them: the record's key files by name, a public key not made yet by whose it is. */
export const SHOWN_KEYS: KeyWords = {
  privateKeyFile: (key) => ('file' in key ? key.file : `<record>/wireguard/${key.generated}.key`),
  publicKey: (peer) => peer.publicKey ?? `<public key of ${peer.peer}>`,
};

/**
 * `wg set IF ...`: the whole wanted state at once, so that one line is right whatever was there.
 * A peer's allowed IPs and keepalive are replaced as given; `remove` takes the others away.
 */
export function wgSetWords(want: WireguardState, remove: readonly string[], keys: KeyWords): string[] {
  const words = ['set', want.dev];
  if (want.listen !== undefined) words.push('listen-port', String(want.listen));
  words.push('private-key', keys.privateKeyFile(want.key!));
  for (const p of want.peers) {
    words.push('peer', keys.publicKey(p));
    if (p.endpoint !== undefined) words.push('endpoint', p.endpoint);
    words.push('allowed-ips', p.allowed.join(','));
    words.push('persistent-keepalive', p.keepalive === undefined ? 'off' : String(p.keepalive));
  }
  for (const key of remove) words.push('peer', key, 'remove');
  return words;
}
