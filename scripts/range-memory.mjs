// Range-set growth benchmark (issue 12): memory per live range and per-event CPU as the range set
// grows. A script, not a test: nothing here asserts.
//
//   node scripts/range-memory.mjs [--ranges N] [--chunk 4k|64k] [--order seq|random] [--igpu]
//                                 [--layout adjacent|gap] [--kernel V] [--seed S] [--trace FILE]
//                                 [--core DIR]
//
// Drives the model (src/core, bundled with esbuild) directly, without parsing, with a trace that
// only grows the range set (no munmap): for each of N ranges, mmap a chunk-sized anonymous VMA,
// CPU-write the chunk (so drm_gpusvm_check_pages() passes), then GPU-read it (a fault that creates
// the range, migrates it to VRAM on a dGPU, and binds it). With `--layout adjacent` (default) the
// chunks touch: the VMAs merge into few (vma_merge), and every range is still one chunk because
// the larger candidates reach past the VMA or overlap earlier ranges; `--layout gap` leaves a chunk
// between them (one CPU VMA per range). Ranges are created in address order (`seq`) or in a seeded
// random order (`random`), which inserts into the middle of the sorted structures.
//
// Prints one JSON line: live ranges, heap used (JS heap and array buffers) after a forced GC (node
// --expose-gc; the script re-runs itself with it) minus that of a fresh simulator, bytes per live range, and CPU time
// (user + system, process.cpuUsage: the machine is shared, wall time is not comparable) per event
// over the first and the last 10 % of the events. `--trace FILE` also writes the same events as a
// CSV trace for `svmsim replay` (to compare the whole CLI).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=8192',
      ...(process.env.RANGE_MEMORY_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      self,
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i < 0 ? def : args[i + 1];
};
const ranges = Number(opt('--ranges', '1500000'));
const chunk = opt('--chunk', '4k') === '64k' ? 16 : 1;
const order = opt('--order', 'seq');
const stride = opt('--layout', 'adjacent') === 'gap' ? 2 : 1;
const igpu = args.includes('--igpu');
const kernel = opt('--kernel', '6.18');
const seed = Number(opt('--seed', '42'));
const traceFile = opt('--trace', undefined);
/** The model to measure: src/core, or e.g. test/reference/core-baseline (the straightforward one) for a before figure. */
const core = opt('--core', 'src/core');

const root = path.resolve(path.dirname(self), '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'svmsim-range-memory-'));
const out = path.join(dir, 'core.mjs');
await build({
  stdin: {
    contents: `export { Simulator } from './${core}/simulator.ts'; export { defaultPlatform } from './${core}/platform.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
});
const { Simulator, defaultPlatform } = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true, force: true });

// Base 0x7f0000000000 (page 0x7f0000000, above 2^31 as in real traces).
const BASE = 0x7f0000000;
const slot = new Uint32Array(ranges);
for (let i = 0; i < ranges; i++) slot[i] = i;
if (order === 'random') {
  let a = seed >>> 0; // mulberry32
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = ranges - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const x = slot[i];
    slot[i] = slot[j];
    slot[j] = x;
  }
}

/** The three events of range `k`. */
function* events() {
  let t = 0;
  for (let k = 0; k < ranges; k++) {
    const page = BASE + slot[k] * stride * chunk;
    const span = { page, offset: 0, npages: chunk, sizeAligned: true };
    yield { op: 'mmap', t: (t += 1000), ...span, prot: 'rw', kind: 'anon' };
    yield { op: 'cpu_write', t: (t += 1000), ...span };
    yield { op: 'gpu_read', t: (t += 1000), ...span };
  }
}

if (traceFile !== undefined) {
  const w = createWriteStream(traceFile);
  const hex = (p) => `0x${(p * 4096).toString(16)}`;
  w.write(
    `# svmsim scripts/range-memory.mjs --ranges ${ranges} --chunk ${chunk === 1 ? '4k' : '64k'} --order ${order} --layout ${stride === 2 ? 'gap' : 'adjacent'} --seed ${seed}\n`,
  );
  if (igpu) w.write('#! platform dgfx=false\n');
  w.write('t,op,addr,size\n');
  let buf = '';
  for (const e of events()) {
    buf += `${e.t},${e.op},${hex(e.page)},0x${(e.npages * 4096).toString(16)}\n`;
    if (buf.length > 1 << 16) {
      if (!w.write(buf)) await new Promise((r) => w.once('drain', r));
      buf = '';
    }
  }
  w.write(buf);
  await new Promise((r) => w.end(r));
}

const platform = { ...defaultPlatform(kernel), dgfx: !igpu };
globalThis.gc();
// The JS heap and the typed arrays' backing stores (outside the heap: columns of typed arrays
// would otherwise look free).
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const heap0 = used();
const sim = new Simulator(platform, { record: false });
const total = ranges * 3;
const tenth = Math.max(1, Math.floor(total / 10));
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
let i = 0;
const c0 = cpu();
let firstUs = 0;
let lastStart = 0;
let errors = 0;
for (const e of events()) {
  if (i === tenth) firstUs = cpu() - c0;
  if (i === total - tenth) lastStart = cpu();
  const r = sim.step(e);
  if (r.outcome === 'error') errors++;
  i++;
}
const lastUs = cpu() - lastStart;
globalThis.gc();
const heap1 = used();
const g = sim.context.gpusvm;
let live = 0;
if (typeof g.rangeCount === 'function') live = g.rangeCount();
else for (const n of g.notifiers.values()) live += n.ranges.length;
const bytes = heap1 - heap0;
console.log(
  JSON.stringify({
    core,
    ranges: live,
    chunk: chunk === 1 ? '4k' : '64k',
    order,
    layout: stride === 2 ? 'gap' : 'adjacent',
    dgfx: !igpu,
    kernel,
    events: total,
    errors,
    heapMb: +(bytes / 2 ** 20).toFixed(1),
    bytesPerRange: Math.round(bytes / Math.max(1, live)),
    rssMb: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
    usPerEventFirst10: +(firstUs / tenth).toFixed(2),
    usPerEventLast10: +(lastUs / tenth).toFixed(2),
  }),
);
