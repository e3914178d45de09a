/**
 * Endpoint templates: `https://{host}-bmc.example.com`, `{address}`. A
 * template names the host's BMC from the host's name or the management
 * address its provider reported; a template that needs an address the
 * provider did not report is refused, never guessed.
 */
import type { FenceTarget } from './types.js';
import { fenceError } from './errors.js';
import { ErrorCodes } from '../errors.js';

const PLACEHOLDER = /\{(host|address)\}/g;

export function usesAddress(template: string): boolean {
  return template.includes('{address}');
}

/** Fills `{host}` and `{address}`; `forUrl` escapes the values for a URL (and brackets an IPv6 address). */
export function expandTemplate(template: string, target: FenceTarget, forUrl = false): string {
  return template.replace(PLACEHOLDER, (_m, key: 'host' | 'address') => {
    const value = key === 'host' ? target.host : target.address;
    if (value === undefined || value === '') {
      throw fenceError(ErrorCodes.FENCE_FAILED, `cannot reach the BMC of host ${target.host}: the endpoint template needs {address}, and no management address is known for this host`, {
        expected: true,
        details: { host: target.host },
      });
    }
    if (!forUrl) return value;
    if (value.includes(':') && !value.startsWith('[')) return `[${value}]`;
    return encodeURIComponent(value);
  });
}

/** True when the template, with placeholders filled by sample values, is an http(s) URL. */
export function isHttpUrlTemplate(template: string): boolean {
  try {
    const u = new URL(template.replace(PLACEHOLDER, 'example'));
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}
