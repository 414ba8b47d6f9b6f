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

/** A value may be a map of its own (an interface's impair:). */
export type FlowMap = Array<[string, string | number | boolean | ReadonlyArray<string | number> | { map: FlowMap }]>;

export function flowMap(entries: FlowMap): string {
  const text = (v: FlowMap[number][1]): string => (Array.isArray(v) ? flowList(v) : typeof v === 'object' ? flowMap((v as { map: FlowMap }).map) : yamlValue(v as string | number | boolean));
  return `{${entries.map(([k, v]) => `${k}: ${text(v)}`).join(', ')}}`;
}

export function comment(indent: string, text: string): string {
  return `${indent}# ${text.replace(/\s*\n\s*/g, ' ')}`;
}
