// Types of the page script's pure helpers, for the unit tests that import it under Node. The page itself needs none.
import type { StatusDatastore, StatusHost, StatusVm } from '../../status.js';
import type { CapacityReport } from '../../../plan/capacity.js';
import type { Decision } from '../../../decisions.js';

export type Severity = 'bad' | 'warn' | 'info' | 'ok';

/** The part of a cluster's status the page reads; the lead's newer fields are optional so older controllers still render. */
export interface PageCluster {
  readonly name: string;
  readonly provider?: string;
  readonly mode?: string;
  readonly frozen?: boolean;
  readonly frozenReason?: string;
  readonly lastPoll?: string;
  readonly lastError?: string;
  readonly pollIntervalMs?: number;
  readonly hosts?: readonly StatusHost[];
  readonly vms?: readonly { readonly name: string; readonly host: string; readonly power: string; readonly protection?: StatusVm['protection']; readonly replication?: StatusVm['replication'] }[];
  readonly datastores?: readonly StatusDatastore[];
  readonly inflight?: readonly object[];
  readonly unplaced?: readonly { readonly vm: string; readonly from: string; readonly reason: string; readonly priority?: string }[];
  readonly awaitingFence?: readonly { readonly vm: string; readonly from: string; readonly reason: string }[];
  readonly fencing?: readonly { readonly host: string; readonly state: 'fencing' | 'failed'; readonly detail: string; readonly attempts: number }[];
  readonly recent?: readonly Decision[];
  readonly capacity?: CapacityReport;
}

export interface Problem {
  readonly severity: Severity;
  readonly text: string;
}

export const SEVERITIES: readonly Severity[];
export const LOW_FREE_PERCENT: number;
export function glyph(severity: Severity): string;
export function worse(a: Severity, b: Severity): Severity;
export function healthSeverity(health: string): Severity;
export function managerSeverity(state: string): Severity;
export function managerLabel(state: string): string;
/** Kinds are open: a newer controller may send kinds this page does not know. */
export interface DecisionLike {
  readonly kind: string;
  readonly data?: Readonly<Record<string, unknown>>;
}
export function decisionSeverity(d: DecisionLike): Severity;
export function decisionLabel(d: DecisionLike): string;
export function formatNumber(n: unknown): string;
export function formatGiB(n: number | null | undefined): string;
export function percent(part: number | null | undefined, whole: number | null | undefined): number | null;
export function formatAgo(ms: number): string;
export function formatSpan(ms: number): string;
export function formatClock(at: number, now: number): string;
export function plural(n: number, one: string, many?: string): string;
export function listOf(items: readonly string[], max?: number): string;
export function vmCountText(total: number, powers: ReadonlyMap<string, number>): string;
export function hostView(
  host: StatusHost,
  cluster: PageCluster,
): {
  name: string;
  health: string;
  healthSeverity: Severity;
  healthReason: string;
  state: string;
  stateSeverity: Severity;
  severity: Severity;
  vms: string;
  cpu: string;
  memory: string;
  labels: string;
  fencing?: { severity: Severity; text: string };
};
export function waitingRows(cluster: PageCluster): { severity: Severity; status: string; vm: string; from: string; to: string; reason: string }[];
export function datastoreView(ds: StatusDatastore): { name: string; severity: Severity; status: string; free: string; freeNote: '' | 'low' | 'critical' | 'unknown'; capacity: string; hosts: string; forecast: string };
export function fullIn(days: number): string;
export function protectionRows(cluster: PageCluster): { severity: Severity; vm: string; host: string; status: string; detail: string }[];
export function capacityView(cap: CapacityReport | undefined): { severity: Severity; headline: string; shortfall: string; unplaced: { vm: string; reason: string }[]; notes: string[] };
export function timelineRows(recent: readonly Decision[] | undefined): { at: number; severity: Severity; kind: string; subject: string; message: string }[];
export function staleAfterMs(cluster: PageCluster): number;
export function clusterProblems(cluster: PageCluster, now: number): Problem[];
export function overallSummary(report: { readonly clusters?: readonly PageCluster[] }, now: number): { severity: Severity; text: string; title: string };
export function refreshMs(search: string): number;
export function start(): void;
