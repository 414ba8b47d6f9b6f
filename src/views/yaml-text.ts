// The YAML text of the lab files netlab writes (export): flow maps and lists, strings quoted only
// where YAML would read them back as something else. Pure.
import { parse as parseYaml } from 'yaml';

/** A string as YAML reads it back: plain when it is safe in flow and block context, else quoted. */
export function yamlString(text: string): string {
  // One ':' between names is plain in YAML ("c0:eth0", "ndots:2"); IPv6 addresses (two or more) are quoted.
  if (/^[A-Za-z0-9_./-]+(?::[A-Za-z0-9_./-]+)?$/.test(text) && parseYaml(text) === text) return text;
  return JSON.stringify(text);
}

function yamlValue(value: string | number | boolean): string {
  return typeof value === 'string' ? yamlString(value) : String(value);
}

export function flowList(values: ReadonlyArray<string | number>): string {
  return `[${values.map(yamlValue).join(', ')}]`;
}

export type FlowMap = Array<[string, string | number | boolean | ReadonlyArray<string | number>]>;

export function flowMap(entries: FlowMap): string {
  return `{${entries.map(([k, v]) => `${k}: ${Array.isArray(v) ? flowList(v) : yamlValue(v as string | number | boolean)}`).join(', ')}}`;
}

export function comment(indent: string, text: string): string {
  return `${indent}# ${text.replace(/\s*\n\s*/g, ' ')}`;
}
