// `npm test`: every guard rail, in order, stopping at the first that fails (docs/contributing.md).
// Arguments after `npm test --` go to vitest (e.g. `npm test -- --reporter=json --outputFile=r.json`).
// SVMSIM_TEST_SKIP=pack-check,knip skips steps by name (for a quick local run; CI skips nothing).
import { spawnSync } from 'node:child_process';

const vitestArgs = process.argv.slice(2);
const bin = (name) => `node_modules/.bin/${name}`;
const STEPS = [
  ['lint', bin('biome'), ['check', '--error-on-warnings', '.']],
  ['types', bin('tsc'), ['--noEmit']],
  ['knip', bin('knip'), ['--no-progress']],
  ['build', process.execPath, ['scripts/build.mjs']],
  ['vitest', bin('vitest'), ['run', '--coverage', ...vitestArgs]],
  ['traces', process.execPath, ['bin/svmsim.js', 'test', 'traces/']],
  ['pack-check', process.execPath, ['scripts/pack-check.mjs']],
];

const skip = new Set((process.env.SVMSIM_TEST_SKIP ?? '').split(',').filter(Boolean));
for (const name of skip) {
  if (!STEPS.some(([n]) => n === name)) {
    console.error(
      `npm test: SVMSIM_TEST_SKIP names an unknown step ${name} (steps: ${STEPS.map(([n]) => n).join(', ')})`,
    );
    process.exit(2);
  }
}
const times = [];
const t0 = Date.now();
for (const [name, cmd, args] of STEPS) {
  if (skip.has(name)) {
    times.push(`${name} skipped`);
    continue;
  }
  console.log(`\n== npm test: ${name} (${[cmd === process.execPath ? 'node' : cmd, ...args].join(' ')})`);
  const t = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  times.push(`${name} ${((Date.now() - t) / 1000).toFixed(0)} s`);
  if (r.status !== 0) {
    console.error(`\nnpm test: step ${name} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    process.exit(1);
  }
}
console.log(`\nnpm test: all steps passed in ${((Date.now() - t0) / 1000).toFixed(0)} s (${times.join(', ')})`);
