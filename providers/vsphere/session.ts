/**
 * A vCenter session: RetrieveServiceContent, SessionManager.Login, the
 * session cookie, one re-login when vCenter says the session is gone, and
 * Logout on close.
 *
 * "Gone" has two spellings. Most methods answer a NotAuthenticated fault;
 * RetrievePropertiesEx (which vcsim, like some vCenter builds, serves without
 * a session) answers HTTP 200 with NotAuthenticated inside each object's
 * missingSet. Both lead to the same single re-login and resend. Objects that
 * live in a session (views, property collectors, filters) die with it:
 * `generation` counts logins so their owners know to create them again.
 */
import { SoapFault, SoapTransport, type SoapResponse } from './soap.js';
import { asArray, child, el, isNode, moRef, refEl, text, xsiType, type MoRef } from './xml.js';

export interface ServiceContent {
  readonly rootFolder: MoRef;
  readonly propertyCollector: MoRef;
  readonly viewManager: MoRef;
  readonly sessionManager: MoRef;
  readonly searchIndex: MoRef;
  readonly customFieldsManager?: MoRef;
  readonly apiType: string;
  readonly apiVersion: string;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const SERVICE_INSTANCE: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };

export class Session {
  private content?: ServiceContent;
  private loggingIn?: Promise<void>;
  private loggedIn = false;
  /** Incremented on every successful login. */
  generation = 0;

  constructor(
    readonly transport: SoapTransport,
    private readonly credentials: Credentials,
    /** Told after each login; `generation` 1 is the first, later ones replaced a lost session. */
    private readonly onLogin?: (generation: number, content: ServiceContent) => void,
  ) {}

  /** The service content, fetched once (it needs no session). */
  async serviceContent(signal?: AbortSignal): Promise<ServiceContent> {
    if (this.content) return this.content;
    const res = await this.transport.call('RetrieveServiceContent', `<RetrieveServiceContent xmlns="urn:vim25">${refEl('_this', SERVICE_INSTANCE)}</RetrieveServiceContent>`, signal);
    const rv = child(res.body, 'returnval');
    const ref = (name: string): MoRef | undefined => moRef(child(rv, name));
    const need = (name: string): MoRef => {
      const r = ref(name);
      if (!r) throw new SoapFault('RetrieveServiceContent', 'InvalidResponse', `the service content has no ${name}`, undefined, 200);
      return r;
    };
    const about = child(rv, 'about');
    const customFieldsManager = ref('customFieldsManager');
    this.content = {
      rootFolder: need('rootFolder'),
      propertyCollector: need('propertyCollector'),
      viewManager: need('viewManager'),
      sessionManager: need('sessionManager'),
      searchIndex: need('searchIndex'),
      ...(customFieldsManager ? { customFieldsManager } : {}),
      apiType: text(child(about, 'apiType')) ?? '',
      apiVersion: text(child(about, 'apiVersion')) ?? '',
    };
    return this.content;
  }

  /** Logs in unless a session is already up; concurrent callers share one login. */
  async ensure(signal?: AbortSignal): Promise<void> {
    if (this.loggedIn) return;
    await this.login(signal);
  }

  private login(signal?: AbortSignal): Promise<void> {
    if (!this.loggingIn) {
      this.loggingIn = (async () => {
        const sc = await this.serviceContent(signal);
        this.transport.cookie = undefined;
        const { username, password } = this.credentials;
        await this.transport.call('Login', `<Login xmlns="urn:vim25">${refEl('_this', sc.sessionManager)}${el('userName', username)}${el('password', password)}</Login>`, signal);
        this.loggedIn = true;
        this.generation += 1;
        this.onLogin?.(this.generation, sc);
      })().finally(() => {
        this.loggingIn = undefined;
      });
    }
    return this.loggingIn;
  }

  /**
   * Calls `method` on `target` with the argument elements in `args` (already XML).
   * Re-logs in once if the session turned out to be gone, then sends the call again.
   */
  async call(method: string, target: MoRef, args: string, signal?: AbortSignal): Promise<SoapResponse> {
    await this.ensure(signal);
    const body = `<${method} xmlns="urn:vim25">${refEl('_this', target)}${args}</${method}>`;
    const generation = this.generation;
    try {
      return checkMissingSetAuth(method, await this.transport.call(method, body, signal));
    } catch (e) {
      if (!(e instanceof SoapFault) || e.faultType !== 'NotAuthenticated') throw e;
      // Another call may have logged in again meanwhile; only the first one does it.
      if (this.generation === generation) {
        this.loggedIn = false;
        await this.login(signal);
      }
      return checkMissingSetAuth(method, await this.transport.call(method, body, signal));
    }
  }

  /** Ends the session; the provider is closed, so a failure here is only logged by the caller. */
  async logout(): Promise<void> {
    if (!this.loggedIn || !this.content) return;
    this.loggedIn = false;
    try {
      await this.transport.call('Logout', `<Logout xmlns="urn:vim25">${refEl('_this', this.content.sessionManager)}</Logout>`);
    } finally {
      this.transport.cookie = undefined;
    }
  }

  /** The session key is a secret; this only says whether there is one. */
  get active(): boolean {
    return this.loggedIn;
  }
}

/** vcsim's RetrievePropertiesEx answers an expired session with 200 and NotAuthenticated per object. */
function checkMissingSetAuth(method: string, res: SoapResponse): SoapResponse {
  if (!method.startsWith('RetrieveProperties') && !method.startsWith('ContinueRetrieveProperties')) return res;
  if (!res.raw.includes('NotAuthenticated')) return res;
  const rv = child(res.body, 'returnval');
  // RetrievePropertiesEx wraps the objects in a RetrieveResult; RetrieveProperties returns them bare.
  const objects = child(rv, 'objects') !== undefined ? asArray(child(rv, 'objects')) : asArray(rv);
  for (const o of objects) {
    for (const m of asArray(child(o, 'missingSet'))) {
      const f = child(child(m, 'fault'), 'fault');
      if (xsiType(f, res.xsiPrefixes) === 'NotAuthenticated') {
        throw new SoapFault(method, 'NotAuthenticated', 'the session is not authenticated (reported in missingSet)', isNode(f) ? f : undefined, 200);
      }
    }
  }
  return res;
}

