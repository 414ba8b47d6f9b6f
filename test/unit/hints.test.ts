// What a failing kernel command is told with, and the iproute2 version check.
import { describe, expect, it } from 'vitest';
import { hintFor, iproute2Version, isTooOld } from '../../src/kernel/hints.js';

describe('hints', () => {
  it('names the missing kernel feature behind a link type the kernel does not know', () => {
    expect(hintFor('Error: Unknown device type.')).toMatch(/CONFIG_VETH/);
  });
  it('names nftables modules when a rule cannot be processed', () => {
    expect(hintFor('Error: Could not process rule: No such file or directory\nadd rule inet t c masquerade')).toMatch(/nft_nat/);
  });
  it('explains an unknown sysctl', () => {
    expect(hintFor('sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory')).toMatch(/no such sysctl/);
  });
  it('says nothing when it knows nothing', () => {
    expect(hintFor('something else entirely')).toBeUndefined();
  });
});

describe('iproute2 version', () => {
  it('reads what ip -V prints, old and new styles', () => {
    expect(iproute2Version('ip utility, iproute2-6.1.0, libbpf 1.1.2')).toEqual([6, 1]);
    expect(iproute2Version('ip utility, iproute2-ss190107')).toBeUndefined();
    expect(iproute2Version('ip utility, iproute2-v5.10.0')).toEqual([5, 10]);
  });
  it('is too old before 5.0', () => {
    expect(isTooOld([4, 19])).toBe(true);
    expect(isTooOld([5, 0])).toBe(false);
    expect(isTooOld([6, 1])).toBe(false);
  });
});
