// How the lab schema is compiled, written once for both of its uses: the build turns it into
// standalone code (scripts/build-schema-validator.mjs → dist/config/schema-validator.cjs), and
// the run time compiles it with ajv only when that file is missing or stale (the sources under
// vitest, or a dist/ built by a bare `tsc`). Loading ajv costs ~160 ms and compiling ~160 ms more,
// so ajv is required lazily, inside the functions, never when this module is imported.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv2020, Options, ValidateFunction } from 'ajv/dist/2020.js';

const require = createRequire(import.meta.url);

/** The generated validator, next to this module's compiled code (absent beside the sources). */
export const VALIDATOR_FILE = 'schema-validator.cjs';

/**
 * verbose: errors carry `schema`, `parentSchema` and `data`, which the messages are worded from.
 * code.source: keeps the generated code, which standalone output needs; CommonJS (no code.esm),
 * so that the validator loads synchronously with require on first use.
 */
export const SCHEMA_OPTIONS: Options = {
  allErrors: true,
  verbose: true,
  strict: true,
  allowUnionTypes: true,
  code: { source: true },
};

function newAjv(): Ajv2020 {
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const ajv = new Ajv2020(SCHEMA_OPTIONS);
  // An annotation that VS Code and yaml-language-server show; schema-errors.ts words pattern
  // errors with it. No code of its own, so the standalone output is unchanged by it.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  return ajv;
}

/** The schema compiled at run time (slow: checks the schema against its meta-schema too). */
export function compileSchema(root: object): ValidateFunction {
  return newAjv().compile(root);
}

/** Identifies the schema text a generated validator was built from. */
export function schemaHash(schemaText: string): string {
  return createHash('sha256').update(schemaText).digest('hex');
}

/**
 * The CommonJS module of the standalone validator for `schemaText`: `module.exports` is the
 * validate function, and `module.exports.schemaHash` the hash of the text it was made from.
 */
export function standaloneSource(schemaText: string): string {
  const ajv = newAjv();
  const validate = ajv.compile(JSON.parse(schemaText) as object);
  const standalone = require('ajv/dist/standalone/index.js') as typeof import('ajv/dist/standalone/index.js');
  const code = standalone.default(ajv, validate);
  return `// Generated from schemas/topology.schema.json by scripts/build-schema-validator.mjs: do not edit.\n${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(schemaText))};\n`;
}
