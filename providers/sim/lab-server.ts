/**
 * The lab over HTTP (`vigil lab serve`): the fault routes and operation log
 * of interfaces.md, a Redfish BMC per host, and the manager API the sim
 * provider uses when the lab runs in its own process.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '../../src/clock/clock.js';
import { LabError, type Lab } from './lab.js';

export interface LabServerOptions {
  /** Basic-auth credentials the lab's BMCs require. */
  readonly redfish?: { readonly username: string; readonly password: string };
}

export const DEFAULT_LAB_REDFISH = { username: 'admin', password: 'lab' } as const;

export function buildLabServer(lab: Lab, clock: Clock, options: LabServerOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false });
  const redfish = options.redfish ?? DEFAULT_LAB_REDFISH;

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof LabError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: { code: err.code ?? 'internal', message: err.message } });
  });
  // Fault routes take no body; accept an empty one of any type (curl -d '' sends a form type), and JSON otherwise.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body.trim() : '';
    if (!text) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new LabError(400, 'bad-request', 'the body is not JSON'), undefined);
    }
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'not-found', message: `no route ${req.method} ${req.url}` } }));

  type Named = FastifyRequest<{ Params: { name: string }; Querystring: { host?: string } }>;
  const ok = (reply: FastifyReply) => reply.send({ ok: true, at: new Date(clock.now()).toISOString() });

  // ----- faults and truth -----------------------------------------------------
  app.get('/lab/inventory', async () => lab.inventory());
  app.get('/lab/log', async (_req, reply) => {
    reply.type('application/x-ndjson');
    return lab.log().map((e) => JSON.stringify(e)).join('\n') + (lab.log().length ? '\n' : '');
  });
  const hostFault = (path: string, fn: (name: string) => void) =>
    app.post(path, async (req: Named, reply) => {
      fn(req.params.name);
      return ok(reply);
    });
  hostFault('/lab/hosts/:name/fail', (n) => lab.failHost(n));
  hostFault('/lab/hosts/:name/recover', (n) => lab.recoverHost(n));
  hostFault('/lab/hosts/:name/isolate', (n) => lab.isolateHost(n));
  hostFault('/lab/hosts/:name/partition', (n) => lab.partitionHost(n));
  app.post('/lab/datastores/:name/fail', async (req: FastifyRequest<{ Params: { name: string }; Querystring: { host?: string; stopVms?: string } }>, reply) => {
    lab.failDatastore(req.params.name, req.query.host, req.query.stopVms === 'true');
    return ok(reply);
  });
  app.post('/lab/datastores/:name/recover', async (req: Named, reply) => {
    lab.recoverDatastore(req.params.name, req.query.host);
    return ok(reply);
  });
  app.post('/lab/datastores/:name/fill', async (req: FastifyRequest<{ Params: { name: string }; Querystring: { freeGiB?: string; fillGiBPerHour?: string } }>, reply) => {
    const num = (v: string | undefined, what: string): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new LabError(400, 'bad-request', `${what} must be a number`);
      return n;
    };
    const freeGiB = num(req.query.freeGiB, 'freeGiB');
    const fillGiBPerHour = num(req.query.fillGiBPerHour, 'fillGiBPerHour');
    if (freeGiB === undefined && fillGiBPerHour === undefined) throw new LabError(400, 'bad-request', 'set freeGiB, fillGiBPerHour or both (query parameters)');
    lab.fillDatastore(req.params.name, { ...(freeGiB !== undefined ? { freeGiB } : {}), ...(fillGiBPerHour !== undefined ? { fillGiBPerHour } : {}) });
    return ok(reply);
  });
  const degrade = (on: boolean) => async (req: Named, reply: FastifyReply) => {
    if (!req.query.host) throw new LabError(400, 'bad-request', 'host is required (?host=NAME)');
    lab.degradeDatastore(req.params.name, req.query.host, on);
    return ok(reply);
  };
  app.post('/lab/datastores/:name/degrade', degrade(true));
  app.post('/lab/datastores/:name/undegrade', degrade(false));
  app.post('/lab/vms/:name/suspend-replication', async (req: Named, reply) => {
    lab.suspendReplication(req.params.name, true);
    return ok(reply);
  });
  app.post('/lab/vms/:name/resume-replication', async (req: Named, reply) => {
    lab.suspendReplication(req.params.name, false);
    return ok(reply);
  });
  app.post('/lab/vms/:name/fail-start', async (req: FastifyRequest<{ Params: { name: string }; Querystring: { count?: string } }>, reply) => {
    const count = req.query.count === undefined ? 1 : Number(req.query.count);
    if (!Number.isInteger(count) || count < 0) throw new LabError(400, 'bad-request', 'count must be a whole number');
    lab.failStarts(req.params.name, count);
    return ok(reply);
  });
  app.post('/lab/vms/:name/fail-migration', async (req: FastifyRequest<{ Params: { name: string }; Querystring: { count?: string } }>, reply) => {
    const count = req.query.count === undefined ? 1 : Number(req.query.count);
    if (!Number.isInteger(count) || count < 0) throw new LabError(400, 'bad-request', 'count must be a whole number');
    lab.failMigrations(req.params.name, count);
    return ok(reply);
  });
  app.post('/lab/faults', async (req: FastifyRequest<{ Body: { failNext?: number; latencyMs?: number } | undefined }>, reply) => {
    const body = req.body ?? {};
    if ((body.failNext !== undefined && typeof body.failNext !== 'number') || (body.latencyMs !== undefined && typeof body.latencyMs !== 'number')) {
      throw new LabError(400, 'bad-request', 'failNext and latencyMs must be numbers');
    }
    lab.setApiFaults(body);
    return ok(reply);
  });

  // ----- Redfish, one BMC per host --------------------------------------------
  type Bmc = FastifyRequest<{ Params: { host: string } }>;
  const bmc = (req: Bmc, reply: FastifyReply): string | undefined => {
    if (!lab.hasHost(req.params.host)) {
      void reply.code(404).send(redfishError('Base.1.0.ResourceMissingAtURI', `no BMC for host ${req.params.host}`));
      return undefined;
    }
    if (!basicAuthOk(req.headers.authorization, redfish.username, redfish.password)) {
      void reply.code(401).header('www-authenticate', 'Basic realm="lab BMC"').send(redfishError('Base.1.0.NoValidSession', 'valid credentials are required'));
      return undefined;
    }
    return req.params.host;
  };
  const base = (host: string) => `/lab/redfish/${encodeURIComponent(host)}/redfish/v1`;
  app.get('/lab/redfish/:host/redfish/v1', async (req: Bmc, reply) => {
    const host = bmc(req, reply);
    if (host === undefined) return reply;
    return { '@odata.id': `${base(host)}/`, '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot', Id: 'RootService', RedfishVersion: '1.6.0', Systems: { '@odata.id': `${base(host)}/Systems` } };
  });
  app.get('/lab/redfish/:host/redfish/v1/Systems', async (req: Bmc, reply) => {
    const host = bmc(req, reply);
    if (host === undefined) return reply;
    return { '@odata.id': `${base(host)}/Systems`, '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection', 'Members@odata.count': 1, Members: [{ '@odata.id': `${base(host)}/Systems/1` }] };
  });
  app.get('/lab/redfish/:host/redfish/v1/Systems/1', async (req: Bmc, reply) => {
    const host = bmc(req, reply);
    if (host === undefined) return reply;
    return {
      '@odata.id': `${base(host)}/Systems/1`,
      '@odata.type': '#ComputerSystem.v1_13_0.ComputerSystem',
      Id: '1',
      Name: host,
      HostName: host,
      PowerState: lab.bmcPowerState(host),
      Actions: {
        '#ComputerSystem.Reset': {
          target: `${base(host)}/Systems/1/Actions/ComputerSystem.Reset`,
          'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'GracefulRestart', 'PushPowerButton'],
        },
      },
    };
  });
  app.post('/lab/redfish/:host/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', async (req: FastifyRequest<{ Params: { host: string }; Body: { ResetType?: unknown } | undefined }>, reply) => {
    const host = bmc(req, reply);
    if (host === undefined) return reply;
    const type = req.body?.ResetType;
    if (typeof type !== 'string') return reply.code(400).send(redfishError('Base.1.0.ActionParameterMissing', 'ResetType is required'));
    try {
      lab.bmcReset(host, type);
    } catch (e) {
      if (e instanceof LabError && e.status === 400) return reply.code(400).send(redfishError('Base.1.0.ActionParameterValueNotInList', e.message));
      throw e;
    }
    return reply.code(204).send();
  });

  // ----- the manager API (the sim provider's remote mode) ----------------------
  const gated = async <T>(fn: () => T): Promise<T> => {
    const latency = lab.apiGate();
    if (latency > 0) await clock.sleep(latency);
    return fn();
  };
  app.get('/sim/v1/clusters/:name/snapshot', async (req: Named) => gated(() => lab.snapshot(req.params.name)));
  app.post('/sim/v1/vms/:name/migrate', async (req: FastifyRequest<{ Params: { name: string }; Body: { to?: string; live?: boolean } }>) =>
    gated(() => lab.migrate(req.params.name, requireString(req.body?.to, 'to'), req.body?.live !== false)),
  );
  app.post('/sim/v1/vms/:name/restart', async (req: FastifyRequest<{ Params: { name: string }; Body: { on?: string } }>) =>
    gated(() => lab.restart(req.params.name, requireString(req.body?.on, 'on'))),
  );
  app.post('/sim/v1/vms/:name/power-off', async (req: Named) => gated(() => lab.powerOff(req.params.name)));
  app.post('/sim/v1/hosts/:name/maintenance', async (req: FastifyRequest<{ Params: { name: string }; Body: { on?: boolean } }>) =>
    gated(() => lab.setMaintenance(req.params.name, req.body?.on !== false)),
  );
  app.get('/sim/v1/tasks/:name', async (req: Named) => gated(() => lab.task(req.params.name)));
  app.get('/sim/v1/hosts/:name/probe', async (req: Named) => ({ reachable: lab.probe(req.params.name) }));
  return app;
}

function requireString(v: unknown, name: string): string {
  if (typeof v !== 'string' || !v) throw new LabError(400, 'bad-request', `"${name}" is required`);
  return v;
}

function redfishError(code: string, message: string): unknown {
  return { error: { code, message, '@Message.ExtendedInfo': [{ MessageId: code, Message: message }] } };
}

function basicAuthOk(header: string | undefined, username: string, password: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice(6), 'base64');
  const expected = Buffer.from(`${username}:${password}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
