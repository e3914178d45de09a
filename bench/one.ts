/** Runs one benchmark module (`node dist/bench/one.js cycle`) and prints its lines as JSON. */
const name = process.argv[2];
if (!name || !/^[a-z-]+$/.test(name)) {
  process.stderr.write('usage: one.js <benchmark>\n');
  process.exit(2);
}
const mod = (await import(`./${name}.js`)) as { run: () => Promise<Record<string, unknown>[]> };
for (const line of await mod.run()) process.stdout.write(`${JSON.stringify(line)}\n`);
