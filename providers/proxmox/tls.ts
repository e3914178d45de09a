/**
 * TLS for the Proxmox API: verified against the system CAs by default, or
 * against `caFile`, or by a pinned SHA-256 certificate fingerprint (what
 * Proxmox shows and most PVE users trust, since nodes ship self-signed
 * certificates), or not at all when `insecure: true` was asked for.
 *
 * proxmox-api has no TLS options of its own; an undici Agent carrying these
 * settings is handed to the fetch the transport uses.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';

export type TlsMode = { readonly kind: 'system' } | { readonly kind: 'ca'; readonly ca: string } | { readonly kind: 'fingerprint'; readonly sha256: string } | { readonly kind: 'insecure' };

/** Raised by the pinning connector; the transport reports it as a TLS refusal. */
export class FingerprintMismatchError extends Error {
  readonly code = 'VIGIL_TLS_FINGERPRINT_MISMATCH';
  constructor(expected: string, got: string) {
    super(`certificate fingerprint ${colons(got)} is not the pinned ${colons(expected)}`);
  }
}

export function tlsMode(o: { caFile?: string; fingerprint?: string; insecure?: boolean }, resolvePath: (p: string) => string): TlsMode {
  if (o.insecure) return { kind: 'insecure' };
  if (o.fingerprint) return { kind: 'fingerprint', sha256: o.fingerprint };
  if (o.caFile) return { kind: 'ca', ca: readFileSync(resolvePath(o.caFile), 'utf8') };
  return { kind: 'system' };
}

export function buildAgent(mode: TlsMode, connectTimeoutMs: number): Agent {
  const common = { connectTimeout: connectTimeoutMs, keepAliveTimeout: 10_000 };
  switch (mode.kind) {
    case 'system':
      return new Agent(common);
    case 'ca':
      return new Agent({ ...common, connect: { ca: mode.ca } });
    case 'insecure':
      return new Agent({ ...common, connect: { rejectUnauthorized: false } });
    case 'fingerprint': {
      // Chain checks are off: the pinned fingerprint is the whole trust decision, checked before any byte is sent.
      const connector = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0, timeout: connectTimeoutMs });
      return new Agent({
        ...common,
        connect: (opts, callback) => {
          connector(opts, (err, socket) => {
            if (err || !socket) {
              callback(err ?? new Error('no socket'), null);
              return;
            }
            const got = ((socket as TLSSocket).getPeerCertificate?.().fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
            if (got !== mode.sha256) {
              socket.destroy();
              callback(new FingerprintMismatchError(mode.sha256, got || 'none'), null);
              return;
            }
            callback(null, socket);
          });
        },
      });
    }
  }
}

function colons(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? [hex]).join(':');
}
