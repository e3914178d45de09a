/**
 * The scenario suite: every folder under test/scenarios is played and its
 * log compared with expected.log. A missing expected.log is written for
 * review and the test fails; `UPDATE_SCENARIOS=1` rewrites them all.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScenario } from './runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const folders = readdirSync(here)
  .filter((f) => statSync(join(here, f)).isDirectory() && existsSync(join(here, f, 'timeline.yaml')))
  .sort();

describe('scenarios', () => {
  it('has scenario folders', () => {
    expect(folders.length).toBeGreaterThanOrEqual(5);
  });

  for (const name of folders) {
    it(name, async () => {
      const dir = join(here, name);
      expect(existsSync(join(dir, 'README.md')), `${name} needs a README.md saying what it shows`).toBe(true);
      const result = await runScenario(dir);
      if (!result.expectLabErrors) expect(result.labErrors, 'the lab recorded a violation (a VM started twice, or on a dead host)').toEqual([]);
      const expectedFile = join(dir, 'expected.log');
      if (process.env.UPDATE_SCENARIOS === '1' || !existsSync(expectedFile)) {
        const existed = existsSync(expectedFile);
        writeFileSync(expectedFile, result.log);
        if (!existed) expect.fail(`${name}: expected.log was missing; wrote it for review`);
      }
      expect(result.log).toBe(readFileSync(expectedFile, 'utf8'));
    });
  }
});
