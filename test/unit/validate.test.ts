// The lab file's checks: every rule reports the right place (line:col) and says what is wrong and
// what would be right. Inline labs give one string per line, so line N is the Nth argument.
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLab, MAX_FILE_BYTES, parseLab } from '../../src/config/load.js';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostics.js';

const lab = (...lines: string[]): string => `${lines.join('\n')}\n`;

function render(d: Diagnostic): string {
  return `${d.line}:${d.col} ${d.severity}: ${d.message}${d.hint ? ` — ${d.hint}` : ''}`;
}

/** Exactly these diagnostics, in order: [line:col, words that the text must contain...]. */
function expectDiagnostics(text: string, expected: Array<[string, ...string[]]>): Diagnostic[] {
  const { diagnostics } = parseLab(text, 'lab.yaml');
  const shown = diagnostics.map(render);
  expect(shown, shown.join('\n')).toHaveLength(expected.length);
  expected.forEach(([at, ...words], i) => {
    expect(shown[i]!.startsWith(`${at} `), `expected ${at}, got: ${shown[i]}`).toBe(true);
    for (const word of words) expect(shown[i]).toContain(word);
  });
  return diagnostics;
}

function expectValid(text: string): void {
  const loaded = parseLab(text, 'lab.yaml');
  expect(loaded.diagnostics.map(render)).toEqual([]);
  expect(loaded.spec).toBeDefined();
}

/** Two nodes joined by one veth, lines 1-10; tests append lines 11 and on. */
const PAIR = [
  'name: pair', //                          1
  'nodes:', //                              2
  '  a:', //                                3
  '    interfaces:', //                     4
  '      eth0: {addresses: [10.0.0.1/24]}', // 5
  '  b:', //                                6
  '    interfaces:', //                     7
  '      eth0: {addresses: [10.0.0.2/24]}', // 8
  'links:', //                              9
  '  - [a:eth0, b:eth0]', //                10
];

describe('parseLab: YAML', () => {
  it('accepts a small valid lab and returns its spec', () => {
    const loaded = parseLab(lab(...PAIR), 'lab.yaml');
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.spec?.nodes.a?.interfaces?.eth0?.addresses).toEqual(['10.0.0.1/24']);
    expect(loaded.locate?.(['nodes', 'b', 'interfaces', 'eth0', 'addresses', 0])).toEqual({ line: 8, col: 26 });
  });

  it('reports an empty text at 1:1', () => {
    expectDiagnostics('', [['1:1', 'the file is empty', 'name:']]);
    expectDiagnostics('\n   \n', [['1:1', 'the file is empty']]);
    expectDiagnostics('# nothing\n', [['1:1', 'only comments']]);
  });

  it('reports a syntax error at its position, and nothing else', () => {
    const d = expectDiagnostics(lab('name: x', 'nodes:', '  a: {', '  b: {}'), [['4:3', 'YAML syntax error', 'close it with }']]);
    expect(formatDiagnostic(d[0]!)).toMatch(/^lab\.yaml:4:3: error: YAML syntax error: .* — close it with \}/);
  });

  it('reports tabs used as indentation', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '\ta: {}'), [['3:1', 'YAML syntax error', 'Tabs', 'indent with spaces']]);
  });

  it('reports a second document', () => {
    expectDiagnostics(lab('name: x', 'nodes: {a: {}}', '---', 'name: y'), [['3:1', 'more than one YAML document', 'one lab per file']]);
  });

  it('reports duplicate keys with the line of the first', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  a: {}', '  a: {}', 'name: y'), [
      ['4:3', 'duplicate key "a" in nodes (first at line 3)', 'merge the two entries'],
      ['5:1', 'duplicate key "name" at the top level (first at line 1)'],
    ]);
  });

  it('refuses an alias bomb and says so', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, next] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e']]) levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    expectDiagnostics(lab('name: x', ...levels, 'nodes: {a: {}}'), [['3:8', 'alias bomb', 'fewer aliases']]);
  });

  it('accepts a few aliases', () => {
    expectValid(lab('name: x', 'nodes:', '  a: &n {sysctls: {net.ipv4.ip_forward: 1}}', '  b: *n'));
  });

  it('reports an alias without anchor', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  a: *missing'), [['3:6', 'alias *missing refers to no anchor', 'define &missing']]);
  });

  it('reports a key that is a collection', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  ? [a, b]', '  : {}'), [['3:5', 'a key in nodes is a list, mapping or alias', 'plain names']]);
  });

  it('passes YAML warnings through without failing the lab', () => {
    const loaded = parseLab(lab('name: x', 'nodes:', '  a: !custom {}'), 'lab.yaml');
    expect(loaded.diagnostics.map(render)).toEqual([expect.stringMatching(/^3:6 warning: YAML warning: Unresolved tag: !custom/)]);
    expect(loaded.spec).toBeDefined();
  });
});

describe('loadLab: files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'netlab-load-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a file', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, lab(...PAIR));
    const loaded = await loadLab(file);
    expect(loaded).toMatchObject({ file, diagnostics: [] });
    expect(loaded.spec?.name).toBe('pair');
  });

  it('reports a missing file as one diagnostic without a position', async () => {
    const file = join(dir, 'nope.yaml');
    const loaded = await loadLab(file);
    expect(loaded.diagnostics).toHaveLength(1);
    expect(loaded.diagnostics[0]).toMatchObject({ file, line: 0, col: 0, severity: 'error' });
    expect(formatDiagnostic(loaded.diagnostics[0]!)).toContain(`${file}: error: no such file`);
  });

  it('reports a file that is no lab as a whole (empty, comments only, a directory, a device, a fifo, too large) at 1:1', async () => {
    const empty = join(dir, 'empty.yaml');
    await writeFile(empty, '');
    const comments = join(dir, 'comments.yaml');
    await writeFile(comments, '# a lab, some day\n');
    await mkdir(join(dir, 'sub'));
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const large = join(dir, 'large.yaml');
    await writeFile(large, 'name: x\n');
    await truncate(large, MAX_FILE_BYTES + 1);
    for (const [file, words] of [
      [empty, 'the file is empty'],
      [comments, 'the file has only comments'],
      [join(dir, 'sub'), 'is a directory'],
      ['/dev/null', 'is not a regular file'],
      [fifo, 'is not a regular file'],
      [large, `is ${MAX_FILE_BYTES + 1} bytes, too large for a lab file`],
    ] as const) {
      const loaded = await loadLab(file);
      expect(loaded.spec).toBeUndefined();
      expect(loaded.diagnostics).toHaveLength(1);
      expect(loaded.diagnostics[0]).toMatchObject({ file, line: 1, col: 1, severity: 'error' });
      expect(formatDiagnostic(loaded.diagnostics[0]!)).toContain(`${file}:1:1: error: ${words}`);
    }
  });
});

describe('schema', () => {
  it('reports an unknown key at the key, with the keys allowed and a guess', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  c0:', '    interfaces:', '      eth0:', '        adresses: [10.0.0.1/24]', 'link: []'), [
      // The semantic checks run on what the schema accepts: eth0 is made by no link, wherever links are.
      ['5:7', 'interface eth0 on node c0 is created by no link'],
      ['6:9', 'unknown key "adresses" in nodes.c0.interfaces.eth0 — expected one of: addresses, mtu, mac, master, up, hairpin, isolated, learning, flood, impair, kind, parent, mode, id, local, remote, group, dstport, table, miimon, listen, key, peers, access, trunk, native (did you mean "addresses"?)'],
      ['7:1', 'unknown key "link" at the top level', 'name, description, prefix, ipv6, nodes, links, tests', '(did you mean "links"?)'],
    ]);
  });

  it('reports a wrong type with what was found and an example', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  c0:', '    interfaces:', '      eth0: {mtu: big}', '    routes: {to: default}'), [
      ['5:7', 'interface eth0 on node c0 is created by no link'],
      ['5:19', 'nodes.c0.interfaces.eth0.mtu must be an integer, got "big" — e.g. mtu: 1500'],
      ['6:13', 'nodes.c0.routes must be a list, got a mapping', 'e.g. routes: [{to: default, via: 172.18.0.1}]'],
    ]);
  });

  it('says how to write an empty mapping', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  c0:'), [['3:3', 'nodes.c0 must be a mapping, got nothing', 'write c0: {} for an empty one']]);
  });

  it('lists the allowed values of an enum', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  c0: {kind: docker}'), [['3:14', 'nodes.c0.kind cannot be "docker" — use one of: netns, host, attach']]);
  });

  it('enforces bounds', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  c0:', '    bridges: {br0: {mtu: 67}}', '    routes: [{to: default, dev: br0, metric: -1}]'), [
      ['4:26', 'mtu is 67, below the minimum 68 — use 68..65535'],
      ['5:46', 'metric is -1, below the minimum 0 — use 0..4294967295'],
    ]);
  });

  it('reports a missing required key at its mapping', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  c0:', '    routes: [{via: 10.0.0.1}]'), [['4:14', 'nodes.c0.routes[0] has no "to" — add it, e.g. to: default']]);
    expectDiagnostics(lab('nodes: {c0: {}}'), [['1:1', 'the lab has no "name"', 'e.g. name: docker-bridge']]);
  });

  it('checks the lab name pattern and the prefix characters', () => {
    expectDiagnostics(lab('name: My_Lab', 'prefix: "a b"', 'nodes: {c0: {}}'), [
      ['1:7', 'name "My_Lab" is not allowed', 'lowercase letters, digits and \'-\''],
      ['2:9', 'prefix "a b" is not allowed', "letters, digits, '_', '.' and '-'"],
    ]);
  });

  it('gives one message for a link that is neither form', () => {
    expectDiagnostics(lab('name: x', 'nodes: {a: {}, b: {}}', 'links:', '  - a:eth0', '  - [a:eth1]', '  - {ends: [a:eth2, b:eth2]}'), [
      ['4:5', 'links[0] must be a list or a mapping, got "a:eth0" — e.g. [c0:eth0, host:br0]'],
      ['5:5', 'links[1] must have exactly 2 items, got 1'],
      ['6:6', 'unknown key "ends" in links[2]', '(did you mean "endpoints"?)'],
    ]);
  });

  it('reports repeated firewall states', () => {
    const text = lab('name: x', 'nodes:', '  c0:', '    firewall:', '      input:', '        rules: [{state: [new, new], action: accept}]');
    // A schema error: the semantic checks wait for a fix.
    expectDiagnostics(text, [['6:31', 'nodes.c0.firewall.input.rules[0].state lists "new" twice']]);
  });
});

describe('semantic checks: names and links', () => {
  it('reports a link end that is not node:ifname', () => {
    expectDiagnostics(lab(...PAIR, '  - [a-eth1, b:eth1]', '  - [a:eth2, "b:eth2:x"]'), [
      ['11:6', 'link end "a-eth1" is not NODE:IFNAME', 'e.g. c0:eth0'],
      ['12:14', 'link end "b:eth2:x" is not NODE:IFNAME'],
    ]);
  });

  it('reports a link end naming a missing node, listing the nodes', () => {
    expectDiagnostics(lab(...PAIR, '  - [a:eth1, c9:eth0]'), [['11:14', 'link end "c9:eth0": no node c9 (nodes: a, b)', 'declare c9 under nodes']]);
  });

  it('reports a link whose two ends are the same', () => {
    expectDiagnostics(lab(...PAIR, '  - [a:eth1, a:eth1]'), [['11:14', 'link connects a:eth1 to itself', 'must differ']]);
  });

  it('reports an interface end used by two links, naming the first line', () => {
    expectDiagnostics(lab(...PAIR, '  - {endpoints: [b:eth1, a:eth0]}'), [['11:26', 'a:eth0 is already the end of the link at line 10', 'use another interface name']]);
  });

  it('lets a bridge end many links, and a link join two bridges', () => {
    expectValid(
      lab(
        'name: x',
        'nodes:',
        '  sw: {bridges: {br0: {}, br1: {}}}',
        '  a: {}',
        '  b: {}',
        'links:',
        '  - [a:eth0, sw:br0]',
        '  - [b:eth0, sw:br0]',
        '  - [sw:br0, sw:br1]',
      ),
    );
  });

  it('checks interface names: length, characters, lo', () => {
    expectDiagnostics(lab(...PAIR, '  - [a:averyverylongname0, b:eth1]', '  - ["a:eth1;rm", b:eth2]', '  - [a:lo, b:eth3]'), [
      ['11:6', 'interface name "averyverylongname0" in link end "a:averyverylongname0" is 18 bytes long', 'at most 15'],
      ['12:6', 'interface name "eth1;rm"', 'is not allowed', 'may only contain letters, digits'],
      ['13:6', 'interface name "lo"', 'loopback device'],
    ]);
  });

  it('checks bridge names', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  sw:', '    bridges:', '      a-very-long-bridge: {}'), [['5:7', 'interface name "a-very-long-bridge" (bridge of node sw) is 18 bytes long']]);
  });

  it('checks interface keys of host nodes, which need no link', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  root:', '    kind: host', '    interfaces:', '      eno1: {mtu: 9000}', '      "eno 2": {}'), [
      ['6:14', 'mtu of eno1: node root is kind host and no link creates eno1, so it is not the lab\'s to change', 'keep only addresses'],
      ['7:7', 'interface name "eno 2" (node root) is not allowed'],
    ]);
  });

  it('refuses dns on the host node, whose resolv.conf is the machine\'s', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  root:', '    kind: host', '    dns: {nameservers: [192.0.2.53]}'), [
      ['5:5', 'dns on node root: a kind: host node is the machine itself', 'remove dns here'],
    ]);
  });

  it('checks node names and namespace names', () => {
    const long = 'n'.repeat(60);
    expectDiagnostics(lab('name: x', 'prefix: lab-0001-', 'nodes:', '  "c 0": {}', `  ${long}: {}`), [
      ['4:3', 'node name "c 0" is not allowed', 'letters, digits'],
      ['5:3', `namespace name "lab-0001-${long}" (prefix + node name) is 69 characters long`, 'shorten the prefix or the node name'],
    ]);
  });

  it('reports a prefix that cannot start a namespace name', () => {
    expectDiagnostics(lab('name: x', 'prefix: "-"', 'nodes: {a: {}}'), [['2:9', 'prefix "-" would start every namespace name with "-"']]);
  });

  it('reports an interface and a bridge of one name in one node', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  sw:', '    bridges: {br0: {}}', '    interfaces:', '      br0: {mtu: 1400}'), [
      ['6:7', 'br0 is both a bridge and an interface of node sw', 'bridges.br0'],
    ]);
  });

  it('reports a generated port name equal to an interface end', () => {
    expectDiagnostics(
      lab('name: x', 'nodes:', '  sw: {bridges: {br0: {}}}', '  a: {}', '  b: {}', 'links:', '  - [a:eth0, sw:br0]', '  - [sw:a-eth0, b:eth0]'),
      [['8:6', 'interface name "a-eth0" on node sw is made twice: by the port that link [a:eth0, sw:br0] makes for bridge br0 (line 7) and by link end sw:a-eth0', 'rename']],
    );
  });

  it('reports an interface that no link creates in a netns node', () => {
    expectDiagnostics(lab(...PAIR.slice(0, 5), '      eth5: {}', ...PAIR.slice(5)), [
      ['6:7', 'interface eth5 on node a is created by no link — add a link such as [a:eth5, OTHER:IFNAME] or remove it'],
    ]);
  });

  it('accepts settings for a generated bridge port', () => {
    expectValid(lab('name: x', 'nodes:', '  sw:', '    bridges: {br0: {}}', '    interfaces: {a-eth0: {mtu: 1400}}', '  a: {}', 'links:', '  - [a:eth0, sw:br0]'));
  });
});

describe('semantic checks: kinds', () => {

  it('checks pid/path against kind, and one host node', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  a: {pid: 5}', '  b: {kind: attach}', '  h1: {kind: host}', '  h2: {kind: host}'), [
      ['3:7', 'pid is only for kind: attach (node a is kind netns)'],
      ['4:13', 'node b is kind: attach but names no namespace', 'add pid: PID, path'],
      ['6:14', 'node h2 is a second kind: host node (the first is h1, line 5)'],
    ]);
  });

  it('takes container: for kind attach only, and exactly one of pid, path and container', () => {
    expectDiagnostics(
      lab('name: x', 'nodes:', '  a: {kind: attach, container: web1}', '  b: {container: web2}', '  c: {kind: attach, pid: 5, container: web3}', '  d: {kind: attach, path: /run/netns/x, container: web4}'),
      [
        ['4:7', 'container is only for kind: attach (node b is kind netns)', 'remove container, or set kind: attach'],
        ['5:29', 'node c has both pid and container', 'give one of pid, path and container'],
        ['6:41', 'node d has both path and container', 'give one of pid, path and container'],
      ],
    );
  });

  it('rejects a container name that is not one, such as an option', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  a: {kind: attach, container: --format}'), [
      ['3:32', 'container', 'is not allowed', 'a container name or id'],
    ]);
  });
});

describe('semantic checks: master and mac', () => {
  it('reports a master that is a bridge of another node, and says which', () => {
    expectDiagnostics(
      lab('name: x', 'nodes:', '  host: {bridges: {br0: {}}}', '  a:', '    interfaces:', '      eth0: {master: br0}', '  b: {}', 'links:', '  - [a:eth0, b:eth0]'),
      [['6:22', 'master br0 is no bridge, bond or vrf of node a (br0 is a bridge of node host)', 'write the link as [a:eth0, host:br0]']],
    );
  });

  it('reports a master that is no bridge at all', () => {
    expectDiagnostics(
      lab('name: x', 'nodes:', '  a:', '    bridges: {br1: {}}', '    interfaces:', '      eth0: {master: br2}', '  b: {}', 'links:', '  - [a:eth0, b:eth0]'),
      [['6:22', 'master br2 is no bridge, bond or vrf of node a (it has: br1)', 'did you mean br1?']],
    );
  });

  it('reports a master that contradicts the bridge a port was made for', () => {
    expectDiagnostics(
      lab('name: x', 'nodes:', '  sw:', '    bridges: {br0: {}, br1: {}}', '    interfaces: {a-eth0: {master: br1}}', '  a: {}', 'links:', '  - [a:eth0, sw:br0]'),
      [['5:35', 'a-eth0 is the port that link [a:eth0, sw:br0] makes for bridge br0, so its master is br0, not br1', 'remove master']],
    );
  });

  it('checks mac addresses: form and unicast', () => {
    expectDiagnostics(
      lab('name: x', 'nodes:', '  a:', '    interfaces:', '      eth0: {mac: "03:00:00:00:00:01"}', '      eth1: {mac: "02-00-00-00-00-01"}', '      eth2: {mac: "00:00:00:00:00:00"}', '  b: {}', 'links:', '  - [a:eth0, b:eth0]', '  - [a:eth1, b:eth1]', '  - [a:eth2, b:eth2]'),
      [
        ['5:19', 'mac 03:00:00:00:00:01 is a multicast address', 'e.g. 02:00:00:00:00:01'],
        ['6:19', 'mac "02-00-00-00-00-01" is not a MAC address', '6 hex octets separated by ":"'],
        ['7:19', 'mac 00:00:00:00:00:00 is all zeros'],
      ],
    );
  });
});

describe('semantic checks: addresses and segments', () => {
  it('reports an address without prefix length, with an example', () => {
    expectDiagnostics(lab(...PAIR.slice(0, 4), '      eth0: {addresses: [172.18.0.10, "2001:db8::1"]}', ...PAIR.slice(5)), [
      ['5:26', 'address 172.18.0.10 has no prefix length — e.g. 172.18.0.10/24'],
      ['5:39', 'address 2001:db8::1 has no prefix length — e.g. 2001:db8::1/64'],
    ]);
  });

  it('reports invalid addresses and prefix lengths', () => {
    expectDiagnostics(lab(...PAIR.slice(0, 4), '      eth0: {addresses: [10.0.0.300/24, 10.1/8, "2001:db8::1/129", 10.0.0.1/x]}', ...PAIR.slice(5)), [
      ['5:26', 'address "10.0.0.300/24" is not an IPv4 or IPv6 address with a prefix length'],
      ['5:41', 'address "10.1/8" is not an IPv4 or IPv6 address'],
      ['5:49', 'address 2001:db8::1/129 has a prefix length out of range for IPv6', 'use /0 to /128'],
      ['5:68', 'address 10.0.0.1/x has a prefix length out of range for IPv4'],
    ]);
  });

  it('reports one address twice on the two ends of a veth, with any prefix', () => {
    expectDiagnostics(lab(...PAIR.slice(0, 7), '      eth0: {addresses: [10.0.0.1/16]}', ...PAIR.slice(8)), [
      ['8:26', 'address 10.0.0.1 is used twice on one L2 segment: here and on a:eth0 (line 5)'],
    ]);
  });

  it('compares IPv6 addresses in canonical form', () => {
    expectDiagnostics(lab(...PAIR.slice(0, 4), '      eth0: {addresses: ["2001:db8::1/64", "2001:DB8:0:0::1/64"]}', ...PAIR.slice(5)), [
      ['5:44', 'address 2001:db8::1 is used twice on one L2 segment: here and on this interface (line 5)'],
    ]);
  });

  it('puts a bridge, its links and its master ports on one segment', () => {
    expectDiagnostics(
      lab(
        'name: x', // 1
        'nodes:', // 2
        '  sw:', // 3
        '    bridges: {br0: {addresses: [10.0.0.1/24]}}', // 4
        '    interfaces: {p1: {master: br0}}', // 5
        '  a: {interfaces: {eth0: {addresses: [10.0.0.2/24]}}}', // 6
        '  b: {interfaces: {eth0: {addresses: [10.0.0.2/24]}}}', // 7: on br0 through sw:p1
        '  d: {bridges: {br9: {}}}', // 8: br9 joins br0 by the bridge-to-bridge link
        '  c: {interfaces: {eth0: {addresses: [10.0.0.1/24]}}}', // 9: on br9
        '  e: {interfaces: {eth0: {addresses: [10.0.0.1/24]}}}', // 10: a segment of its own
        '  f: {}', // 11
        'links:', // 12
        '  - [a:eth0, sw:br0]', // 13
        '  - [b:eth0, sw:p1]', // 14
        '  - [c:eth0, d:br9]', // 15
        '  - [sw:br0, d:br9]', // 16
        '  - [e:eth0, f:eth0]', // 17
      ),
      [
        ['7:39', 'address 10.0.0.2 is used twice on one L2 segment: here and on a:eth0 (line 6)'],
        ['9:39', 'address 10.0.0.1 is used twice on one L2 segment: here and on sw:br0 (line 4)'],
      ],
    );
  });

  it('lets isolated segments reuse addresses and one node hold one subnet twice', () => {
    expectValid(
      lab(
        'name: x',
        'nodes:',
        '  host: {interfaces: {veth0: {addresses: [172.18.0.11/16]}, veth1: {addresses: [172.18.0.21/16]}}}',
        '  n0: {interfaces: {eth0: {addresses: [172.18.0.10/16]}}}',
        '  n1: {interfaces: {eth0: {addresses: [172.18.0.10/16]}}}',
        'links:',
        '  - [host:veth0, n0:eth0]',
        '  - [host:veth1, n1:eth0]',
      ),
    );
  });
});

describe('semantic checks: routes', () => {
  const node = (...routes: string[]): string =>
    lab('name: x', 'nodes:', '  a:', '    interfaces: {eth0: {addresses: [10.0.0.1/24, "2001:db8::1/64"]}}', '    routes:', ...routes.map((r) => `      - ${r}`), '  b: {}', 'links:', '  - [a:eth0, b:eth0]');

  it('reports host bits in a destination, with the network meant', () => {
    expectDiagnostics(node('{to: 10.9.0.1/16, via: 10.0.0.2}'), [['6:14', '10.9.0.1/16 has host bits set — did you mean 10.9.0.0/16?']]);
  });

  it('reports a destination that is not a CIDR or default', () => {
    expectDiagnostics(node('{to: 10.9.0.0, via: 10.0.0.2}', '{to: everywhere, via: 10.0.0.2}'), [
      ['6:14', 'route destination 10.9.0.0 has no prefix length', '10.9.0.0/32'],
      ['7:14', 'route destination "everywhere" is neither default nor a CIDR'],
    ]);
  });

  it('reports a gateway with a prefix or not an IP', () => {
    expectDiagnostics(node('{to: default, via: 10.0.0.2/24}', '{to: 10.8.0.0/16, via: gw}'), [
      ['6:28', 'gateway 10.0.0.2/24 has a prefix length — a gateway is one address: via: 10.0.0.2'],
      ['7:32', 'gateway "gw" is not an IP address'],
    ]);
  });

  it('reports mixed families', () => {
    expectDiagnostics(node('{to: 10.8.0.0/16, via: "2001:db8::2"}'), [['6:32', 'route to 10.8.0.0/16 is IPv4 but its gateway 2001:db8::2 is IPv6']]);
  });

  it('reports a route with neither via nor dev', () => {
    expectDiagnostics(node('{to: 10.8.0.0/16}'), [['6:9', 'route to 10.8.0.0/16 has neither via nor dev', 'add via: GATEWAY or dev: IFNAME']]);
  });

  it('reports a dev the node does not have', () => {
    expectDiagnostics(node('{to: 10.8.0.0/16, dev: eth1}'), [['6:32', 'dev eth1 is not an interface or bridge of node a (it has: eth0, lo)', 'did you mean eth0?']]);
  });

  it('reports a gateway on no connected subnet, listing the subnets', () => {
    expectDiagnostics(node('{to: default, via: 172.18.0.1}'), [
      ['6:28', 'gateway 172.18.0.1 is on no connected subnet of node a (its subnets: 10.0.0.0/24) — add an address in that subnet or correct via'],
    ]);
  });

  it('reports a gateway that is the node itself, and a link-local one without dev', () => {
    expectDiagnostics(node('{to: default, via: 10.0.0.1}', '{to: default, via: "fe80::1"}', '{to: "2001:db8:5::/48", via: "fe80::1", dev: eth0}'), [
      ['6:28', 'gateway 10.0.0.1 is an address of node a itself'],
      ['7:28', 'gateway fe80::1 is link-local', 'add dev: IFNAME'],
    ]);
  });

  it('reports two routes of one family, destination and metric; default IPv6 takes via\'s family', () => {
    expectDiagnostics(
      node('{to: default, via: 10.0.0.2}', '{to: default, via: "2001:db8::2"}', '{to: 0.0.0.0/0, via: 10.0.0.3}', '{to: default, via: 10.0.0.3, metric: 5}', '{to: "::/0", via: "2001:db8::3", metric: 1024}'),
      [
        ['8:14', 'route to 0.0.0.0/0 (IPv4, metric 0) is declared twice in node a (first at line 6)', 'different metrics'],
        ['10:14', 'route to ::/0 (IPv6, metric 1024) is declared twice in node a (first at line 7)'],
      ],
    );
  });
});

describe('semantic checks: sysctls and dns', () => {
  const node = (...lines: string[]): string => lab('name: x', 'nodes:', '  a:', ...lines.map((l) => `    ${l}`));

  it('accepts net.* sysctls, with / for a dot in an interface name', () => {
    expectValid(node('sysctls: {net.ipv4.ip_forward: 1, net.ipv4.conf.eth0/1.rp_filter: "2", net.ipv6.conf.all.disable_ipv6: false, net.ipv4.tcp_rmem: "4096 87380 6291456"}'));
  });

  it('rejects sysctls outside net., bad names and control characters', () => {
    expectDiagnostics(node('sysctls:', '  kernel.pid_max: 5', '  net.ipv4..forward: 1', '  "net.ipv4.conf.eth0 1.x": 1', '  net.core.somaxconn: "1\\n2"', '  net.core.rmem_max: ""'), [
      ['5:7', 'sysctl kernel.pid_max is not per network namespace', 'only net.* sysctls are', 'whole machine'],
      ['6:7', 'sysctl name "net.ipv4..forward" is not valid', "as '/'"],
      ['7:7', 'sysctl name "net.ipv4.conf.eth0 1.x" is not valid'],
      ['8:27', 'the value of sysctl net.core.somaxconn contains a control character'],
      ['9:26', 'the value of sysctl net.core.rmem_max is empty'],
    ]);
  });

  it('checks nameservers, search domains and options', () => {
    expectDiagnostics(node('dns:', '  nameservers: [192.0.2.1, "2001:db8::53", 192.0.2.256]', '  search: [lab.test, "bad domain", -x.test]', '  options: [ndots:2, "a\\nb"]'), [
      ['5:48', 'nameserver "192.0.2.256" is not an IP address'],
      ['6:26', 'search domain "bad domain" is not a domain name', 'e.g. lab.test'],
      ['6:40', 'search domain "-x.test" is not a domain name'],
      ['7:26', 'resolver option "a\\nb" is not one word'],
    ]);
  });
});

describe('semantic checks: nat and firewall', () => {
  const router = (...lines: string[]): string =>
    lab(
      'name: x', // 1
      'nodes:', // 2
      '  r:', // 3
      '    bridges: {br0: {addresses: [172.18.0.1/16]}}', // 4
      '    interfaces: {eth0: {addresses: [198.51.100.100/24]}}', // 5
      ...lines.map((l) => `    ${l}`), // 6...
      '  c: {}',
      'links:',
      '  - [c:eth0, r:br0]',
      '  - [r:eth0, c:eth1]',
    );

  it('reports port without proto, and the to each type needs', () => {
    expectDiagnostics(
      router('nat:', '  - {type: masquerade, source: 172.18.0.0/16, out: "!br0", to: 198.51.100.100}', '  - {type: snat, out: eth0}', '  - {type: dnat, in: eth0, port: 80}', '  - {type: dnat, in: eth0, proto: tcp, port: 80, to: "[2001:db8::1]:8080"}'),
      [
        ['7:64', 'a masquerade rule takes no to', 'use type: snat'],
        ['8:9', 'a snat rule has no "to"', 'e.g. to: 198.51.100.100'],
        ['9:9', 'a dnat rule has no "to"', 'ADDR or ADDR:PORT'],
        ['9:38', 'port 80 needs proto', 'proto: tcp or proto: udp'],
        ['10:58', 'dnat to 2001:db8::1 is in no subnet of the lab', 'check the address'],
      ],
    );
  });

  it('checks to, in/out and addresses of nat rules', () => {
    expectDiagnostics(
      router('nat:', '  - {type: snat, to: 198.51.100.300, out: eth9}', '  - {type: dnat, in: "!eth0", to: "172.18.0.10:0"}', '  - {type: dnat, to: "[2001:db8::1]", source: 172.18.0.0/16}', '  - {type: masquerade, source: 172.18.0.1/16, in: br0}'),
      [
        ['7:26', 'snat to "198.51.100.300" is not an IP address'],
        ['7:47', 'out: eth9 is not an interface or bridge of node r (it has: br0, c-eth0, eth0, lo)'],
        ['8:39', 'dnat to "172.18.0.10:0" is not ADDR or ADDR:PORT'],
        ['9:26', 'dnat to 2001:db8::1 is in no subnet of the lab', 'check the address'],
        ['9:26', 'to [2001:db8::1] is IPv6 but source 172.18.0.0/16 is IPv4', 'split it'],
        ['10:36', 'source 172.18.0.1/16 has host bits set — did you mean 172.18.0.0/16?'],
        ['10:51', 'a masquerade rule cannot match in', 'match out instead'],
      ],
    );
  });

  it('checks firewall rules', () => {
    expectDiagnostics(
      router(
        'firewall:',
        '  input:',
        '    rules:',
        '      - {out: eth0, action: drop}',
        '      - {proto: icmp, port: 8, action: accept}',
        '      - {port: 22, action: accept}',
        '  forward:',
        '    rules:',
        '      - {in: br7, out: "!br0", action: accept}',
        '      - {proto: icmp, source: "2001:db8::/64", action: drop}',
        '      - {source: 10.0.0.0/8, destination: "2001:db8::/64", action: drop}',
      ),
      [
        ['9:14', 'a rule of the input chain cannot match out'],
        ['10:33', 'port 8 does not go with proto icmp'],
        ['11:20', 'port 22 needs proto'],
        ['14:18', 'in: br7 is not an interface or bridge of node r', 'did you mean br0?'],
        ['15:21', 'proto icmp is IPv4 but the rule matches IPv6 addresses', 'icmpv6'],
        ['16:47', 'destination 2001:db8::/64 is IPv6 but source 10.0.0.0/8 is IPv4'],
      ],
    );
  });
});

describe('semantic checks: tests', () => {
  it('checks from, ping, connect and serve', () => {
    expectDiagnostics(
      lab(
        ...PAIR.slice(0, 8),
        '  c: {}', // 9
        'links:', // 10
        '  - [a:eth0, b:eth0]', // 11
        '  - [a:eth1, c:eth0]', // 12
        'tests:', // 13
        '  - {from: a, ping: b}', // 14
        '  - {from: z, ping: 10.0.0.2}', // 15
        '  - {from: a, ping: nobody}', // 16
        '  - {from: a, ping: c}', // 17
        '  - {from: a, connect: "10.0.0.2"}', // 18
        '  - {from: a, connect: "10.0.0.2:80", serve: "q:80"}', // 19
        '  - {from: a, connect: "[2001:db8::2]:80", serve: "b:http"}', // 20
        '  - {from: a, serve: "b:80", proto: udp}', // 21
        '  - {from: a, ping: b, connect: "10.0.0.2:80"}', // 22
      ),
      [
        ['15:12', 'no node z (nodes: a, b, c)'],
        ['16:21', 'ping target "nobody" is neither an IP address nor a node (nodes: a, b, c)'],
        ['17:21', 'node c has no address to ping'],
        ['18:24', 'connect "10.0.0.2" is not ADDR:PORT'],
        ['19:46', 'serve "q:80": no node q (nodes: a, b, c)'],
        ['20:51', 'serve "b:http" is not NODE:PORT'],
        ['21:5', 'the test has no ping, connect, route, trace or throughput'],
        ['21:15', 'serve without connect has nothing to test'],
        ['21:30', 'proto is only for connect tests'],
        ['22:24', 'a test does ping or connect, not both'],
      ],
    );
  });
});

describe('semantic checks: ping options, route tests and within', () => {
  it('accepts every option where its kind of test reads it; df needs no size', () => {
    expectValid(
      lab(
        ...PAIR,
        'tests:',
        '  - {from: a, ping: b, df: true}',
        '  - {from: a, ping: b, size: 1472, df: true, count: 10, loss: {min: 0%, max: 5%}, rtt: {min: 1ms, max: 2s}, within: 10s}',
        '  - {from: a, route: 10.0.0.2, via: 10.0.0.9, dev: eth0, source: 10.0.0.1, mark: 7, within: 500ms}',
        '  - {from: a, route: b, dev: eth0, expect: fail}',
      ),
    );
  });

  it('reports each bad value at its place, saying what would be right', () => {
    expectDiagnostics(
      lab(
        ...PAIR,
        'tests:', // 11
        '  - {from: a, ping: b, size: 70000}', // 12
        '  - {from: a, ping: b, count: 10, loss: {max: 150%}}', // 13
        '  - {from: a, ping: b, count: 10, loss: {max: five}}', // 14
        '  - {from: a, ping: b, loss: {max: 5%}}', // 15
        '  - {from: a, ping: b, rtt: {min: 150ms, max: 90ms}}', // 16
        '  - {from: a, ping: b, rtt: {max: 9 parsecs}}', // 17
        '  - {from: a, ping: b, size: 8, rtt: {max: 1s}}', // 18
        '  - {from: a, ping: b, within: soon}', // 19
        '  - {from: a, ping: b, within: 0s}', // 20
        '  - {from: a, route: 10.0.0.2}', // 21
        '  - {from: a, route: 10.0.0.2, via: "2001:db8::1", dev: eth9}', // 22
        '  - {from: a, route: nowhere, via: 10.0.0.300}', // 23
        '  - {from: a, connect: "10.0.0.2:80", size: 100, via: 10.0.0.1}', // 24
        '  - {from: a, ping: b, route: 10.0.0.2, dev: eth0}', // 25
        '  - {from: a, route: b, dev: eth0, mark: -1}', // 26
        '  - {from: a, route: 10.0.0.2, dev: eth0, source: "2001:db8::1"}', // 27
      ),
      [
        ['12:30', 'tests[0].size is 70000, above the maximum 65507', 'use 0..65507'],
        ['13:47', 'loss max 150% is above 100%', 'use 0%..100%'],
        ['14:47', 'loss max "five" is not a percentage', 'loss: {max: 5%}'],
        ['15:24', 'loss is measured over several echoes, and the test has no count', 'add count'],
        ['16:35', 'rtt min 150ms is above max 90ms'],
        ['17:35', 'rtt max "9 parsecs" is not a duration', 'rtt: {max: 150ms}'],
        ['18:30', 'size 8 is too small to time', 'size: 16 or more'],
        ['19:32', 'within "soon" is not a duration', 'within: 10s'],
        ['20:32', 'within 0s leaves no time to try again'],
        ['21:15', 'a route test needs via, dev or both', 'via: 192.0.2.254, dev: eth0'],
        ['22:37', 'via 2001:db8::1 is IPv6 but route 10.0.0.2 is IPv4'],
        ['22:57', 'dev eth9 is not an interface or bridge of node a (it has: eth0, lo)', 'did you mean eth0?'],
        ['23:22', 'route target "nowhere" is neither an IP address nor a node (nodes: a, b)'],
        ['23:36', 'via "10.0.0.300" is not an IP address'],
        ['24:39', 'size is only for ping tests'],
        ['24:50', 'via is only for route tests'],
        ['25:24', 'a test does ping or route, not both'],
        ['26:42', 'tests[14].mark is -1, below the minimum 0'],
        ['27:51', 'source 2001:db8::1 is IPv6 but route 10.0.0.2 is IPv4'],
      ],
    );
  });
});

describe('all at once', () => {
  it('reports every error of a file in one run, sorted by position', () => {
    const text = lab(
      'name: many', // 1
      'nodes:', // 2
      '  a:', // 3
      '    interfaces:', // 4
      '      eth0: {addresses: [10.0.0.1]}', // 5
      '      eth7: {}', // 6
      '    routes: [{to: 10.9.0.1/16, via: 10.0.0.2}]', // 7
      '    sysctls: {vm.swappiness: 1}', // 8
      '  b:', // 9
      '    interfaces: {eth0: {master: br0}}', // 10
      'links:', // 11
      '  - [a:eth0, b:eth0]', // 12
      '  - [a:eth0, z:eth0]', // 13
    );
    const diagnostics = expectDiagnostics(text, [
      ['5:26', 'no prefix length'],
      ['6:7', 'eth7', 'created by no link'],
      ['7:19', 'host bits'],
      ['8:15', 'vm.swappiness is not per network namespace'],
      ['10:33', 'master br0 is no bridge, bond or vrf of node b'],
      ['13:6', 'already the end of the link at line 12'],
      ['13:14', 'no node z'],
    ]);
    expect(diagnostics.every((d) => d.file === 'lab.yaml' && d.severity === 'error')).toBe(true);
  });
});

// ── fixtures

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

async function yamlFiles(dir: string): Promise<string[]> {
  return (await readdir(join(FIXTURES, dir))).filter((f) => f.endsWith('.yaml')).sort();
}

describe('fixtures', async () => {
  const valid = await yamlFiles('valid');
  const broken = await yamlFiles('broken');

  it('has enough of them', () => {
    expect(valid.length).toBeGreaterThanOrEqual(3);
    expect(broken.length).toBeGreaterThanOrEqual(15);
  });

  it.each(valid)('valid/%s has no diagnostics', async (name) => {
    const loaded = await loadLab(join(FIXTURES, 'valid', name));
    expect(loaded.diagnostics.map(render)).toEqual([]);
    expect(loaded.spec).toBeDefined();
  });

  it.each(broken)('broken/%s reports exactly what its "# expect:" lines say', async (name) => {
    const file = join(FIXTURES, 'broken', name);
    const text = await readFile(file, 'utf8');
    const expected = [...text.matchAll(/^# expect: (\d+):(\d+) (.+)$/gm)].map((m) => ({ at: `${m[1]}:${m[2]}`, words: m[3]! }));
    expect(expected.length, 'a broken fixture names its errors').toBeGreaterThan(0);
    const loaded = await loadLab(file);
    expect(loaded.spec).toBeUndefined();
    const shown = loaded.diagnostics.map((d) => ({ at: `${d.line}:${d.col}`, text: formatDiagnostic(d) }));
    expect(shown.length, shown.map((s) => `${s.at} ${s.text}`).join('\n')).toBe(expected.length);
    for (const { at, words } of expected) {
      expect(
        shown.some((s) => s.at === at && s.text.includes(words)),
        `no diagnostic at ${at} with "${words}"; got:\n${shown.map((s) => `${s.at} ${s.text}`).join('\n')}`,
      ).toBe(true);
    }
  });
});

describe('semantic checks: warnings', () => {
  it('warns, without failing the lab, when a dnat target is in no subnet of the lab', () => {
    const text = lab(
      'name: x',
      'nodes:',
      '  h:',
      '    interfaces: {eth0: {addresses: [198.51.100.1/24]}}',
      '    nat:',
      '      - {type: dnat, in: eth0, proto: tcp, port: 80, to: "203.0.113.9:8080"}',
      '      - {type: dnat, in: eth0, proto: tcp, port: 81, to: "198.51.100.2:8080"}',
      '  o: {}',
      'links: [[h:eth0, o:eth0]]',
    );
    const loaded = parseLab(text, 'lab.yaml');
    expect(loaded.spec).toBeDefined();
    expect(loaded.diagnostics.map((d) => `${d.line}:${d.col} ${d.severity}: ${d.message}`)).toEqual([
      "6:58 warning: dnat to 203.0.113.9 is in no subnet of the lab: mapped connections would leave the lab's namespaces",
    ]);
  });
});

describe('semantic checks: what the kernel would refuse half way through apply', () => {
  /** Node a (lines 3-6) joined to b by eth0; `aLines` go after line 5, `extra` at the end. */
  const pairWith = (aIface: string, aLines: string[] = [], extra: string[] = []) =>
    lab('name: x', 'nodes:', '  a:', '    interfaces:', `      eth0: {${aIface}}`, ...aLines, '  b: {}', 'links: [[a:eth0, b:eth0]]', ...extra);

  it('refuses an interface named all or default, wherever the lab names one', () => {
    expectDiagnostics(lab('name: x', 'nodes:', '  a: {bridges: {default: {}}}', '  b: {}', 'links: [[a:all, b:eth0]]'), [
      ['3:17', 'interface name "default" (bridge of node a) is not allowed', 'cannot be "all" or "default"', 'net.ipv4.conf.all', 'use another name'],
      ['5:10', 'interface name "all" in link end "a:all" is not allowed'],
    ]);
    expectDiagnostics(lab('name: x', 'nodes:', '  h: {kind: host, interfaces: {all: {addresses: [10.0.0.1/24]}}}'), [['3:32', 'interface name "all" (node h) is not allowed']]);
    expectValid(lab('name: x', 'nodes:', '  a: {}', '  b: {}', 'links: [[a:all0, b:default0]]'));
  });

  it('refuses an mtu below 1280 on a link with an IPv6 address, set on the interface, the bridge or the link', () => {
    expectDiagnostics(pairWith('mtu: 1200, addresses: ["2001:db8::1/64"]'), [['5:19', 'mtu 1200 of a:eth0 is below 1280, and eth0 has IPv6 address 2001:db8::1/64', 'use mtu 1280 or more']]);
    expectDiagnostics(lab('name: x', 'nodes:', '  a: {bridges: {br0: {mtu: 1000, addresses: ["2001:db8::1/64"]}}}'), [['3:28', 'mtu 1000 of a:br0 is below 1280']]);
    expectDiagnostics(
      lab('name: x', 'nodes:', '  a: {interfaces: {eth0: {addresses: ["2001:db8::1/64"]}}}', '  b: {}', 'links:', '  - {endpoints: [a:eth0, b:eth0], mtu: 1279}'),
      [['6:40', 'mtu 1279 of a:eth0 is below 1280, and eth0 has IPv6 address 2001:db8::1/64 (line 3)']],
    );
    // Right: 1280, or a small mtu on an IPv4-only link.
    expectValid(pairWith('mtu: 1280, addresses: ["2001:db8::1/64"]'));
    expectValid(pairWith('mtu: 1200, addresses: [10.0.0.1/24]', ['    bridges: {br0: {addresses: ["2001:db8::1/64"]}}']));
  });

  it('refuses an address no interface can have: the unspecified one, ::1, IPv6 multicast', () => {
    expectDiagnostics(pairWith('addresses: ["::1/128", 0.0.0.0/0, "::/64", "ff02::5/64", 0.0.0.0/8]'), [
      ['5:26', 'address ::1/128: ::1 is the loopback address, which only lo has', 'a unicast address of its subnet, e.g. 2001:db8::10/64'],
      ['5:37', 'address 0.0.0.0/0: 0.0.0.0 is the unspecified address', 'e.g. 172.18.0.10/24'],
      ['5:48', 'address ::/64: :: is the unspecified address'],
      ['5:57', 'address ff02::5/64: ff02::5 is a multicast address'],
      ['5:71', 'address 0.0.0.0/8: 0.0.0.0 is the unspecified address'],
    ]);
    // Addresses the kernel keeps, however odd: the network and broadcast address of a subnet, IPv4-mapped.
    expectValid(pairWith('addresses: [10.0.0.0/24, 10.1.0.255/24, "::ffff:10.0.0.1/96"]'));
  });

  it('refuses a route via a gateway out of lo; a route into lo without one is the kernel\'s to take', () => {
    expectDiagnostics(pairWith('addresses: [10.0.0.1/24]', ['    routes: [{to: 10.9.0.0/16, via: 10.0.0.2, dev: lo}]']), [
      ['6:52', 'route to 10.9.0.0/16 goes via 10.0.0.2 out of lo, which reaches no other host', 'name the interface toward the gateway'],
    ]);
    expectValid(pairWith('addresses: [10.0.0.1/24]', ['    routes: [{to: 10.9.0.0/16, dev: lo}, {to: 10.8.0.0/16, via: 10.0.0.2, dev: eth0}]']));
  });

  it('refuses a gateway that is the network or broadcast address of the subnet it is on', () => {
    expectDiagnostics(pairWith('addresses: [10.0.0.1/24]', ['    routes: [{to: 10.9.0.0/16, via: 10.0.0.255}, {to: 10.8.0.0/16, via: 10.0.0.0}]']), [
      ['6:37', 'gateway 10.0.0.255 is the broadcast address of 10.0.0.0/24, not a host', 'the next router on that subnet'],
      ['6:73', 'gateway 10.0.0.0 is the network address of 10.0.0.0/24, not a host'],
    ]);
    // A /31 has no network or broadcast address (RFC 3021); a host on another of the node's subnets will do.
    expectValid(pairWith('addresses: [10.0.0.0/31, 10.1.0.0/16]', ['    routes: [{to: 10.9.0.0/16, via: 10.0.0.1}, {to: 10.8.0.0/16, via: 10.1.0.255}]']));
    expectValid(pairWith('addresses: ["2001:db8::1/64"]', ['    routes: [{to: "2001:db8:9::/64", via: "2001:db8::"}]']));
  });

  it('refuses disable_ipv6 on a link, or on all of them, with an IPv6 address; default, for the bridges made after it', () => {
    const withSysctl = (sysctl: string, aIface = 'addresses: [10.0.0.1/24, "2001:db8::1/64"]') => pairWith(aIface, [`    sysctls: {${sysctl}}`, '    bridges: {br0: {addresses: ["2001:db8:1::1/64"]}}']);
    expectDiagnostics(withSysctl('net.ipv6.conf.eth0.disable_ipv6: 1'), [
      ['6:48', 'sysctl net.ipv6.conf.eth0.disable_ipv6 turns IPv6 off on a:eth0, which has IPv6 address 2001:db8::1/64 (line 5)', 'remove the sysctl (or set it to 0), or the IPv6 addresses'],
    ]);
    expectDiagnostics(withSysctl('net.ipv6.conf.all.disable_ipv6: "1"'), [['6:47', 'sysctl net.ipv6.conf.all.disable_ipv6 turns IPv6 off on a:eth0']]);
    expectDiagnostics(withSysctl('net.ipv6.conf.default.disable_ipv6: true'), [['6:51', 'sysctl net.ipv6.conf.default.disable_ipv6 turns IPv6 off on a:br0']]);
    expectValid(withSysctl('net.ipv6.conf.all.disable_ipv6: 0'));
    expectValid(withSysctl('net.ipv6.conf.eth0.disable_ipv6: 1', 'addresses: [10.0.0.1/24]'));
  });

  it('says them all at once, each at its place', () => {
    const { diagnostics } = parseLab(
      pairWith('mtu: 1200, addresses: ["2001:db8::1/64", "::1/128", 10.0.0.1/24]', ['    routes: [{to: 10.9.0.0/16, via: 10.0.0.255}]', '    sysctls: {net.ipv6.conf.all.disable_ipv6: 1}']),
      'lab.yaml',
    );
    expect(diagnostics.map((d) => `${d.line}:${d.col}`)).toEqual(['5:19', '5:55', '6:37', '7:47']);
  });
});

describe('semantic checks: ipv6: false and routers', () => {
  const routed = (ipv6: string, sysctl = 'net.ipv6.conf.all.forwarding: 1') =>
    lab(
      'name: x',
      ipv6,
      'nodes:',
      `  r: {sysctls: {${sysctl}}, interfaces: {l: {addresses: ["2001:db8:a::1/64"]}, r: {addresses: ["2001:db8:b::1/64"]}}}`,
      '  a: {interfaces: {eth0: {addresses: ["2001:db8:a::10/64"]}}}',
      '  b: {interfaces: {eth0: {addresses: ["2001:db8:b::10/64"]}}}',
      'links: [[a:eth0, r:l], [r:r, b:eth0]]',
    );

  it('warns, without failing the lab, that a node forwarding IPv6 cannot with ipv6: false', () => {
    const loaded = parseLab(routed('ipv6: false'), 'lab.yaml');
    expect(loaded.spec).toBeDefined();
    expect(loaded.diagnostics.map(render)).toEqual([
      '2:7 warning: ipv6: false leaves the lab\'s links without link-local addresses, so node r (net.ipv6.conf.all.forwarding: 1) cannot forward IPv6: the kernel solicits the next hop of a forwarded packet only from a link-local address — remove ipv6: false (a file with IPv6 addresses has link-local addresses by default); IPv6 between neighbours on one segment works either way',
    ]);
    expect(parseLab(routed('ipv6: false', 'net.ipv6.conf.l.forwarding: "1"'), 'lab.yaml').diagnostics).toHaveLength(1);
  });

  it('says nothing with link-local addresses, or when no node forwards IPv6', () => {
    expectValid(routed(''));
    expectValid(routed('ipv6: true'));
    expectValid(routed('ipv6: false', 'net.ipv6.conf.all.forwarding: 0'));
    expectValid(routed('ipv6: false', 'net.ipv4.ip_forward: 1'));
  });
});
