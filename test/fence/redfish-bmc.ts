/**
 * A fake BMC for the Redfish agent's tests: a real HTTP(S) server on an
 * ephemeral port that serves DMTF's published mockup (service root, the
 * Systems collection, ComputerSystem 437XR1138R2), or a Supermicro system
 * whose reset values are only in an ActionInfo resource (gofish fixtures),
 * and honours #ComputerSystem.Reset by switching PowerState to Off after a
 * short delay, so the agent has to poll. Faults are switches on the options.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { builtinPath } from '../../src/paths.js';

const FIXTURES = builtinPath('test', 'fixtures', 'redfish');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are read as loose JSON
export const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

export interface FakeBmcOptions {
  readonly username?: string;
  readonly password?: string;
  /** Which published system to serve. */
  readonly profile?: 'dmtf' | 'supermicro';
  readonly initialPower?: 'On' | 'Off';
  /** PowerState reads Off only once this much real time has passed since the reset... */
  readonly offDelayMs?: number;
  /** ...and the system has been read this many times since (so the agent is seen to poll). */
  readonly offAfterReads?: number;
  /** How the reset is answered: 204, or 202 with a task monitor in Location (optionally one that fails). */
  readonly resetAnswer?: '204' | '202' | '202-fails';
  /** The BMC accepts the reset but the system never powers off. */
  readonly ignoreReset?: boolean;
  /** GET of the ComputerSystem answers 200 with an HTML page instead of JSON. */
  readonly malformedSystem?: boolean;
  readonly https?: { readonly key: string; readonly cert: string };
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly auth: 'basic' | 'token' | 'none';
  readonly body?: unknown;
}

export interface FakeBmc {
  readonly url: string;
  readonly systemPath: string;
  readonly requests: RecordedRequest[];
  readonly sessions: { created: number; deleted: number; live: Set<string>; issued: string[] };
  power(): 'On' | 'Off';
  close(): Promise<void>;
}

export async function startFakeBmc(options: FakeBmcOptions = {}): Promise<FakeBmc> {
  const username = options.username ?? 'admin';
  const password = options.password ?? 'bmc-secret-pw';
  const profile = options.profile ?? 'dmtf';
  const offDelayMs = options.offDelayMs ?? 150;
  let power: 'On' | 'Off' = options.initialPower ?? 'On';
  let offAt: number | undefined;
  let readsSinceReset = 0;
  const offAfterReads = options.offAfterReads ?? 2;
  const requests: RecordedRequest[] = [];
  const sessions = { created: 0, deleted: 0, live: new Set<string>(), issued: [] as string[] };

  const root = fixture('dmtf-public-rackmount1-ServiceRoot.json');
  const system = profile === 'dmtf' ? fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json') : fixture('gofish-supermicro-SYS-821GE-ComputerSystem.json');
  const systemPath: string = system['@odata.id'];
  const collection = fixture('dmtf-public-rackmount1-Systems-collection.json');
  collection.Members = [{ '@odata.id': systemPath }];
  const actionInfo = fixture('gofish-ActionInfo-ResetActionInfo.json');
  const reset = system.Actions['#ComputerSystem.Reset'];
  const allowable: string[] = reset['ResetType@Redfish.AllowableValues'] ?? actionInfo.Parameters[0].AllowableValues;
  const noSession = fixture('sushy-error-NoValidSession.json');

  const app = Fastify({ logger: false, ...(options.https ? { https: { key: options.https.key, cert: options.https.cert } } : {}) });

  const authOf = (req: FastifyRequest): RecordedRequest['auth'] => {
    const basic = req.headers.authorization;
    if (basic === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`) return 'basic';
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && sessions.live.has(token)) return 'token';
    return 'none';
  };
  app.addHook('onRequest', async (req) => {
    requests.push({ method: req.method, path: req.url, auth: authOf(req) });
  });
  app.addHook('preHandler', async (req) => {
    if (req.body !== undefined) (requests[requests.length - 1] as { body?: unknown }).body = req.body;
  });
  /** Every resource but the service root and the login needs credentials, as on a real BMC. */
  const guard = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (authOf(req) !== 'none') return true;
    void reply.code(401).header('www-authenticate', 'Basic realm="fake BMC"').send(noSession);
    return false;
  };
  /** The power state; `read` counts it as the agent's read of the system. */
  const currentPower = (read = false): 'On' | 'Off' => {
    if (offAt !== undefined && read) readsSinceReset += 1;
    if (offAt !== undefined && Date.now() >= offAt && readsSinceReset > offAfterReads) {
      power = 'Off';
      offAt = undefined;
    }
    return power;
  };

  app.get('/redfish/v1', async () => root);
  app.get('/redfish/v1/', async () => root);
  app.post('/redfish/v1/SessionService/Sessions', async (req: FastifyRequest<{ Body: { UserName?: string; Password?: string } }>, reply) => {
    if (req.body?.UserName !== username || req.body?.Password !== password) return reply.code(401).send(noSession);
    const token = randomBytes(16).toString('hex');
    const id = `S${++sessions.created}`;
    sessions.live.add(token);
    sessions.issued.push(token);
    const session = { ...fixture('dmtf-public-rackmount1-Session.json'), Id: id, UserName: username, '@odata.id': `/redfish/v1/SessionService/Sessions/${id}` };
    tokens.set(id, token);
    return reply.code(201).header('x-auth-token', token).header('location', session['@odata.id']).send(session);
  });
  const tokens = new Map<string, string>();
  app.delete('/redfish/v1/SessionService/Sessions/:id', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    if (!guard(req, reply)) return reply;
    const token = tokens.get(req.params.id);
    if (token === undefined) return reply.code(404).send();
    sessions.live.delete(token);
    sessions.deleted += 1;
    return reply.code(204).send();
  });
  app.get('/redfish/v1/Systems', async (req, reply) => (guard(req, reply) ? collection : reply));
  app.get(systemPath, async (req, reply) => {
    if (!guard(req, reply)) return reply;
    if (options.malformedSystem) return reply.type('text/html').send('<html><body>Service temporarily in maintenance</body></html>');
    return { ...system, PowerState: currentPower(true) };
  });
  app.get(actionInfo['@odata.id'] as string, async (req, reply) => (guard(req, reply) ? actionInfo : reply));
  app.post(reset.target as string, async (req: FastifyRequest<{ Body: { ResetType?: string } }>, reply) => {
    if (!guard(req, reply)) return reply;
    const type = req.body?.ResetType;
    if (typeof type !== 'string' || !allowable.includes(type)) {
      return reply.code(400).send({ error: { code: 'Base.1.0.ActionParameterValueNotInList', message: `ResetType ${String(type)} is not allowed` } });
    }
    if (['ForceOff', 'GracefulShutdown', 'PushPowerButton'].includes(type) && !options.ignoreReset && currentPower() === 'On') {
      offAt = Date.now() + offDelayMs;
      readsSinceReset = 0;
    }
    if (options.resetAnswer === '202' || options.resetAnswer === '202-fails') {
      taskEndsAt = Date.now() + offDelayMs;
      return reply.code(202).header('location', '/redfish/v1/TaskService/TaskMonitors/546').send(fixture('sushy-Task-pending.json'));
    }
    return reply.code(204).send();
  });
  let taskEndsAt = 0;
  app.get('/redfish/v1/TaskService/TaskMonitors/546', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    if (Date.now() < taskEndsAt) return reply.code(202).header('location', '/redfish/v1/TaskService/TaskMonitors/546').send(fixture('sushy-Task-pending.json'));
    const done = fixture('dmtf-public-rackmount1-TaskService-Task-545.json');
    if (options.resetAnswer === '202-fails') {
      offAt = undefined;
      return { ...done, TaskState: 'Exception', TaskStatus: 'Critical', Messages: [{ MessageId: 'Base.1.0.GeneralError', Message: 'The power controller did not respond', Severity: 'Critical' }] };
    }
    return done;
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`,
    systemPath,
    requests,
    sessions,
    power: () => currentPower(),
    close: async () => {
      await app.close();
    },
  };
}
