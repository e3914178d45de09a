/**
 * Vigil's status page: reads api/v1/status, renders it, and refreshes by
 * itself. Plain browser JavaScript, no framework and no build step. The
 * helpers above the DOM part are pure and exported, so they are unit-tested
 * under Node.
 *
 * What comes from the API (a VM name can contain anything) reaches the DOM
 * only as text nodes and attribute values, never as markup.
 */
/* global document, window, fetch, AbortController, Node, URLSearchParams */

// ----- pure helpers -----------------------------------------------------------

/** Severity scale, worst first. Each has a word and a glyph, so colour is never the only signal. */
export const SEVERITIES = ['bad', 'warn', 'info', 'ok'];
const GLYPH = { bad: '✖', warn: '▲', info: '●', ok: '✓' };

export function glyph(severity) {
  return GLYPH[severity] ?? '●';
}

/** The worse of two severities. */
export function worse(a, b) {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

// Maps, not object literals: a health string from the API may be "__proto__".
const HEALTH_SEVERITY = new Map([
  ['healthy', 'ok'],
  ['maintenance', 'info'],
  ['suspect', 'warn'],
  ['isolated', 'warn'],
  ['recovering', 'warn'],
  ['failed', 'bad'],
  ['fenced', 'bad'],
  ['quarantined', 'bad'],
]);

/** Vigil's own judgement of a host. A state this page does not know is shown as a warning, not as fine. */
export function healthSeverity(health) {
  return HEALTH_SEVERITY.get(health) ?? 'warn';
}

const MANAGER_SEVERITY = new Map([
  ['connected', 'ok'],
  ['maintenance', 'info'],
  ['disconnected', 'warn'],
  ['notResponding', 'bad'],
]);

/** The hypervisor manager's word about a host. */
export function managerSeverity(state) {
  return MANAGER_SEVERITY.get(state) ?? 'warn';
}

const MANAGER_LABEL = new Map([['notResponding', 'not responding']]);

export function managerLabel(state) {
  return MANAGER_LABEL.get(state) ?? String(state);
}

const KIND_SEVERITY = new Map([
  ['action-failed', 'bad'],
  ['poll-failed', 'bad'],
  ['unplaced', 'bad'],
  ['frozen', 'bad'],
  ['alert', 'bad'],
  ['awaiting-fence', 'warn'],
  ['fencing', 'warn'],
  ['skipped', 'warn'],
  ['action-dropped', 'warn'],
  ['action-succeeded', 'ok'],
  ['poll-recovered', 'ok'],
  ['unfrozen', 'ok'],
]);

const KIND_LABEL = new Map([
  ['host-health', 'host health'],
  ['poll-failed', 'poll failed'],
  ['poll-recovered', 'poll recovered'],
  ['restart-planned', 'restart planned'],
  ['observe-only', 'observe only'],
  ['action-started', 'started'],
  ['action-succeeded', 'succeeded'],
  ['action-failed', 'failed'],
  ['action-dropped', 'dropped'],
  ['awaiting-fence', 'waiting for fence'],
]);

/** How a decision of the timeline stands out; a host-health change takes the severity of the state it went to. */
export function decisionSeverity(d) {
  if (d.kind === 'host-health') {
    const to = d.data && typeof d.data.to === 'string' ? d.data.to : undefined;
    return to ? healthSeverity(to) : 'info';
  }
  return KIND_SEVERITY.get(d.kind) ?? 'info';
}

/** `host failed` for a host-health change (the state it went to), else the kind in words. */
export function decisionLabel(d) {
  if (d.kind === 'host-health' && d.data && typeof d.data.to === 'string') return `host ${d.data.to}`;
  return KIND_LABEL.get(d.kind) ?? String(d.kind).replace(/-/g, ' ');
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** `5,120`, `7.5`: whole numbers from 10 up, one decimal below. */
export function formatNumber(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return 'unknown';
  return Math.abs(n) >= 10 ? grouped.format(n) : oneDecimal.format(n);
}

/** GiB with unknown kept unknown (null means the platform did not say). */
export function formatGiB(n) {
  return typeof n === 'number' && Number.isFinite(n) ? `${formatNumber(n)} GiB` : 'unknown';
}

/** Whole percent of part in whole, or null when either is unknown or whole is 0. */
export function percent(part, whole) {
  if (typeof part !== 'number' || typeof whole !== 'number' || !Number.isFinite(part) || !Number.isFinite(whole) || whole <= 0) return null;
  return Math.round((100 * part) / whole);
}

/** `just now`, `12 s ago`, `3 min ago`, `2 h 5 min ago`, `3 d ago`. A time ahead of now (clock skew) reads as just now. */
export function formatAgo(ms) {
  if (!Number.isFinite(ms) || ms < 2_000) return 'just now';
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min ago` : `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** `12 s`, `3 min`, `2 h 5 min`: a span of time, for "refreshes every ..." and "no poll for ...". */
export function formatSpan(ms) {
  const s = Math.max(0, Math.round(ms / 1_000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 && m < 5 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

const two = (n) => String(n).padStart(2, '0');

/** Local wall-clock time, `03:12:45`; with the date when it is not the same local day as `now`. */
export function formatClock(at, now) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return 'unknown';
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const n = new Date(now);
  const sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return sameDay ? time : `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}`;
}

/** `1 VM`, `3 VMs`. */
export function plural(n, one, many = `${one}s`) {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

/** "a, b and c"; "a, b, c and 4 more" past `max`. */
export function listOf(items, max = 5) {
  const shown = items.slice(0, max);
  const more = items.length - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** The power states of a host's VMs, as `5` or `5 (1 off, 1 unknown)`. */
export function vmCountText(total, powers) {
  const notOn = [];
  for (const [power, n] of powers) if (power !== 'on' && n > 0) notOn.push(`${n} ${power}`);
  return notOn.length ? `${formatNumber(total)} (${notOn.join(', ')})` : formatNumber(total);
}

// Counted once per status answer, not once per host: a cluster can hold thousands of VMs.
const powersCache = new WeakMap();

function powersByHost(cluster) {
  let byHost = powersCache.get(cluster);
  if (!byHost) {
    byHost = new Map();
    for (const vm of cluster.vms ?? []) {
      const powers = byHost.get(vm.host) ?? new Map();
      powers.set(vm.power, (powers.get(vm.power) ?? 0) + 1);
      byHost.set(vm.host, powers);
    }
    powersCache.set(cluster, byHost);
  }
  return byHost;
}

/** One host row: what the hosts table shows. */
export function hostView(host, cluster) {
  const powers = powersByHost(cluster).get(host.name) ?? new Map();
  const fence = (cluster.fencing ?? []).find((f) => f.host === host.name);
  const memPct = percent(host.usedMemoryGiB, host.memoryGiB);
  const healthSev = healthSeverity(host.health);
  const stateSev = managerSeverity(host.state);
  let fencing;
  if (fence) {
    fencing =
      fence.state === 'fencing'
        ? { severity: 'warn', text: `fencing in progress (attempt ${fence.attempts})${fence.detail && fence.detail !== 'in progress' ? `: ${fence.detail}` : ''}` }
        : { severity: 'bad', text: `fencing failed after ${plural(fence.attempts, 'attempt')}: ${fence.detail}` };
  }
  return {
    name: host.name,
    health: String(host.health),
    healthSeverity: healthSev,
    healthReason: host.health === 'healthy' ? '' : (host.healthReason ?? ''),
    state: managerLabel(host.state),
    stateSeverity: stateSev,
    severity: worse(worse(healthSev, stateSev === 'bad' ? 'warn' : stateSev), fencing ? fencing.severity : 'ok'),
    vms: vmCountText(host.vms, powers),
    cpu: `${formatNumber(host.usedCpu)} / ${formatNumber(host.cpu)}`,
    memory: `${formatNumber(host.usedMemoryGiB)} / ${formatGiB(host.memoryGiB)}${memPct === null ? '' : ` (${memPct}%)`}`,
    labels: Object.entries(host.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    fencing,
  };
}

/**
 * The VMs waiting or moving, worst first: unplaced (a person must act),
 * waiting for a fence (a host must be proven off), then actions in flight.
 */
export function waitingRows(cluster) {
  const rows = [];
  for (const u of cluster.unplaced ?? [])
    rows.push({ severity: 'bad', status: 'unplaced', vm: u.vm, from: u.from, to: '', reason: `${u.reason}${u.priority ? ` (priority ${u.priority})` : ''}` });
  for (const w of cluster.awaitingFence ?? []) rows.push({ severity: 'warn', status: 'waiting for fence', vm: w.vm, from: w.from, to: '', reason: w.reason });
  for (const a of cluster.inflight ?? []) {
    if (a.type === 'restart')
      rows.push({ severity: 'info', status: 'restarting', vm: a.vm, from: a.from, to: a.to, reason: `wave ${a.wave}, priority ${a.priority}: ${a.reason}` });
    else if (a.type === 'migrate') rows.push({ severity: 'info', status: a.live ? 'migrating (live)' : 'migrating (cold)', vm: a.vm, from: a.from, to: a.to, reason: a.reason });
    else if (a.type === 'maintenance')
      rows.push({ severity: 'info', status: a.enter ? 'host entering maintenance' : 'host leaving maintenance', vm: '', from: a.host, to: '', reason: a.reason });
    else rows.push({ severity: 'info', status: String(a.type), vm: a.vm ?? '', from: a.from ?? '', to: a.to ?? '', reason: a.reason ?? '' });
  }
  return rows;
}

/** Below this share of free space a datastore is flagged. */
export const LOW_FREE_PERCENT = 10;

export function datastoreView(ds) {
  const lostOn = ds.inaccessibleOn ?? [];
  const degradedOn = (ds.degradedOn ?? []).filter((h) => !lostOn.includes(h));
  const freePct = percent(ds.freeGiB, ds.capacityGiB);
  let severity = 'ok';
  let status = 'accessible';
  if (!ds.accessible) {
    severity = 'bad';
    status = lostOn.length ? `inaccessible (lost on ${listOf(lostOn)})` : 'inaccessible';
  } else if (lostOn.length) {
    severity = 'warn';
    status = `lost on ${listOf(lostOn)}`;
  }
  if (ds.accessible && degradedOn.length) {
    severity = worse(severity, 'warn');
    status = severity === 'warn' && !lostOn.length ? `degraded on ${listOf(degradedOn)}` : `${status}; degraded on ${listOf(degradedOn)}`;
  }
  // The controller's level (its policy's, or the alerts section's) when it sends one; else a fixed share, for older controllers.
  const level = ds.level;
  const low = level ? level === 'warning' : freePct !== null && freePct < LOW_FREE_PERCENT;
  const freeNote = typeof ds.freeGiB !== 'number' || level === 'unknown' ? 'unknown' : level === 'critical' ? 'critical' : low ? 'low' : '';
  return {
    name: ds.name,
    severity,
    status,
    free: typeof ds.freeGiB === 'number' ? `${formatGiB(ds.freeGiB)}${freePct === null ? '' : ` (${freePct}%)`}` : 'unknown',
    freeNote,
    capacity: formatGiB(ds.capacityGiB),
    hosts: listOf(ds.hosts ?? [], 8),
    forecast: typeof ds.fullInDays === 'number' ? fullIn(ds.fullInDays) : '',
  };
}

/** "full in ~3 days", as the controller's forecast words it. */
export function fullIn(days) {
  if (days * 24 < 1) return days * 24 * 60 < 1 ? 'full now' : `full in ~${Math.max(1, Math.round(days * 24 * 60))} min`;
  if (days < 2) return `full in ~${plural(Math.round(days * 24), 'hour')}`;
  return `full in ~${plural(Math.round(days), 'day')}`;
}

/** VMs no other host can run, and replicas with their age against the RPO. */
export function protectionRows(cluster) {
  const rows = [];
  for (const v of cluster.vms ?? []) {
    if (v.protection && v.protection.state === 'unprotected') rows.push({ severity: 'warn', vm: v.name, host: v.host, status: 'unprotected', detail: v.protection.reason });
    const r = v.replication;
    if (!r) continue;
    const age = r.lagSeconds === null ? 'never synced' : `last sync ${formatSpan(r.lagSeconds * 1000)} ago`;
    const rpo = typeof r.rpoSeconds === 'number' ? `; RPO ${formatSpan(r.rpoSeconds * 1000)}` : '';
    rows.push({ severity: r.overRpo ? 'warn' : r.healthy ? 'ok' : 'warn', vm: v.name, host: v.host, status: r.overRpo ? 'replica over RPO' : `replica on ${r.target}`, detail: `replica on ${r.target}: ${age}${rpo} (${r.state}${r.healthy ? '' : ', unhealthy'})` });
  }
  return rows;
}

/** Failover capacity in words: a headline, the first failure set that would leave VMs down, and notes. */
export function capacityView(cap) {
  if (!cap) return { severity: 'info', headline: 'Not computed yet: it follows the first complete poll.', shortfall: '', unplaced: [], notes: [] };
  const estimate = cap.method === 'heuristic' ? ' (an estimate: too many hosts to try every combination)' : '';
  const atLeast = cap.atLeast ? 'at least ' : '';
  const covered = cap.tolerates >= cap.required;
  const headline = `Tolerates ${atLeast}${plural(cap.tolerates, 'host failure')}; the policy wants ${formatNumber(cap.required)}.${estimate}`;
  let shortfall = '';
  const unplaced = [];
  if (cap.shortfall) {
    const vms = cap.shortfall.unplaced ?? [];
    const what = `${plural(vms.length, 'VM')} (${formatGiB(cap.shortfall.memoryGiBShort)} of memory) could not restart`;
    shortfall = `${covered ? 'Beyond that: if' : 'If'} ${listOf(cap.shortfall.failed ?? [])} failed, ${what}:`;
    for (const u of vms.slice(0, 10)) unplaced.push({ vm: u.vm, reason: u.reason });
    if (vms.length > 10) unplaced.push({ vm: '', reason: `and ${vms.length - 10} more` });
  }
  const notes = [];
  const r = cap.reserve;
  if (r && !r.ok)
    notes.push(
      `Reserve not kept: memory ${formatNumber(r.usedMemoryPercent)}% used of ${100 - r.memoryPercent}% allowed; CPU ${formatNumber(r.usedCpuPercent)}% used of ${100 - r.cpuPercent}% allowed.`,
    );
  else if (r) notes.push(`In use: memory ${formatNumber(r.usedMemoryPercent)}%, CPU ${formatNumber(r.usedCpuPercent)}% of what the healthy hosts offer.`);
  if (cap.failoverHostsInUse && cap.failoverHostsInUse.length) notes.push(`Failover hosts running VMs (no longer standing by): ${listOf(cap.failoverHostsInUse)}.`);
  return { severity: cap.ok ? 'ok' : 'bad', headline, shortfall, unplaced, notes };
}

/** Newest first; the API sends them oldest first. */
export function timelineRows(recent) {
  return [...(recent ?? [])]
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d.at - a.d.at || b.i - a.i)
    .map(({ d }) => ({ at: d.at, severity: decisionSeverity(d), kind: decisionLabel(d), subject: d.subject, message: d.message }));
}

/** How long without a poll before a cluster's data is called stale. */
export function staleAfterMs(cluster) {
  return typeof cluster.pollIntervalMs === 'number' && cluster.pollIntervalMs > 0 ? Math.max(3 * cluster.pollIntervalMs, 15_000) : 60_000;
}

/** What needs a person's eyes in one cluster, worst first, in a few words each; empty when all is well. */
export function clusterProblems(cluster, now) {
  const out = [];
  if (cluster.frozen) out.push({ severity: 'bad', text: 'frozen' });
  if (cluster.lastError) out.push({ severity: 'bad', text: 'last poll failed' });
  const lastPoll = cluster.lastPoll ? Date.parse(cluster.lastPoll) : NaN;
  if (!cluster.lastPoll) out.push({ severity: 'warn', text: 'not polled yet' });
  else if (Number.isFinite(lastPoll) && now - lastPoll > staleAfterMs(cluster)) out.push({ severity: 'warn', text: `no poll for ${formatSpan(now - lastPoll)}` });
  for (const h of cluster.hosts ?? []) {
    const s = healthSeverity(h.health);
    if (s === 'bad' || s === 'warn') out.push({ severity: s, text: `${h.name} ${h.health}` });
  }
  for (const f of cluster.fencing ?? []) if (f.state === 'failed') out.push({ severity: 'bad', text: `fencing of ${f.host} failed` });
  const unplaced = (cluster.unplaced ?? []).length;
  if (unplaced) out.push({ severity: 'bad', text: `${plural(unplaced, 'VM')} unplaced` });
  const waiting = (cluster.awaitingFence ?? []).length;
  if (waiting) out.push({ severity: 'warn', text: `${plural(waiting, 'VM')} waiting for a fence` });
  for (const ds of cluster.datastores ?? []) {
    const v = datastoreView(ds);
    if (v.severity !== 'ok') out.push({ severity: v.severity, text: `${ds.name} ${v.status}` });
    if (v.freeNote === 'low') out.push({ severity: 'warn', text: `${ds.name} low on space` });
    if (v.freeNote === 'critical') out.push({ severity: 'bad', text: `${ds.name} critically low on space` });
  }
  for (const vm of cluster.vms ?? []) if (vm.replication && vm.replication.overRpo) out.push({ severity: 'warn', text: `replica of ${vm.name} over RPO` });
  if (cluster.capacity && !cluster.capacity.ok) out.push({ severity: 'warn', text: 'failover capacity short' });
  return out.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
}

/** The line at the top of the page and the tab title. */
export function overallSummary(report, now) {
  const clusters = report.clusters ?? [];
  if (!clusters.length) return { severity: 'warn', text: 'No clusters are configured.', title: 'no clusters' };
  const problems = clusters.flatMap((c) => clusterProblems(c, now).map((p) => ({ ...p, cluster: c.name })));
  problems.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  const hosts = clusters.reduce((n, c) => n + (c.hosts ?? []).length, 0);
  const vms = clusters.reduce((n, c) => n + (c.vms ?? []).length, 0);
  const moving = clusters.reduce((n, c) => n + (c.inflight ?? []).length, 0);
  const actions = moving ? ` ${plural(moving, 'action')} in flight.` : '';
  if (!problems.length) return { severity: 'ok', text: `All clear: ${plural(clusters.length, 'cluster')}, ${plural(hosts, 'host')}, ${plural(vms, 'VM')}.${actions}`, title: 'all clear' };
  const named = problems.map((p) => (clusters.length > 1 ? `${p.cluster}: ${p.text}` : p.text));
  const shown = named.slice(0, 4);
  const more = named.length - shown.length;
  return {
    severity: problems[0].severity,
    text: `${plural(problems.length, 'problem')}: ${shown.join('; ')}${more ? `; and ${more} more` : ''}.${actions}`,
    title: plural(problems.length, 'problem'),
  };
}

/** The refresh period in ms from the page's `?refresh=SECONDS` (1 to 300, default 5). */
export function refreshMs(search) {
  const raw = new URLSearchParams(search).get('refresh');
  const n = raw === null || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(n) ? Math.round(Math.min(300, Math.max(1, n)) * 1_000) : 5_000;
}

// ----- the page ---------------------------------------------------------------

const REQUEST_TIMEOUT_MS = 10_000;

/** An element with attributes and children; strings become text nodes, never markup. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false || c === '') continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** A word with its glyph; the glyph is decoration for screen readers, the word carries the meaning. */
function badge(severity, text) {
  return h('span', { class: `badge sev-${severity}` }, h('span', { 'aria-hidden': 'true' }, glyph(severity)), ' ', text);
}

/** "12 s ago", kept current by sweepTimes. */
function ago(at) {
  return h('span', { 'data-at': at }, formatAgo(serverNow() - at));
}

function table(labelId, headers, rows, numeric = []) {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { 'aria-labelledby': labelId },
      h('thead', {}, h('tr', {}, headers.map((t, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : undefined }, t)))),
      h('tbody', {}, rows),
    ),
  );
}

const state = {
  report: undefined,
  /** Browser time of the last good answer, to turn the server's generatedAt into "now" without trusting the two clocks agree. */
  fetchedAt: 0,
  failingSince: 0,
  error: '',
  timer: undefined,
  busy: false,
  period: 5_000,
};

/** The controller's clock now: its generatedAt plus the time since that answer arrived. */
function serverNow() {
  const gen = state.report ? Date.parse(state.report.generatedAt) : NaN;
  return Number.isFinite(gen) ? gen + (Date.now() - state.fetchedAt) : Date.now();
}

/** Blocks are rebuilt only when their data changed, so a refresh does not flicker or drop a text selection. */
const blocks = new Map();
let used = new Set();

function block(key, data, build) {
  used.add(key);
  const sig = JSON.stringify(data);
  const prev = blocks.get(key);
  if (prev && prev.sig === sig) return prev.el;
  const el = build(data);
  blocks.set(key, { sig, el });
  return el;
}

/** Makes parent's children exactly `nodes`, touching only those out of place. */
function place(parent, nodes) {
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function renderOverview(clusters, now) {
  return block('overview', { clusters: clusters.map((c, i) => ({ i, c: overviewData(c, now) })) }, ({ clusters: rows }) =>
    table(
      'overview-title',
      ['Cluster', 'Status', 'Hosts', 'VMs', 'Failover capacity'],
      rows.map(({ i, c }) =>
        h(
          'tr',
          { class: `sev-${c.severity}` },
          h('th', { scope: 'row', class: 'name' }, h('a', { href: `#c-${i}` }, c.name)),
          h('td', {}, badge(c.severity, c.status), c.detail ? h('span', { class: 'reason' }, c.detail) : null),
          h('td', {}, c.hosts),
          h('td', { class: 'num' }, c.vms),
          h('td', {}, c.capacity),
        ),
      ),
    ),
  );
}

function overviewData(c, now) {
  const problems = clusterProblems(c, now);
  const hosts = c.hosts ?? [];
  const healthy = hosts.filter((x) => x.health === 'healthy').length;
  const cap = c.capacity;
  return {
    name: c.name,
    severity: c.frozen ? 'bad' : problems.length ? problems[0].severity : 'ok',
    status: c.frozen ? 'frozen' : problems.length ? plural(problems.length, 'problem') : 'ok',
    detail: listOf(
      problems.map((p) => p.text),
      3,
    ),
    hosts: `${formatNumber(healthy)} of ${formatNumber(hosts.length)} healthy`,
    vms: formatNumber((c.vms ?? []).length),
    capacity: cap ? `${cap.ok ? 'ok' : 'short'}: tolerates ${cap.atLeast ? '≥ ' : ''}${cap.tolerates} of ${cap.required}` : 'not computed yet',
  };
}

function renderClusterHead(c, i) {
  const data = {
    i,
    name: c.name,
    provider: c.provider,
    mode: c.mode,
    frozen: c.frozen,
    frozenReason: c.frozenReason ?? '',
    lastPoll: c.lastPoll ?? '',
    lastError: c.lastError ?? '',
    staleAfter: staleAfterMs(c),
  };
  return block(`c${i}:head`, data, (d) => {
    const lastPollAt = d.lastPoll ? Date.parse(d.lastPoll) : NaN;
    return h(
      'div',
      { class: 'cluster-head' },
      h('h2', { id: `c-${i}-title` }, d.name, ' ', h('span', { class: 'meta' }, `${d.provider} · ${d.mode === 'observe' ? 'observe mode: plans, never acts' : d.mode}`)),
      d.frozen
        ? h(
            'div',
            { class: 'banner sev-bad' },
            h('p', { class: 'banner-title' }, badge('bad', 'frozen'), ' Automatic actions are stopped in this cluster.'),
            h('p', {}, 'Reason: ', d.frozenReason || 'not given'),
            h('p', {}, 'Vigil will not restart or move VMs here until a person unfreezes it: ', h('code', {}, `vigil unfreeze --cluster ${d.name}`)),
          )
        : null,
      d.lastError ? h('div', { class: 'banner sev-bad' }, h('p', { class: 'banner-title' }, badge('bad', 'poll failed'), ' The last poll of this cluster failed.'), h('p', {}, d.lastError)) : null,
      h(
        'p',
        { class: 'meta' },
        Number.isFinite(lastPollAt) ? ['Last poll ', h('time', { datetime: d.lastPoll }, formatClock(lastPollAt, serverNow())), ' (', ago(lastPollAt), ')'] : 'Not polled yet.',
        h('span', { class: 'stale-note', 'data-stale-for': Number.isFinite(lastPollAt) ? lastPollAt : undefined, 'data-stale-after': d.staleAfter }),
      ),
    );
  });
}

function renderHosts(c, i) {
  const rows = (c.hosts ?? []).map((host) => hostView(host, c));
  return block(`c${i}:hosts`, rows, (rows) =>
    h(
      'div',
      { class: 'part' },
      h('h3', { id: `c-${i}-hosts` }, 'Hosts'),
      rows.length
        ? table(
            `c-${i}-hosts`,
            ['Host', 'Health (Vigil)', 'Manager says', 'VMs', 'vCPU / CPUs', 'Memory used'],
            rows.map((r) =>
              h(
                'tr',
                { class: `sev-${r.severity}` },
                h('th', { scope: 'row', class: 'name' }, r.name, r.labels ? h('span', { class: 'reason' }, r.labels) : null),
                h(
                  'td',
                  {},
                  badge(r.healthSeverity, r.health),
                  r.healthReason ? h('span', { class: 'reason' }, r.healthReason) : null,
                  r.fencing ? h('span', { class: `reason sev-text-${r.fencing.severity}` }, r.fencing.text) : null,
                ),
                h('td', {}, r.stateSeverity === 'ok' ? r.state : badge(r.stateSeverity, r.state)),
                h('td', { class: 'num' }, r.vms),
                h('td', { class: 'num' }, r.cpu),
                h('td', { class: 'num' }, r.memory),
              ),
            ),
            [3, 4, 5],
          )
        : h('p', { class: 'empty' }, 'No hosts reported.'),
    ),
  );
}

function renderWaiting(c, i) {
  return block(`c${i}:waiting`, waitingRows(c), (rows) =>
    h(
      'div',
      { class: 'part' },
      h('h3', { id: `c-${i}-waiting` }, 'VMs waiting or moving'),
      rows.length
        ? table(
            `c-${i}-waiting`,
            ['Status', 'VM', 'From', 'To', 'Why'],
            rows.map((r) =>
              h(
                'tr',
                { class: `sev-${r.severity}` },
                h('td', {}, badge(r.severity, r.status)),
                h('th', { scope: 'row', class: 'vm' }, r.vm || '—'),
                h('td', { class: 'name' }, r.from || '—'),
                h('td', { class: 'name' }, r.to || '—'),
                h('td', { class: 'why' }, r.reason),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'None: no VM is waiting for a host or moving.'),
    ),
  );
}

function renderCapacity(c, i) {
  return block(`c${i}:capacity`, { has: Boolean(c.capacity), v: capacityView(c.capacity) }, ({ has, v }) =>
    h(
      'div',
      { class: 'part' },
      h('h3', { id: `c-${i}-capacity` }, 'Failover capacity'),
      h('p', { class: 'capacity-head' }, has ? [badge(v.severity, v.severity === 'ok' ? 'ok' : 'short'), ' '] : null, v.headline),
      v.shortfall ? h('p', {}, v.shortfall) : null,
      v.unplaced.length
        ? h(
            'ul',
            { class: 'compact' },
            v.unplaced.map((u) => h('li', {}, u.vm ? [h('strong', {}, u.vm), ': '] : null, u.reason)),
          )
        : null,
      v.notes.map((t) => h('p', { class: 'note' }, t)),
    ),
  );
}

function renderDatastores(c, i) {
  return block(`c${i}:datastores`, (c.datastores ?? []).map(datastoreView), (rows) =>
    h(
      'div',
      { class: 'part' },
      h('h3', { id: `c-${i}-datastores` }, 'Datastores'),
      rows.length
        ? table(
            `c-${i}-datastores`,
            ['Datastore', 'Status', 'Free', 'Capacity', 'Mounted on', 'Forecast'],
            rows.map((r) =>
              h(
                'tr',
                { class: `sev-${worse(r.severity, r.freeNote === 'critical' ? 'bad' : r.freeNote === 'low' ? 'warn' : 'ok')}` },
                h('th', { scope: 'row', class: 'name' }, r.name),
                h('td', {}, badge(r.severity, r.status)),
                h('td', { class: 'num' }, r.freeNote === 'critical' ? badge('bad', `critical: ${r.free}`) : r.freeNote === 'low' ? badge('warn', `low: ${r.free}`) : r.free),
                h('td', { class: 'num' }, r.capacity),
                h('td', {}, r.hosts),
                h('td', {}, r.forecast),
              ),
            ),
            [2, 3],
          )
        : h('p', { class: 'empty' }, 'No datastores reported.'),
    ),
  );
}

function renderProtection(c, i) {
  return block(`c${i}:protection`, protectionRows(c), (rows) =>
    rows.length
      ? h(
          'div',
          { class: 'part' },
          h('h3', { id: `c-${i}-protection` }, 'Storage protection'),
          table(
            `c-${i}-protection`,
            ['VM', 'Host', 'Status', 'Detail'],
            rows.map((r) => h('tr', { class: `sev-${r.severity}` }, h('th', { scope: 'row', class: 'name' }, r.vm), h('td', {}, r.host), h('td', {}, badge(r.severity, r.status)), h('td', {}, r.detail))),
          ),
        )
      : h('div', { class: 'part', hidden: true }),
  );
}

function renderTimeline(c, i) {
  const now = serverNow();
  return block(`c${i}:timeline`, timelineRows(c.recent), (rows) =>
    h(
      'div',
      { class: 'part' },
      h('h3', { id: `c-${i}-timeline` }, 'Recent decisions, newest first'),
      rows.length
        ? table(
            `c-${i}-timeline`,
            ['When', 'Decision', 'About', 'Why'],
            rows.map((r) =>
              h(
                'tr',
                { class: `sev-${r.severity}` },
                h('td', { class: 'when' }, h('time', { datetime: new Date(r.at).toISOString() }, formatClock(r.at, now)), h('span', { class: 'reason' }, ago(r.at))),
                h('td', {}, badge(r.severity, r.kind)),
                h('th', { scope: 'row', class: 'vm' }, r.subject),
                h('td', { class: 'why' }, r.message),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No decisions yet.'),
    ),
  );
}

function renderCluster(c, i) {
  const key = `c${i}:section`;
  used.add(key);
  let section = blocks.get(key)?.el;
  if (!section) {
    section = h('section', { class: 'cluster', id: `c-${i}`, 'aria-labelledby': `c-${i}-title` });
    blocks.set(key, { sig: '', el: section });
  }
  section.classList.toggle('frozen', Boolean(c.frozen));
  place(section, [renderClusterHead(c, i), renderHosts(c, i), renderWaiting(c, i), renderCapacity(c, i), renderDatastores(c, i), renderProtection(c, i), renderTimeline(c, i)]);
  return section;
}

function renderConnection() {
  const conn = document.getElementById('conn');
  const updated = document.getElementById('updated');
  const now = Date.now();
  const every = `refreshes every ${formatSpan(state.period)}`;
  if (state.error) {
    const since = formatClock(state.failingSince, now);
    const data = state.report ? `The page shows its last answer, from ${formatClock(state.fetchedAt, now)}, which may be out of date.` : 'There is no data to show yet.';
    setText(conn, `No answer from the controller since ${since} (${state.error}). ${data} The page keeps trying.`);
    conn.hidden = false;
    document.body.classList.add('stale');
    setText(updated, state.report ? `Stale: last answer ${formatAgo(now - state.fetchedAt)} · ${every}` : `No answer yet · ${every}`);
  } else {
    conn.hidden = true;
    document.body.classList.remove('stale');
    if (state.report) setText(updated, `Updated ${formatClock(state.fetchedAt, now)} · ${every}`);
  }
  const title = state.error ? 'no answer · Vigil' : state.report ? `${overallSummary(state.report, serverNow()).title} · Vigil` : 'Vigil';
  if (document.title !== title) document.title = title;
}

function render() {
  renderConnection();
  const report = state.report;
  if (!report) return;
  used = new Set();
  const now = serverNow();
  const clusters = report.clusters ?? [];
  const summary = overallSummary(report, now);
  const sum = document.getElementById('summary');
  // While the controller does not answer, its last word is history: never show it as a green "all clear".
  const shown = state.error ? { severity: 'warn', label: 'stale', text: `Last known: ${summary.text}` } : { ...summary, label: summary.severity === 'ok' ? 'ok' : summary.severity === 'bad' ? 'attention' : 'check' };
  place(sum, [block('summary', shown, (s) => h('p', { class: `summary sev-${s.severity}` }, badge(s.severity, s.label), ' ', s.text))]);
  place(document.getElementById('overview'), [renderOverview(clusters, now)]);
  const main = document.getElementById('clusters');
  place(
    main,
    clusters.length ? clusters.map((c, i) => renderCluster(c, i)) : [block('none', {}, () => h('p', { class: 'empty' }, 'No clusters are configured.'))],
  );
  for (const key of [...blocks.keys()]) if (!used.has(key)) blocks.delete(key);
  sweepTimes(now);
}

/** Relative times and per-cluster staleness move on between data changes without rebuilding anything. */
function sweepTimes(now) {
  for (const el of document.querySelectorAll('[data-at]')) setText(el, formatAgo(now - Number(el.getAttribute('data-at'))));
  for (const el of document.querySelectorAll('[data-stale-for]')) {
    const age = now - Number(el.getAttribute('data-stale-for'));
    const stale = age > Number(el.getAttribute('data-stale-after'));
    setText(el, stale ? ` — no poll for ${formatSpan(age)}: this cluster's data is old` : '');
    el.classList.toggle('sev-text-warn', stale);
  }
}

/** A bad answer, as opposed to none at all. */
class AnswerError extends Error {}

async function poll() {
  state.busy = true;
  const ctl = new AbortController();
  const timeout = window.setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch('api/v1/status', { cache: 'no-store', signal: ctl.signal, headers: { accept: 'application/json' } });
    if (!res.ok) throw new AnswerError(`HTTP ${res.status}`);
    const report = await res.json().catch(() => {
      throw new AnswerError('the answer was not JSON');
    });
    if (!report || !Array.isArray(report.clusters)) throw new AnswerError('the answer had no clusters');
    state.report = report;
    state.fetchedAt = Date.now();
    state.error = '';
    state.failingSince = 0;
  } catch (e) {
    if (!state.error) state.failingSince = Date.now();
    state.error = e instanceof AnswerError ? e.message : ctl.signal.aborted ? `no answer within ${formatSpan(REQUEST_TIMEOUT_MS)}` : 'network error';
  } finally {
    window.clearTimeout(timeout);
    state.busy = false;
  }
  render();
  schedule();
}

function schedule() {
  window.clearTimeout(state.timer);
  state.timer = undefined;
  if (document.visibilityState === 'hidden') return;
  state.timer = window.setTimeout(() => void poll(), state.period);
}

function onVisibility() {
  if (document.visibilityState === 'hidden') {
    window.clearTimeout(state.timer);
    state.timer = undefined;
  } else if (!state.busy) {
    // Back in view: what it shows may be minutes old, so ask at once.
    void poll();
  }
}

export function start() {
  state.period = refreshMs(window.location.search);
  const every = document.getElementById('every');
  if (every) every.textContent = formatSpan(state.period);
  document.addEventListener('visibilitychange', onVisibility);
  void poll();
}

if (typeof document !== 'undefined' && document.getElementById('clusters')) start();
