/**
 * A cluster's fencing agents, from its `fencing.agents` config (schemas in
 * agent-config.ts): built once, and chosen per host by their `hosts` globs,
 * in config order.
 */
import { agentsForHost, createFenceAgents, type FenceAgentEntry } from './agent-config.js';
import type { FenceAgent, FenceContext, HttpTransport } from './types.js';

export function buildAgentSelector(entries: readonly FenceAgentEntry[], ctx: FenceContext, transport?: HttpTransport): (host: string) => FenceAgent[] {
  const agents = createFenceAgents(entries, ctx, transport);
  return (host) => agentsForHost(agents, host).map((a) => a.agent);
}
