/**
 * XML for the vSphere SOAP API: building request bodies with every value
 * escaped, and reading answers into plain objects.
 *
 * Element names lose their namespace prefix (so `soapenv:Body` is `Body`);
 * attributes keep theirs, so a MoRef's `type="VirtualMachine"` is never
 * overwritten by `xsi:type`. vcsim writes `XMLSchema-instance:type` where
 * vCenter writes `xsi:type`, so the xsi prefix is found by namespace, not by
 * spelling. Values stay strings: ids, names and numbers are read explicitly.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** A parsed element: attributes as `@_name`, text as `#text`, children by local name. */
export type XNode = { readonly [key: string]: XValue };
export type XValue = string | XNode | XValue[] | undefined;

/** Elements that repeat in the answers Vigil reads, so one of them is still an array. */
const REPEATED = new Set([
  'objects',
  'propSet',
  'missingSet',
  'ManagedObjectReference',
  'DatastoreHostMount',
  'CustomFieldValue',
  'CustomFieldDef',
  'filterSet',
  'objectSet',
  'changeSet',
]);

const parser = new XMLParser({
  // Namespace declarations are read from the raw text (see parseXml); vcsim repeats one on every value, so keeping them would double the tree.
  ignoreAttributes: (name: string) => name === 'xmlns' || name.startsWith('xmlns:'),
  attributeNamePrefix: '@_',
  transformTagName: (name) => localName(name),
  isArray: (name) => REPEATED.has(name),
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
});

export interface ParsedXml {
  readonly root: XNode;
  /** Prefixes bound to the XMLSchema-instance namespace anywhere in the document. */
  readonly xsiPrefixes: ReadonlySet<string>;
}

export class XmlSyntaxError extends Error {}

/** Parses a whole document; throws XmlSyntaxError when it is not XML or was cut short. */
export function parseXml(text: string): ParsedXml {
  // The parser itself is lenient (it reads `<a <<< </a>` without complaint); validating first is what makes broken XML an error.
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlSyntaxError(`the answer is not well-formed XML (${valid.err.msg} at line ${valid.err.line}, column ${valid.err.col})`);
  let root: unknown;
  try {
    root = parser.parse(text);
  } catch (e) {
    throw new XmlSyntaxError(`the answer is not well-formed XML (${(e as Error).message.slice(0, 120)})`);
  }
  if (!root || typeof root !== 'object') throw new XmlSyntaxError('the answer is not XML');
  const prefixes = new Set<string>(['xsi']);
  for (const m of text.matchAll(/xmlns:([A-Za-z_][\w.-]*)\s*=\s*["']http:\/\/www\.w3\.org\/2001\/XMLSchema-instance["']/g)) prefixes.add(m[1] as string);
  return { root: root as XNode, xsiPrefixes: prefixes };
}

export function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

export function isNode(v: XValue): v is XNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The element's text, whether it came as a bare string or as a node with attributes. */
export function text(v: XValue): string | undefined {
  if (typeof v === 'string') return v;
  if (isNode(v)) {
    const t = v['#text'];
    return typeof t === 'string' ? t : t === undefined ? '' : undefined;
  }
  if (Array.isArray(v)) return text(v[0]);
  return undefined;
}

export function asArray(v: XValue): XValue[] {
  if (v === undefined || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

export function child(v: XValue, name: string): XValue {
  return isNode(v) ? v[name] : undefined;
}

export function attr(v: XValue, name: string): string | undefined {
  if (!isNode(v)) return undefined;
  const a = v[`@_${name}`];
  return typeof a === 'string' ? a : undefined;
}

/** The local part of an element's xsi:type, whichever prefix the server bound to the namespace. */
export function xsiType(v: XValue, prefixes: ReadonlySet<string>): string | undefined {
  if (!isNode(v)) return undefined;
  for (const p of prefixes) {
    const t = v[`@_${p}:type`];
    if (typeof t === 'string') return localName(t);
  }
  return undefined;
}

export interface MoRef {
  readonly type: string;
  readonly value: string;
}

export function moRef(v: XValue): MoRef | undefined {
  const value = text(v);
  const type = attr(v, 'type');
  return value && type ? { type, value } : undefined;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/** `<name>text</name>` with the text escaped. */
export function el(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A MoRef argument: `<name type="T">moid</name>`. */
export function refEl(name: string, ref: MoRef): string {
  return `<${name} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${name}>`;
}

export function envelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}
