// npm run build, after tsc: writes DIST/config/schema-validator.cjs, the lab schema compiled by
// ajv into standalone code, so that netlab neither loads ajv nor compiles the schema at run time
// (~300 ms per command). Never checked in: every build makes it anew from the schema.
//   node scripts/build-schema-validator.mjs [DIST]    (DIST defaults to the repository's dist/)
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = process.argv[2] ? resolve(process.argv[2]) : fileURLToPath(new URL('../dist/', import.meta.url));
const config = pathToFileURL(resolve(dist, 'config') + '/');
// The compiled modules themselves: the same options, and the same schema file, as at run time.
const { standaloneSource, VALIDATOR_FILE } = await import(new URL('schema-compile.js', config).href);
const { SCHEMA_URL } = await import(new URL('schema-errors.js', config).href);

const out = new URL(VALIDATOR_FILE, config);
writeFileSync(out, standaloneSource(readFileSync(SCHEMA_URL, 'utf8')));
