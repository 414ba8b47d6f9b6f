// What netlab says of itself (its version, where its schema is), read from the package it runs
// from: package.json and schemas/ sit two levels above both src/cli/ and dist/cli/.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
}

export const PACKAGE_JSON_URL = new URL('../../package.json', import.meta.url);
export const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/topology.schema.json', import.meta.url));

export function packageInfo(): PackageInfo {
  const { name, version } = JSON.parse(readFileSync(PACKAGE_JSON_URL, 'utf8')) as PackageInfo;
  return { name, version };
}
