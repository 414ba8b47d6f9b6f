// netlab trace judging the firewall's ICMP type and TCP flag matches for its packet: an ICMP
// trace is an echo request and its reply, a TCP trace a SYN and its SYN-ACK. The JSON is what
// nft 1.0.6 prints for the rules netlab writes.
import { describe, expect, it } from 'vitest';
import { judgeHook, type PacketView, type ParsedTable } from '../../src/trace/nft-eval.js';

const match = (left: unknown, right: unknown, op = '==') => ({ match: { op, left, right } });
const icmpType = { payload: { protocol: 'icmp', field: 'type' } };
const flags = (mask: unknown) => ({ '&': [{ payload: { protocol: 'tcp', field: 'flags' } }, mask] });
const CLAMP = { mangle: { key: { 'tcp option': { name: 'maxseg', field: 'size' } }, value: { rt: { key: 'mtu' } } } };

function table(rules: unknown[][]): ParsedTable {
  return {
    chains: [{ name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: 'accept' }],
    rules: rules.map((expr, i) => ({ chain: 'forward', handle: i + 2, expr })),
  };
}

const packet = (proto: PacketView['proto'], ctState: PacketView['ctState'], family: 4 | 6 = 4): PacketView => ({
  family,
  proto,
  src: family === 4 ? '192.0.2.10' : '2001:db8::10',
  dst: family === 4 ? '203.0.113.10' : '2001:db8::20',
  ctState,
  dstLocal: false,
  iif: 'lan',
  oif: 'wan',
  ...(proto === 'icmp' ? {} : { dport: 80 }),
});

const decide = (t: ParsedTable, view: PacketView) => {
  const [v] = judgeHook(t, 'forward', view);
  return [v!.decision, v!.rule ?? 'policy'];
};

describe('trace: ICMP types', () => {
  const t = table([[match(icmpType, 'echo-reply'), { drop: null }], [match(icmpType, 'destination-unreachable'), match({ payload: { protocol: 'icmp', field: 'code' } }, 'frag-needed'), { accept: null }]]);

  it('the echo request passes a rule for echo replies; its reply does not', () => {
    expect(decide(t, packet('icmp', 'new'))).toEqual(['accept', 'policy']);
    expect(decide(t, packet('icmp', 'established'))).toEqual(['drop', 'icmp type echo-reply drop']);
  });

  it('an icmp match does not match TCP, nor ICMPv6', () => {
    expect(decide(t, packet('tcp', 'established'))).toEqual(['accept', 'policy']);
    expect(decide(t, packet('icmp', 'established', 6))).toEqual(['accept', 'policy']);
  });
});

describe('trace: TCP flags', () => {
  it('a SYN matches syn without ack; the SYN-ACK does not', () => {
    const t = table([[match(flags(['syn', 'ack']), 'syn'), { drop: null }]]);
    expect(decide(t, packet('tcp', 'new'))).toEqual(['drop', 'tcp flags & syn | ack == syn drop']);
    expect(decide(t, packet('tcp', 'established'))).toEqual(['accept', 'policy']);
    expect(decide(t, packet('icmp', 'new'))).toEqual(['accept', 'policy']);
  });

  it('a single flag, and all flags clear', () => {
    expect(decide(table([[match(flags('ack'), 'ack'), { drop: null }]]), packet('tcp', 'established'))[0]).toBe('drop');
    // tcp flags & (ack) == 0x0, which nft keeps as "tcp flags ! ack".
    const noAck = table([[match({ payload: { protocol: 'tcp', field: 'flags' } }, 'ack', '!'), { drop: null }]]);
    expect(decide(noAck, packet('tcp', 'new'))[0]).toBe('drop');
    expect(decide(noAck, packet('tcp', 'established'))[0]).toBe('accept');
  });

  it('clamp-mss decides nothing: the chain goes on to its policy', () => {
    const t = table([[match({ meta: { key: 'oifname' } }, 'wan'), match(flags(['syn', 'rst']), 'syn'), CLAMP]]);
    expect(decide(t, packet('tcp', 'new'))).toEqual(['accept', 'policy']);
  });
});
