/**
 * The provider's PowerShell, one readable file per operation under
 * providers/hyperv/scripts/, loaded once, checked by the tokenizer and
 * collapsed to the one line the protocol needs. A script that does not pass
 * the check stops the provider from starting rather than run half-parsed.
 */
import { readFileSync } from 'node:fs';
import { builtinPath } from '../../src/paths.js';
import { collapseScript, commandLine, type CollapsedScript } from './collapse.js';

export const SCRIPT_NAMES = ['session-open', 'snapshot', 'migrate', 'drain', 'resume', 'start-role', 'register-vm', 'task-status'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export function scriptPath(name: ScriptName): string {
  return builtinPath('providers', 'hyperv', 'scripts', `${name}.ps1`);
}

let loaded: Map<ScriptName, CollapsedScript> | undefined;

export function loadScripts(): ReadonlyMap<ScriptName, CollapsedScript> {
  if (loaded) return loaded;
  const map = new Map<ScriptName, CollapsedScript>();
  for (const name of SCRIPT_NAMES) {
    const script = collapseScript(readFileSync(scriptPath(name), 'utf8'), `${name}.ps1`);
    if (script.name !== name) throw new Error(`${name}.ps1 carries the marker of "${script.name}"`);
    map.set(name, script);
  }
  loaded = map;
  return map;
}

/** The one line that runs `name` with `input` as its only, base64-encoded JSON argument. */
export function scriptCommand(name: ScriptName, input: unknown): string {
  return commandLine(loadScripts().get(name) as CollapsedScript, input);
}
