/**
 * Redfish authentication: Basic on every request, or a Redfish session
 * (POST SessionService/Sessions, then X-Auth-Token) that is deleted when
 * the fence is done, whatever its outcome. A refused login is
 * VIGIL_E_FENCE_AUTH; the token lives only in the client's headers.
 */
import { ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { fenceError } from './errors.js';
import type { RedfishClient } from './redfish-client.js';
import { odataId } from './redfish-resources.js';

export type RedfishAuthMode = 'basic' | 'session';

export interface RedfishCredentials {
  readonly username: string;
  readonly password: string;
}

/** Logs in; resolves to the logout to run afterwards. */
export async function redfishLogin(
  client: RedfishClient,
  serviceRoot: string,
  creds: RedfishCredentials,
  mode: RedfishAuthMode,
  logger: Logger,
): Promise<() => Promise<void>> {
  if (mode === 'basic') {
    client.setAuthHeaders({ Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` });
    return async () => {};
  }
  // The spec fixes this URI, so a login needs no unauthenticated read of the service root first.
  const url = `${serviceRoot}/SessionService/Sessions`;
  const res = await client.send('POST', url, { UserName: creds.username, Password: creds.password }, false);
  if (res.status !== 201 && res.status !== 200) throw client.statusError('POST', url, res);
  const token = res.headers['x-auth-token'];
  if (!token) {
    throw fenceError(ErrorCodes.FENCE_FAILED, `unexpected answer from ${url}: the session was created without an X-Auth-Token header`, { details: { url } });
  }
  const location = res.headers.location ?? odataId(res.body);
  client.setAuthHeaders({ 'X-Auth-Token': token });
  return async () => {
    if (!location) {
      logger.warn({ url }, 'fencing: the BMC did not say where the Redfish session is; it will expire on its own');
      return;
    }
    const sessionUrl = new URL(location, url).toString();
    try {
      const del = await client.send('DELETE', sessionUrl);
      if (del.status >= 300) logger.warn({ url: sessionUrl, status: del.status }, 'fencing: could not delete the Redfish session; it will expire on its own');
    } catch (e) {
      logger.warn({ url: sessionUrl, code: (e as { code?: string }).code }, 'fencing: could not delete the Redfish session; it will expire on its own');
    }
  };
}
