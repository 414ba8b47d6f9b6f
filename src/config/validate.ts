// Checks a parsed lab file: first the JSON Schema (shape), then the meaning (names, links,
// addresses, routes, ...). Every problem becomes a Diagnostic at the place of the offending
// value; nothing throws and nothing stops at the first error.
//
// This module is the public face and the order of the checks; the schema pass lives in
// schema-errors.ts and each family of semantic checks in checks/.
import type { Diagnostic } from '../diagnostics.js';
import { layOut } from '../model/layout.js';
import { acceptedPart } from './accepted.js';
import { checkAddresses } from './checks/addresses.js';
import { checkBridgeL2 } from './checks/bridge-l2.js';
import type { Ctx } from './checks/context.js';
import { checkDns } from './checks/dns.js';
import { checkImpairs } from './checks/impair.js';
import { checkInterfaces } from './checks/interfaces.js';
import { checkVirtualInterfaces } from './checks/virtual.js';
import { checkWireguard } from './checks/wireguard.js';
import { checkIpv6 } from './checks/ipv6.js';
import { checkKinds } from './checks/kinds.js';
import { buildTopology } from './checks/links.js';
import { checkNames } from './checks/names.js';
import { checkNeighbors } from './checks/neighbors.js';
import { checkFirewall, checkNat } from './checks/nat-firewall.js';
import { checkRoutes } from './checks/routes.js';
import { checkRules } from './checks/rules.js';
import { checkSysctls } from './checks/sysctls.js';
import { checkTests } from './checks/tests.js';
import { toDiagnostic, type Locate, type Problem } from './problem.js';
import { rejectedPaths, schemaDiagnostics } from './schema-errors.js';
import type { LabSpec } from './spec.js';

export { pathText, type Locate, type Path, type Position } from './problem.js';
export { SCHEMA_URL } from './schema-errors.js';

/**
 * All diagnostics for `data` (the document converted to plain JS): the schema errors, and the
 * semantic errors of every part the schema accepts (the rejected values taken out). Unsorted; the
 * caller sorts.
 */
export function validateLab(data: unknown, file: string, locate: Locate): Diagnostic[] {
  const schemaErrors = schemaDiagnostics(data, file, locate);
  if (schemaErrors.length === 0) return semanticProblems(data as LabSpec, locate, new Set()).map((p) => toDiagnostic(p, file, locate));
  const accepted = acceptedPart(data, rejectedPaths);
  if (!accepted) return schemaErrors;
  const locateOriginal: Locate = (path, part) => locate(accepted.original(path), part);
  const semantic = semanticProblems(accepted.data as unknown as LabSpec, locateOriginal, accepted.devicesOfRemovedLinks)
    .filter((p) => !accepted.lostKey(accepted.original(p.path)))
    .map((p) => toDiagnostic(p, file, locateOriginal));
  // A stand-in (the lab's name) or a value taken out must not be reported a second time.
  const schemaAt = new Set(schemaErrors.map((d) => `${d.line}:${d.col}`));
  return [...schemaErrors, ...semantic.filter((d) => !schemaAt.has(`${d.line}:${d.col}`))];
}

/**
 * The checks run in this order, which is the order of their diagnostics. buildTopology must come
 * before the checks that read ctx.topology (interfaces, addresses, routes, nat, firewall).
 */
function semanticProblems(spec: LabSpec, locate: Locate, rejected: Set<string>): Problem[] {
  const problems: Problem[] = [];
  const ctx: Ctx = { spec, layout: layOut(spec), locate, problems, topology: { links: [], claims: new Map(), rejected } };
  checkNames(ctx);
  checkKinds(ctx);
  buildTopology(ctx);
  checkInterfaces(ctx);
  checkVirtualInterfaces(ctx);
  checkWireguard(ctx);
  checkAddresses(ctx);
  checkRoutes(ctx);
  checkRules(ctx);
  checkNeighbors(ctx);
  checkImpairs(ctx);
  checkBridgeL2(ctx);
  checkSysctls(ctx);
  checkIpv6(ctx);
  checkDns(ctx);
  checkNat(ctx);
  checkFirewall(ctx);
  checkTests(ctx);
  return problems;
}
