// A firewall rule's ICMP type and code, TCP flags and clamp-mss: rendered as nft syntax, and
// validated at line:col (the protocol each needs, names nft knows, clamp-mss where it can work).
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { parseLab } from '../../src/config/load.js';
import { desiredNftTable } from '../../src/model/nft.js';
import { tcpFlagsMatch } from '../../src/model/nft-match.js';

describe('ICMP, TCP flag and clamp-mss rules as nft syntax', () => {
  it('renders each match with the protocol it implies, and clamp-mss as nft sets the MSS', () => {
    const table = desiredNftTable({
      firewall: {
        forward: {
          rules: [
            { out: 'wan', proto: 'tcp', flags: ['syn', '!rst'], action: 'clamp-mss' },
            { proto: 'tcp', port: 443, flags: ['syn'], action: 'accept' },
            { proto: 'icmp', icmp: 'destination-unreachable', code: 'frag-needed', action: 'accept' },
            { proto: 'icmp', icmp: 3, code: 4, action: 'accept' },
            { proto: 'icmpv6', icmp: 'packet-too-big', action: 'accept' },
            { proto: 'icmp', action: 'drop' },
          ],
        },
      },
    })!;
    expect(table.chains[0]!.rules.map((r) => r.text)).toEqual([
      'oifname "wan" tcp flags & (syn | rst) == syn tcp option maxseg size set rt mtu',
      'tcp dport 443 tcp flags & (syn) == syn accept',
      'icmp type destination-unreachable icmp code frag-needed accept',
      'icmp type 3 icmp code 4 accept',
      'icmpv6 type packet-too-big accept',
      'meta l4proto icmp drop',
    ]);
  });

  it('writes flags in nft order; only clear flags compare with zero', () => {
    expect(tcpFlagsMatch(['ack', 'syn'])).toBe('tcp flags & (syn | ack) == syn | ack');
    expect(tcpFlagsMatch(['!ack'])).toBe('tcp flags & (ack) == 0x0');
  });
});

describe('ICMP, TCP flag and clamp-mss rules validated at line:col', () => {
  const lab = (rules: string[], chain = 'forward') => `name: fw
nodes:
  r:
    interfaces:
      eth0: {addresses: [192.0.2.1/24]}
    firewall:
      ${chain}:
        rules:
${rules.map((r) => `          - ${r}`).join('\n')}
  h:
    interfaces:
      eth0: {addresses: [192.0.2.2/24]}
links:
  - [r:eth0, h:eth0]
`;
  const shown = (text: string) => parseLab(text, 'lab.yaml').diagnostics.map((d) => `${d.line}:${d.col} ${formatDiagnostic(d).replace(/^lab\.yaml:\d+:\d+: /, '')}`);

  it('accepts the rules of a PMTU fix', () => {
    expect(
      shown(lab(['{out: eth0, proto: tcp, flags: [syn, "!rst"], action: clamp-mss}', '{proto: icmp, icmp: destination-unreachable, code: frag-needed, action: accept}', '{proto: icmpv6, icmp: 2, action: accept}'])),
    ).toEqual([]);
  });

  it('names the protocol each needs, a name nft does not know, and flags set and clear at once', () => {
    expect(
      shown(
        lab([
          '{icmp: echo-request, action: accept}', // 9
          '{proto: tcp, icmp: echo-request, action: accept}', // 10
          '{proto: icmp, icmp: echo-requets, action: accept}', // 11
          '{proto: icmpv6, icmp: destination-unreachable, code: frag-needed, action: drop}', // 12
          '{proto: icmp, code: 4, action: drop}', // 13
          '{proto: icmp, icmp: 300, action: drop}', // 14
          '{proto: udp, flags: [syn], action: drop}', // 15
          '{proto: tcp, flags: [syn, sin, "!syn"], action: drop}', // 16
          '{proto: udp, action: clamp-mss}', // 17
        ]),
      ),
    ).toEqual([
      expect.stringMatching(/^9:20 error: icmp echo-request needs proto — add proto: icmp \(IPv4\) or proto: icmpv6 \(IPv6\)$/),
      expect.stringMatching(/^10:32 error: icmp echo-request does not go with proto tcp/),
      expect.stringMatching(/^11:33 error: icmp "echo-requets" is not an icmp type nft knows — use one of: echo-reply, .*\(did you mean echo-request\?\)$/),
      expect.stringMatching(/^12:66 error: code "frag-needed" is not an icmpv6 code nft knows \(frag-needed is an icmp code: proto: icmp\?\) — ICMPv6 says "fragmentation needed" as icmp: packet-too-big, with no code$/),
      expect.stringMatching(/^13:27 error: code 4 needs icmp, the type it is a code of/),
      expect.stringMatching(/^14:33 error: icmp 300 is not an icmp type — use 0\.\.255 or a name/),
      expect.stringMatching(/^15:33 error: flags do not go with proto udp — TCP flags need proto: tcp$/),
      expect.stringMatching(/^16:33 error: flags has syn both set and clear \("!syn"\) — a flag is set or clear: keep one$/),
      expect.stringMatching(/^16:39 error: flags: "sin" is not a TCP flag — use fin, syn, rst, psh, ack, urg, ecn, cwr, each with a leading "!" for clear \(did you mean \w+\?\)$/),
      expect.stringMatching(/^17:21 error: clamp-mss sets a TCP option: it does not go with proto udp/),
    ]);
  });

  it('clamp-mss in the input chain: the packet has no route onward', () => {
    expect(shown(lab(['{proto: tcp, action: clamp-mss}'], 'input'))).toEqual([expect.stringMatching(/^9:34 error: clamp-mss in the input chain has no route onward to clamp to — put it in forward/)]);
  });
});
