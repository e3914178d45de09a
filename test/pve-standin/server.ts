/**
 * The stand-in's HTTPS API: the Proxmox VE routes Vigil uses, under
 * /api2/json, with PVE's envelope (`{"data": ...}`), its exact
 * `Content-Type: application/json;charset=UTF-8`, its error style (the
 * message in the HTTP reason phrase, `{"data":null}` as the body, field
 * errors under `errors` for 400), 595 for a request proxied to a node that
 * is down, and both token and ticket (cookie + CSRF) authentication.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { PveStandin, StandinError, type Task } from './standin.js';

export interface StandinAuth {
  /** USER@REALM!TOKENID and its secret. */
  readonly tokenId: string;
  readonly tokenSecret: string;
  readonly username: string;
  readonly password: string;
}

const JSON_TYPE = 'application/json;charset=UTF-8';
const GiB = 2 ** 30;

function send(reply: FastifyReply, data: unknown): FastifyReply {
  return reply.code(200).header('content-type', JSON_TYPE).send(JSON.stringify({ data }));
}

function fail(reply: FastifyReply, status: number, message: string, errors?: Record<string, string>): FastifyReply {
  reply.raw.statusMessage = message.replace(/[\r\n]+/g, ' ');
  return reply
    .code(status)
    .header('content-type', JSON_TYPE)
    .send(JSON.stringify({ data: null, ...(errors ? { errors } : {}) }));
}

export function buildStandinServer(pve: PveStandin, tls: { key: string; cert: string }, auth: StandinAuth): FastifyInstance {
  const app = Fastify({ https: { key: tls.key, cert: tls.cert }, logger: false });
  const tickets = new Map<string, string>();
  let ticketSeq = 0;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const timer = setInterval(() => pve.tick(), 25);
  app.addHook('onClose', async () => clearInterval(timer));

  app.addHook('onRequest', async (req, reply) => {
    pve.requests.push(`${req.method} ${req.url.split('?')[0]}`);
    pve.tick();
    if (req.url === '/api2/json/access/ticket') return;
    const authz = req.headers.authorization;
    if (authz !== undefined) {
      if (authz !== `PVEAPIToken=${auth.tokenId}=${auth.tokenSecret}`) return fail(reply, 401, 'invalid token value!');
      return;
    }
    const cookie = /PVEAuthCookie=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!cookie) return fail(reply, 401, 'No ticket');
    const csrf = tickets.get(decodeURIComponent(cookie));
    if (!csrf) return fail(reply, 401, 'invalid PVE ticket');
    if (req.method !== 'GET' && req.headers.csrfpreventiontoken !== csrf) return fail(reply, 401, 'Permission denied - invalid csrf token');
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof StandinError) return fail(reply, err.status, err.message);
    return fail(reply, 500, (err as Error).message);
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 501, `Method '${req.method} ${req.url.split('?')[0]?.replace('/api2/json', '')}' not implemented`));

  const P = '/api2/json';
  type Params = { node: string; vmid: string; storage: string; upid: string };
  const params = (req: FastifyRequest) => req.params as Params;
  const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, string>;
  const query = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
  const vmidOf = (req: FastifyRequest) => {
    const v = Number(params(req).vmid);
    if (!Number.isInteger(v) || v < 100) throw new StandinError(400, 'Parameter verification failed.');
    return v;
  };

  app.post(`${P}/access/ticket`, async (req, reply) => {
    const b = body(req);
    if (b.username !== auth.username || b.password !== auth.password) return fail(reply, 401, 'authentication failure');
    const ticket = `PVE:${auth.username}:${(++ticketSeq).toString(16).toUpperCase().padStart(8, '0')}::c2lnbmF0dXJl`;
    const csrf = `${ticketSeq.toString(16).padStart(8, '0')}:Q1NSRg`;
    tickets.set(ticket, csrf);
    return send(reply, { username: auth.username, ticket, CSRFPreventionToken: csrf, cap: {} });
  });

  app.get(`${P}/version`, async (_req, reply) => send(reply, { version: '8.4.1', release: '8.4', repoid: 'standin0' }));

  app.get(`${P}/cluster/resources`, async (req, reply) => {
    const type = query(req).type;
    const out: Record<string, unknown>[] = [];
    const now = pve.now();
    if (!type || type === 'node') {
      for (const n of pve.nodes.values()) {
        const stale = !n.online && n.offlineSince !== undefined && now - n.offlineSince >= pve.timings.rrdExpiryMs;
        out.push({
          id: `node/${n.name}`,
          type: 'node',
          node: n.name,
          status: n.online ? 'online' : 'offline',
          level: '',
          'cgroup-mode': 2,
          ...(stale ? {} : { maxcpu: n.cpu, maxmem: n.memoryGiB * GiB, maxdisk: 100 * GiB }),
          ...(n.online ? { cpu: 0.05, mem: Math.round(n.memoryGiB * GiB * 0.2), disk: 10 * GiB, uptime: 86_400 } : {}),
        });
      }
    }
    if (!type || type === 'vm') {
      for (const g of pve.tree.guests()) {
        const seen = pve.guestReported(g);
        const sid = pve.sidOf(g);
        const svc = pve.ha.get(sid);
        const base = { id: `${g.type}/${g.vmid}`, vmid: g.vmid, node: g.node, type: g.type, status: seen.status };
        if (seen.status === 'unknown') {
          out.push(base);
          continue;
        }
        const running = seen.status === 'running';
        const maxmem = Number(g.config.memory ?? 512) * 2 ** 20;
        out.push({
          ...base,
          name: g.config.name,
          template: g.config.template === '1' ? 1 : 0,
          maxcpu: Number(g.config.cores ?? 1) * Number(g.config.sockets ?? 1),
          maxmem,
          maxdisk: 8 * GiB,
          cpu: running ? 0.02 : 0,
          mem: running ? Math.round(maxmem * 0.5) : 0,
          disk: 0,
          diskread: 0,
          diskwrite: 0,
          netin: 0,
          netout: 0,
          uptime: running ? 3600 : 0,
          ...(g.config.lock ? { lock: g.config.lock } : {}),
          ...(g.config.tags ? { tags: g.config.tags } : {}),
          ...(svc ? { hastate: svc.request === 'ignored' ? 'ignored' : svc.crmState } : {}),
        });
      }
    }
    if (!type || type === 'storage') {
      for (const s of pve.storages) {
        for (const n of pve.nodes.values()) {
          const st = pve.storageState.get(`${s.id}@${n.name}`);
          if (!st || !st.enabled) continue;
          const available = n.online && st.active;
          out.push({
            id: `storage/${n.name}/${s.id}`,
            type: 'storage',
            storage: s.id,
            node: n.name,
            status: available ? 'available' : 'unknown',
            shared: s.shared ? 1 : 0,
            plugintype: s.type,
            content: s.content,
            ...(available ? { disk: s.usedGiB * GiB, maxdisk: s.totalGiB * GiB } : {}),
          });
        }
      }
    }
    return send(reply, out);
  });

  app.get(`${P}/cluster/status`, async (_req, reply) => {
    const nodes = [...pve.nodes.values()];
    return send(reply, [
      { type: 'cluster', id: 'cluster', name: 'standin', version: 4, quorate: pve.quorate() ? 1 : 0, nodes: nodes.length },
      ...nodes.map((n) => ({ type: 'node', id: `node/${n.name}`, name: n.name, nodeid: n.nodeid, online: n.online ? 1 : 0, ip: '127.0.0.1', local: n.name === pve.apiNode ? 1 : 0, level: '' })),
    ]);
  });

  app.get(`${P}/cluster/ha/status/current`, async (_req, reply) => {
    const now = Math.floor(pve.now() / 1000);
    const date = new Date().toString().slice(0, 24);
    const master = [...pve.nodes.values()].find((n) => n.online);
    const out: Record<string, unknown>[] = [{ id: 'quorum', type: 'quorum', node: pve.apiNode, status: pve.quorate() ? 'OK' : `No quorum on node '${pve.apiNode}'!`, quorate: pve.quorate() ? 1 : 0 }];
    if (master) out.push({ id: 'master', type: 'master', node: master.name, status: `${master.name} (active, ${date})`, timestamp: now });
    for (const n of pve.nodes.values()) {
      const active = [...pve.ha.values()].some((s) => s.node === n.name);
      const text = !n.online ? 'old timestamp - dead?' : n.lrmMode === 'maintenance' ? 'maintenance mode' : active ? 'active' : 'idle';
      out.push({ id: `lrm:${n.name}`, type: 'lrm', node: n.name, status: `${n.name} (${text}, ${date})`, timestamp: n.online ? now : now - 120 });
    }
    for (const s of pve.ha.values()) {
      out.push({ id: `service:${s.sid}`, type: 'service', sid: s.sid, node: s.node, crm_state: s.crmState, state: s.crmState, request_state: s.request, status: `${s.sid} (${s.node}, ${s.crmState})`, max_restart: 1, max_relocate: 1 });
    }
    return send(reply, out);
  });

  app.get(`${P}/cluster/ha/status/manager_status`, async (_req, reply) => {
    const master = [...pve.nodes.values()].find((n) => n.online);
    return send(reply, {
      manager_status: {
        master_node: master?.name,
        node_status: Object.fromEntries([...pve.nodes.keys()].map((n) => [n, pve.haNodeStatus(n)])),
        service_status: Object.fromEntries([...pve.ha.values()].map((s) => [s.sid, { node: s.node, state: s.crmState, uid: s.sid }])),
        timestamp: Math.floor(pve.now() / 1000),
      },
      quorum: { node: pve.apiNode, quorate: pve.quorate() ? 1 : 0 },
      lrm_status: Object.fromEntries(
        [...pve.nodes.values()].map((n) => [n.name, { mode: n.lrmMode, state: [...pve.ha.values()].some((s) => s.node === n.name) ? 'active' : 'wait_for_agent_lock', timestamp: Math.floor(pve.now() / 1000) }]),
      ),
    });
  });

  app.get(`${P}/cluster/ha/resources`, async (_req, reply) => send(reply, [...pve.ha.values()].map((s) => ({ sid: s.sid, type: s.sid.split(':')[0], state: s.request, digest: 'standin', max_restart: 1, max_relocate: 1 }))));

  app.get(`${P}/cluster/replication`, async (_req, reply) =>
    send(
      reply,
      pve.replication.map((r, i) => ({ id: `${r.guest}-${i}`, guest: r.guest, target: r.target, type: 'local', jobnum: i, schedule: '*/15' })),
    ),
  );

  app.get(`${P}/cluster/tasks`, async (_req, reply) => send(reply, [...pve.tasks.values()].map(taskListEntry)));

  app.get(`${P}/nodes/:node/replication`, async (req, reply) => {
    const node = pve.reach(params(req).node).name;
    const owners = new Map(pve.tree.guests().map((g) => [g.vmid, g.node]));
    return send(
      reply,
      pve.replication
        .map((r, i) => ({ r, i }))
        .filter(({ r }) => owners.get(r.guest) === node)
        .map(({ r, i }) => ({
          id: `${r.guest}-${i}`,
          guest: r.guest,
          target: r.target,
          type: 'local',
          jobnum: i,
          schedule: '*/15',
          ...(r.lastSync ? { last_sync: r.lastSync, duration: 2.5 } : {}),
          fail_count: r.failCount ?? 0,
          ...(r.error ? { error: r.error } : {}),
        })),
    );
  });

  app.get(`${P}/nodes/:node/storage`, async (req, reply) => {
    const node = pve.reach(params(req).node).name;
    return send(
      reply,
      pve.storages
        .filter((s) => pve.storageState.has(`${s.id}@${node}`))
        .map((s) => {
          const st = pve.storageState.get(`${s.id}@${node}`) as { active: boolean; enabled: boolean };
          return {
            storage: s.id,
            type: s.type,
            content: s.content,
            shared: s.shared ? 1 : 0,
            active: st.active ? 1 : 0,
            enabled: st.enabled ? 1 : 0,
            ...(st.active ? { total: s.totalGiB * GiB, used: s.usedGiB * GiB, avail: (s.totalGiB - s.usedGiB) * GiB } : {}),
          };
        }),
    );
  });

  app.get(`${P}/nodes/:node/storage/:storage/content`, async (req, reply) => {
    const { node, storage } = params(req);
    pve.reach(node);
    const s = pve.storages.find((x) => x.id === storage);
    if (!s || !pve.storageState.get(`${storage}@${node}`)?.active) return fail(reply, 500, `storage '${storage}' is not online`);
    const out: Record<string, unknown>[] = [];
    for (const g of pve.tree.guests()) {
      if (!s.shared && g.node !== node) continue;
      for (const [k, v] of Object.entries(g.config)) {
        if (!/^(scsi\d+|virtio\d+|sata\d+|ide\d+|rootfs|mp\d+)$/.test(k)) continue;
        const volid = v.split(',')[0] ?? '';
        if (volid.startsWith(`${storage}:`)) out.push({ volid, vmid: g.vmid, content: g.type === 'qemu' ? 'images' : 'rootdir', format: g.type === 'qemu' ? 'raw' : 'subvol', size: 8 * GiB, ctime: 1700000000 });
      }
    }
    return send(reply, out);
  });

  for (const type of ['qemu', 'lxc'] as const) {
    app.get(`${P}/nodes/:node/${type}/:vmid/migrate`, async (req, reply) => {
      pve.reach(params(req).node);
      const g = pve.guest(params(req).node, type, vmidOf(req));
      const volumes = Object.entries(g.config)
        .filter(([k]) => /^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$/.test(k))
        .map(([, v]) => v.split(',')[0] ?? '');
      const storagesOf = volumes.map((v) => v.split(':')[0] ?? '');
      const local = volumes.filter((v) => !pve.storages.find((s) => s.id === v.split(':')[0])?.shared);
      const allowed: string[] = [];
      const notAllowed: Record<string, unknown> = {};
      for (const n of pve.nodes.values()) {
        if (n.name === g.node) continue;
        const missing = storagesOf.filter((s) => !pve.storageState.get(`${s}@${n.name}`)?.active);
        if (missing.length) notAllowed[n.name] = { unavailable_storages: missing };
        else allowed.push(n.name);
      }
      const running = pve.guestReported(g).status === 'running';
      return send(reply, {
        running,
        allowed_nodes: allowed,
        not_allowed_nodes: notAllowed,
        local_disks: local.map((volid) => ({ volid, size: 8 * GiB, cdrom: false, is_unused: false })),
        local_resources: [],
        'mapped-resources': [],
        'mapped-resource-info': {},
        'dependent-ha-resources': [],
      });
    });

    app.post(`${P}/nodes/:node/${type}/:vmid/migrate`, async (req, reply) => {
      const b = body(req);
      if (!b.target) return fail(reply, 400, 'Parameter verification failed.', { target: 'property is missing and it is not optional' });
      const t = pve.migrateRequest(params(req).node, type, vmidOf(req), b.target, b.online === '1' || b.restart === '1');
      return send(reply, t.upid);
    });

    app.post(`${P}/nodes/:node/${type}/:vmid/status/start`, async (req, reply) => {
      const t = pve.start(params(req).node, type, vmidOf(req));
      return send(reply, t.upid);
    });

    app.get(`${P}/nodes/:node/${type}/:vmid/status/current`, async (req, reply) => {
      pve.reach(params(req).node);
      const g = pve.guest(params(req).node, type, vmidOf(req));
      const svc = pve.ha.get(pve.sidOf(g));
      return send(reply, { vmid: g.vmid, name: g.config.name, status: pve.guestReported(g).status, cpus: Number(g.config.cores ?? 1), maxmem: Number(g.config.memory ?? 512) * 2 ** 20, ha: { managed: svc ? 1 : 0 }, ...(g.config.lock ? { lock: g.config.lock } : {}) });
    });
  }

  const taskOf = (req: FastifyRequest): Task => {
    const { node, upid } = params(req);
    pve.reach(node);
    const t = pve.tasks.get(upid);
    if (!t || t.node !== node) throw new StandinError(500, `no such task`);
    return t;
  };
  app.get(`${P}/nodes/:node/tasks/:upid/status`, async (req, reply) => {
    const t = taskOf(req);
    return send(reply, { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pid * 7, starttime: t.starttime, type: t.type, id: t.id, user: t.user, status: t.ended ? 'stopped' : 'running', ...(t.ended ? { exitstatus: t.exitstatus } : {}) });
  });
  app.get(`${P}/nodes/:node/tasks/:upid/log`, async (req, reply) => {
    const t = taskOf(req);
    return send(
      reply,
      t.log.map((line, i) => ({ n: i + 1, t: line })),
    );
  });
  app.get(`${P}/nodes/:node/tasks`, async (req, reply) => {
    const node = pve.reach(params(req).node).name;
    const q = query(req);
    const since = q.since ? Number(q.since) : 0;
    return send(
      reply,
      [...pve.tasks.values()]
        .filter((t) => t.node === node && (!q.vmid || t.id === q.vmid) && t.starttime >= since && (q.source !== 'active' || !t.ended))
        .sort((a, b) => b.starttime - a.starttime)
        .slice(0, q.limit ? Number(q.limit) : 50)
        .map(taskListEntry),
    );
  });

  return app;
}

function taskListEntry(t: Task): Record<string, unknown> {
  return { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pid * 7, starttime: t.starttime, type: t.type, id: t.id, user: t.user, ...(t.ended ? { endtime: Math.floor(t.endAt / 1000), status: t.exitstatus } : {}) };
}
