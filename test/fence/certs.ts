/** Self-signed certificates made with openssl for the TLS tests, in a temporary directory removed after the file. */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

export interface TestCert {
  readonly dir: string;
  readonly keyFile: string;
  readonly certFile: string;
  readonly key: string;
  readonly cert: string;
  /** SHA-256 fingerprint, `AB:CD:…`. */
  readonly fingerprint: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost. */
export function selfSigned(name: string, dir = tempDir()): TestCert {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'pipe' },
    );
  } catch (e) {
    throw new Error(`the TLS tests need the openssl command (Debian package openssl): ${(e as Error).message}`, { cause: e });
  }
  const cert = readFileSync(certFile, 'utf8');
  return { dir, keyFile, certFile, key: readFileSync(keyFile, 'utf8'), cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}
