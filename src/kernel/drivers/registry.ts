// Every tool's driver, by the tool a batch's scope names: the scheduler knows no tool by name.
import { bridgeDriver } from './bridge.js';
import { fileDriver } from './file.js';
import { ipDriver } from './ip.js';
import { mountDriver } from './mount.js';
import { nftDriver } from './nft.js';
import { procDriver } from './proc.js';
import { sysctlDriver } from './sysctl.js';
import { tcDriver } from './tc.js';
import { wgDriver } from './wg.js';
import type { Driver, Tool } from './types.js';

const DRIVERS: Readonly<Record<Tool, Driver>> = {
  ip: ipDriver,
  tc: tcDriver,
  bridge: bridgeDriver,
  sysctl: sysctlDriver,
  nft: nftDriver,
  file: fileDriver(),
  mount: mountDriver,
  proc: procDriver,
  wg: wgDriver,
};

export function driverFor(tool: Tool): Driver {
  return DRIVERS[tool];
}
