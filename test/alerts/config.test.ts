/** The `alerts:` section: defaults, checks placed on the text, and secrets through the config loader's ${env:}/${file:}. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertsConfigSchema } from '../../src/alerts/config.js';
import { formatProblem } from '../../src/config/problems.js';
import { substitute } from '../../src/config/substitute.js';
import { checkSchema, readYamlFile } from '../../src/config/yaml-source.js';
import { tempDir } from '../helpers/tmp.js';

function load(yaml: string, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
  const dir = tempDir({ 'vigil.yaml': yaml, ...files });
  const file = readYamlFile(join(dir, 'vigil.yaml'), 'vigil.yaml');
  const d = file.documents[0];
  if (!d) throw new Error('no document');
  const subst = substitute(d, d.data, dir, env);
  const checked = checkSchema(d, alertsConfigSchema, (subst.value as { alerts?: unknown }).alerts ?? {}, ['alerts']);
  return { subst, checked, problems: [...subst.problems, ...(checked.ok ? [] : checked.problems)].map(formatProblem) };
}

describe('alerts config', () => {
  it('fills defaults', () => {
    const c = alertsConfigSchema.parse({});
    expect(c).toEqual({
      enabled: true,
      evaluateEvery: 15_000,
      staleAfter: 3_600_000,
      drainTimeout: 5_000,
      thresholds: {
        hostCpu: { enabled: true, warning: 85, critical: 95, margin: 5, for: 300_000 },
        hostMemory: { enabled: true, warning: 85, critical: 95, margin: 5, for: 300_000 },
        datastoreFree: { enabled: true, warning: 15, critical: 5, margin: 5, for: 300_000 },
      },
      receivers: [],
    });
  });

  it('reads every receiver type, with secrets from ${env:} and ${file:}', () => {
    const { problems, checked } = load(
      `alerts:
  evaluateEvery: 30s
  thresholds:
    hostMemory: {warning: 80, critical: 90, for: 2m}
    datastoreFree: {warning: 20, critical: null}
  receivers:
    - name: ops
      type: webhook
      url: https://alerts.example/vigil
      hmacSecret: \${file:./secrets/hmac}
      severities: [warning, critical]
    - name: chat
      type: slack
      url: \${env:SLACK_WEBHOOK_URL}
      kinds: [failover, unplaced, frozen]
    - name: teams
      type: teams
      url: \${env:TEAMS_URL}
      sendResolved: false
    - name: mail
      type: email
      host: smtp.example
      username: vigil
      password: \${file:./secrets/smtp}
      from: vigil@example.com
      to: [oncall@example.com]
      caFile: ./certs/ca.pem
      retry: {attempts: 8, minDelay: 5s, maxDelay: 5m}
`,
      { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/xyz', TEAMS_URL: 'https://prod.example/workflows/1?sig=abc' },
      { 'secrets/hmac': 'hmac-from-file\n', 'secrets/smtp': 'smtp-pass\n' },
    );
    expect(problems).toEqual([]);
    if (!checked.ok) throw new Error('unreachable');
    const [ops, chat, teams, mail] = checked.value.receivers;
    expect(ops).toMatchObject({ type: 'webhook', hmacSecret: 'hmac-from-file', severities: ['warning', 'critical'], timeout: 10_000, queueSize: 100 });
    expect(chat).toMatchObject({ type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/xyz', kinds: ['failover', 'unplaced', 'frozen'] });
    expect(teams).toMatchObject({ type: 'teams', sendResolved: false });
    expect(mail).toMatchObject({ type: 'email', password: 'smtp-pass', security: 'starttls', retry: { attempts: 8, minDelay: 5_000, maxDelay: 300_000 } });
    expect(checked.value.thresholds.hostMemory).toEqual({ enabled: true, warning: 80, critical: 90, margin: 5, for: 120_000 });
    expect(checked.value.thresholds.datastoreFree).toMatchObject({ warning: 20, critical: null });
  });

  it('places each problem on the text, and never quotes a secret', () => {
    const { problems } = load(
      `alerts:
  receivers:
    - name: chat
      type: slack
      url: \${env:BAD_URL}
      chanel: "#ops"
    - name: chat
      type: pager
    - name: mail
      type: email
      host: smtp.example
      security: none
      username: u
      password: \${env:SMTP_PASSWORD}
      from: a@b.c
      to: []
  thresholds:
    hostCpu: {warning: 95, critical: 90}
`,
      { BAD_URL: 'hooks.slack.com/services/SECRET-PATH', SMTP_PASSWORD: 'hunter2-secret' },
    );
    expect(problems).toEqual([
      'vigil.yaml:18:38: alerts.thresholds.hostCpu.critical: critical must be above warning',
      'vigil.yaml:5:12: alerts.receivers[0].url: must be an http(s) URL',
      expect.stringMatching(/^vigil\.yaml:6:7: alerts\.receivers\[0\]: unknown key "chanel"/),
      "vigil.yaml:8:13: alerts.receivers[1].type: Invalid discriminator value. Expected 'webhook' | 'slack' | 'teams' | 'email'",
      'vigil.yaml:16:11: alerts.receivers[2].to: Too small: expected array to have >=1 items',
      'vigil.yaml:14:17: alerts.receivers[2].password: a password is never sent over an unencrypted connection: use security starttls or tls',
    ]);
    const text = problems.join('\n');
    expect(text).not.toContain('SECRET-PATH');
    expect(text).not.toContain('hunter2');
  });

  it('an unset ${env:} is a problem at its place, and its name, not a value, is reported', () => {
    const { problems } = load('alerts:\n  receivers:\n    - {name: x, type: webhook, url: "https://h.example/", bearerToken: "${env:HOOK_TOKEN}"}\n');
    expect(problems[0]).toMatch(/^vigil\.yaml:3:.*environment variable HOOK_TOKEN is not set/);
  });
});
