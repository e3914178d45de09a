/**
 * The PropertyCollector, spoken directly: filter specs as XML, reading
 * RetrievePropertiesEx answers (with ContinueRetrievePropertiesEx paging,
 * which real vCenter uses and vcsim never does), and WaitForUpdatesEx update
 * sets. Property values stay parsed XML; `values.ts` reads them.
 */
import type { Session } from './session.js';
import type { SoapResponse } from './soap.js';
import { asArray, child, el, moRef, refEl, text, xsiType, type MoRef, type XValue } from './xml.js';

export interface ObjectContent {
  readonly obj: MoRef;
  readonly props: Map<string, XValue>;
  /** Paths the server could not read, with the fault type (e.g. NoPermission). */
  readonly missing: readonly { readonly path: string; readonly fault: string }[];
}

export type PropertySets = Readonly<Record<string, readonly string[]>>;

export function propSets(sets: PropertySets): string {
  return Object.entries(sets)
    .map(([type, paths]) => `<propSet>${el('type', type)}${paths.map((p) => el('pathSet', p)).join('')}</propSet>`)
    .join('');
}

/** A TraversalSpec from `type` along `path`, optionally with nested select specs. */
export function traversal(name: string, type: string, path: string, nested = ''): string {
  return `<selectSet xsi:type="TraversalSpec">${el('name', name)}${el('type', type)}${el('path', path)}${el('skip', false)}${nested}</selectSet>`;
}

export function objectSpec(obj: MoRef, skip: boolean, selectSets = ''): string {
  return `<objectSet>${refEl('obj', obj)}${el('skip', skip)}${selectSets}</objectSet>`;
}

export function filterSpec(sets: PropertySets, objectSpecs: string): string {
  return `${propSets(sets)}${objectSpecs}`;
}

export function parseObjects(res: SoapResponse, container: XValue): ObjectContent[] {
  const out: ObjectContent[] = [];
  for (const o of asArray(child(container, 'objects'))) {
    const obj = moRef(child(o, 'obj'));
    if (!obj) continue;
    const props = new Map<string, XValue>();
    for (const p of asArray(child(o, 'propSet'))) {
      const name = text(child(p, 'name'));
      if (name) props.set(name, child(p, 'val'));
    }
    const missing = asArray(child(o, 'missingSet')).map((m) => ({ path: text(child(m, 'path')) ?? '', fault: xsiType(child(child(m, 'fault'), 'fault'), res.xsiPrefixes) ?? 'Unknown' }));
    out.push({ obj, props, missing });
  }
  return out;
}

/** RetrievePropertiesEx, following the token through every page. */
export async function retrieveAll(session: Session, collector: MoRef, spec: string, pageSize: number, signal?: AbortSignal): Promise<{ objects: ObjectContent[]; prefixes: Set<string> }> {
  const prefixes = new Set<string>();
  const objects: ObjectContent[] = [];
  let res = await session.call('RetrievePropertiesEx', collector, `<specSet>${spec}</specSet><options>${el('maxObjects', pageSize)}</options>`, signal);
  for (;;) {
    for (const p of res.xsiPrefixes) prefixes.add(p);
    const rv = child(res.body, 'returnval');
    objects.push(...parseObjects(res, rv));
    const token = text(child(rv, 'token'));
    if (!token) break;
    res = await session.call('ContinueRetrievePropertiesEx', collector, el('token', token), signal);
  }
  return { objects, prefixes };
}

export type UpdateKind = 'enter' | 'modify' | 'leave';

export interface PropertyChange {
  readonly name: string;
  readonly op: 'add' | 'remove' | 'assign' | 'indirectRemove';
  readonly val: XValue;
}

export interface ObjectUpdate {
  readonly kind: UpdateKind;
  readonly obj: MoRef;
  readonly changes: readonly PropertyChange[];
}

export interface UpdateSet {
  readonly version: string | undefined;
  readonly truncated: boolean;
  readonly updates: readonly ObjectUpdate[];
}

/** Reads a WaitForUpdatesExResponse; an empty answer (nothing changed, or the wait timed out) has no version. */
export function parseUpdateSet(res: SoapResponse): UpdateSet {
  const rv = child(res.body, 'returnval');
  if (rv === undefined) return { version: undefined, truncated: false, updates: [] };
  const updates: ObjectUpdate[] = [];
  for (const fs of asArray(child(rv, 'filterSet'))) {
    for (const os of asArray(child(fs, 'objectSet'))) {
      const obj = moRef(child(os, 'obj'));
      const kind = text(child(os, 'kind')) as UpdateKind | undefined;
      if (!obj || (kind !== 'enter' && kind !== 'modify' && kind !== 'leave')) continue;
      const changes: PropertyChange[] = [];
      for (const c of asArray(child(os, 'changeSet'))) {
        const name = text(child(c, 'name'));
        const op = (text(child(c, 'op')) ?? 'assign') as PropertyChange['op'];
        if (name) changes.push({ name, op, val: child(c, 'val') });
      }
      updates.push({ kind, obj, changes });
    }
  }
  return { version: text(child(rv, 'version')), truncated: text(child(rv, 'truncated')) === 'true', updates };
}
