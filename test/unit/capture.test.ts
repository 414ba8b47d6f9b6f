// netlab capture's argv: tcpdump in the node's namespace, guarded by a parent-death signal.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { capturePoints, probeFilter } from '../../src/capture/on-trace.js';
import { parseNodeInterface, tcpdumpArgv } from '../../src/capture/tcpdump.js';
import type { Hop, Trace } from '../../src/trace/walk.js';

describe('capture', () => {
  it('runs tcpdump in the namespace, line-buffered, with the filter as one argument', () => {
    expect(tcpdumpArgv({ nsPath: '/run/netns/host', iface: 'eth0', filter: 'icmp or tcp port 80', count: 5 })).toEqual([
      'nsenter', '--net=/run/netns/host', 'setpriv', '--pdeathsig', 'KILL', 'tcpdump', '-i', 'eth0', '-n', '-Z', 'root', '-l', '-c', '5', '--', 'icmp or tcp port 80',
    ]);
  });

  it('writes a pcap packet by packet; the root namespace needs no nsenter', () => {
    expect(tcpdumpArgv({ nsPath: null, iface: 'br0', write: 'out.pcap' })).toEqual(['setpriv', '--pdeathsig', 'KILL', 'tcpdump', '-i', 'br0', '-n', '-Z', 'root', '-U', '-w', 'out.pcap']);
  });

  it('reads NODE:INTERFACE, and says what it wants otherwise', () => {
    expect(parseNodeInterface('host:eth0')).toEqual({ node: 'host', iface: 'eth0' });
    expect(() => parseNodeInterface('host')).toThrow(new UserError('"host" is not NODE:INTERFACE (for example host:eth0)'));
  });
});

describe('capture along a trace', () => {
  const hop = (node: string, iif: string | undefined, out: string | undefined, direction: 'request' | 'reply' = 'request') =>
    ({ node, direction, ...(iif ? { iif } : {}), src: '', dst: '', chains: [], rewrites: [], ...(out ? { egress: { dev: out, nextHop: '', neighbour: '' } } : {}) }) as Hop;
  const trace = (hops: Hop[], proto: 'icmp' | 'tcp' = 'icmp', family: 4 | 6 = 4) =>
    ({ request: { from: 'a', dst: '', proto, family }, hops, reaches: true, end: { kind: 'delivered', node: '', why: '', direction: 'reply' }, verdict: '' }) as Trace;

  it('every interface the request crosses, in and out, once, labelled by hop; not the reply path', () => {
    const t = trace([hop('netns0', undefined, 'ceth0'), hop('host', 'br0', 'eth0'), hop('internet', 'eth0', undefined), hop('internet', undefined, 'eth0', 'reply')]);
    expect(capturePoints(t).map((p) => p.label)).toEqual(['hop 1 netns0:ceth0 out', 'hop 2 host:br0 in', 'hop 2 host:eth0 out', 'hop 3 internet:eth0 in']);
  });

  it('filters the probe by its protocol; for ICMPv6 the echoes, not neighbour discovery', () => {
    expect(probeFilter(trace([], 'icmp'))).toBe('icmp');
    expect(probeFilter(trace([], 'icmp', 6))).toBe('icmp6 and ip6[40] < 130');
    expect(probeFilter(trace([], 'tcp'))).toBe('tcp');
  });
});
