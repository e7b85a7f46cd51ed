/**
 * Benchmark worker: one phase per process so that peak RSS (maxRSS) belongs to that phase.
 * Phases: gen (write a mixed trace), scan (read + decode + count lines), parse (read and parse
 * every event), replay (parse + model + debugfs report), validate (validate TRACE --kernel-log LOG),
 * import (import LOG --from dmesg), gen-capture (write a bpftrace capture of N lines),
 * import-bpftrace (`svmsim import` of it to a JSONL trace file), model (parse the whole trace into
 * memory, then time only the Simulator.step loop: the figure comparable with the C floor
 * ../shared/perf-floor/cfault.c). Prints one JSON line of figures.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { csvLine, generate, CSV_HEADER } from '../gen/generate.js';
import { defaultPlatform } from '../core/platform.js';
import { Simulator } from '../core/simulator.js';
import type { CoreEvent } from '../core/events.js';
import { openTrace } from '../trace/index.js';
import { createReporter } from '../report/reporter.js';
import { buildPlatform, replay } from '../replay/replay.js';
import { bpftraceImporter } from '../import/bpftrace.js';
import { TraceWriter } from '../import/writer.js';
import { openResult, parseEventRecord } from '../trace/result.js';
import { diffResults } from '../report/diff.js';
import { renderDiff } from '../report/diff-render.js';
import { main, type CliIo } from '../cli/main.js';
import { nodeIo } from '../cli/node-io.js';

const [phase, file, countArg, extraArg] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
let events = 0;
let extra: Record<string, unknown> = {};
let tEnd: bigint | undefined;

if (phase === 'gen') {
  const fd = openSync(file, 'w');
  let buf = '# svmsim bench: mixed\n' + CSV_HEADER;
  for (const e of generate({
    pattern: 'mixed',
    events: Number(countArg),
    size: 4n << 30n,
    seed: 42,
    base: 0x7f0000000000n,
    stepNs: 1000,
  })) {
    buf += csvLine(e);
    events++;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
} else if (phase === 'scan') {
  const fd = openSync(file, 'r');
  const b = Buffer.allocUnsafe(1 << 20);
  const dec = new StringDecoder('utf8');
  let lines = 0;
  for (;;) {
    const n = readSync(fd, b, 0, b.length, null);
    if (n === 0) break;
    const s = dec.write(n === b.length ? b : b.subarray(0, n));
    for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
  }
  closeSync(fd);
  events = lines;
} else if (phase === 'parse') {
  const h = openTrace(file, file, 'csv');
  // As the replay loop reads: into the reader's reused event when it has one (trees before it: read()).
  const src = h.events as unknown as { read(): unknown; readTransient?: () => unknown };
  const next = src.readTransient ?? (() => src.read());
  while (next() !== undefined) events++;
} else if (phase === 'replay') {
  const h = openTrace(file, file, 'csv');
  const sim = replay(
    h.events,
    buildPlatform(h.platform, {}),
    createReporter({ format: 'debugfs' }, () => {}),
  );
  events = sim.eventsReplayed;
  extra = { faults: sim.snapshot().stats[0].counters.find(([n]) => n === 'svm_pagefault_count')?.[1] };
  void defaultPlatform;
  void Simulator;
} else if (phase === 'model') {
  const m = modelPhase(file);
  events = m.events;
  extra = m.extra;
} else if (phase === 'gen-capture') {
  events = genCapture(file, Number(countArg));
} else if (phase === 'import-bpftrace') {
  const fd = openSync(`${file}.trace.jsonl`, 'w');
  const w = new TraceWriter((s) => void writeSync(fd, s), file);
  await bpftraceImporter.run(file, w, { gpuAccess: 'read', reorderWindowNs: 20_000_000n });
  w.end();
  closeSync(fd);
  events = w.events;
} else if (phase === 'validate' || phase === 'import') {
  // The command in-process, its output counted and dropped.
  let bytes = 0;
  const io: CliIo = { ...nodeIo(), stdout: (s) => void (bytes += s.length), stderr: () => {} };
  const argv =
    phase === 'validate' ? ['validate', file, '--kernel-log', countArg] : ['import', file, '--from', 'dmesg'];
  const code = await main(argv, io);
  tEnd = process.hrtime.bigint();
  events = execLines(phase === 'validate' ? countArg : file);
  extra = { code, outBytes: bytes };
} else if (phase === 'report') {
  // svmsim report FILE -o OUT (countArg is the output path).
  const code = await main(['report', file, '-o', countArg], nodeIo());
  if (code !== 0) throw new Error(`svmsim report exited ${code}`);
}

/**
 * A synthetic 6.18 capture of `n` lines: per 2 MiB block an mmap, then GPU faults (fault, range,
 * alloc_vram + migrate on the first, get_pages, fault_ret), CPU faults on device pages, and every
 * 64 blocks a munmap with its range_remove; one line in 16 arrives 50 us late (per-CPU buffers).
 */
function genCapture(path: string, n: number): number {
  const fd = openSync(path, 'w');
  let buf = '{"svmsim_capture":"bpftrace","v":1,"kernel":"6.18","pid":4242,"ts":1000000000}\n';
  let lines = 1;
  let ts = 1_000_001_000;
  const hex = (v: number) => `0x${v.toString(16)}`;
  const rec = (ev: string, tid: number, rest: string, late = false) => {
    ts += 1000;
    buf += `{"ts":${late ? ts - 50_000 : ts},"ev":"${ev}","tid":${tid}${rest}}\n`;
    lines++;
  };
  for (let b = 0; lines < n; b++) {
    const base = 0x7f0000000000 + b * 0x200000;
    const range = `,"start":"${hex(base)}","end":"${hex(base + 0x200000)}"`;
    rec('mmap', 4242, `,"ret":${base},"addr":"${hex(base)}","len":"0x200000","prot":3,"flags":34,"fd":-1`);
    for (let f = 0; f < 8 && lines < n; f++) {
      rec('fault', 311, `,"addr":"${hex(base + f * 0x10000)}","atomic":${f === 0 ? 1 : 0}`);
      rec('range', 311, range);
      if (f === 0) {
        rec('alloc_vram', 311, range);
        rec('migrate_to_vram', 311, range);
        rec('migrate_to_vram_ret', 311, ',"ret":0');
      }
      rec('get_pages', 311, range, f % 2 === 1);
      rec('fault_ret', 311, ',"ret":0');
      rec('cpu_fault', 4242, `,"addr":"${hex(base + f * 0x10000)}","write":${f & 1}`);
    }
    if (b % 64 === 63) {
      rec('munmap', 4242, `,"addr":"${hex(base)}","len":"0x200000"`);
      rec('range_remove', 311, range);
    }
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return lines;
}

if (phase === 'replay-jsonl') {
  // countArg: the output file; extraArg: a VRAM size for the platform (one knob changed).
  const h = openTrace(file, file, 'csv');
  const fd = openSync(countArg, 'w');
  let buf = '';
  const sim = replay(
    h.events,
    buildPlatform(h.platform, extraArg ? { vramBytes: BigInt(extraArg) << 20n } : {}),
    createReporter({ format: 'jsonl', trace: { name: file, sha256: null } }, (s) => {
      buf += s;
      if (buf.length > 1 << 20) {
        writeSync(fd, buf);
        buf = '';
      }
    }),
  );
  writeSync(fd, buf);
  closeSync(fd);
  events = sim.eventsReplayed;
} else if (phase === 'diff') {
  const a = openResult(file);
  const b = openResult(countArg);
  const src = (r: typeof a) => ({
    ...r,
    file: r.file,
    header: r.header,
    hasEvents: r.hasEvents,
    nextEvent: () => r.nextEvent(),
    parseEvent: (x: Uint8Array) => parseEventRecord(Buffer.from(x), r.file, r.recordLine),
    nextRange: () => r.nextRange(),
    tail: () => r.tail(),
  });
  const d = diffResults(src(a), src(b));
  const text = renderDiff(d, 'text');
  events = d.events.count;
  extra = { differing: d.events.differing, reportBytes: text.length };
}
/**
 * The model alone, as cfault.c times it: the whole trace is parsed first into columns (one
 * reused event object is filled per step, so the parsed trace costs ~30 bytes per event, not an
 * object each), then only the Simulator.step loop runs under the CPU clock, with record:false as a
 * debugfs or summary replay does. Figures: modelCpuMs / modelMs of the loop alone, ns per event
 * and per GPU fault, and the counters cfault prints, to check that both did the same work.
 */
function modelPhase(path: string): { events: number; extra: Record<string, unknown> } {
  const h = openTrace(path, path, 'csv');
  const src = h.events as unknown as { read(): (CoreEvent & { core: CoreEvent }) | undefined };
  const STR = ['op', 'prot', 'kind', 'advice', 'access', 'region', 'preferred', 'atomic'] as const;
  const names: (string | undefined)[] = [undefined];
  const ids = new Map<string | undefined, number>([[undefined, 0]]);
  const intern = (v: string | undefined): number => {
    let i = ids.get(v);
    if (i === undefined) {
      i = names.length;
      names.push(v);
      ids.set(v, i);
    }
    return i;
  };
  let cap = 1 << 16;
  let n = 0;
  let num = new Float64Array(cap * 5); // t, page, offset, npages, pid (-1 = none)
  let str = new Uint8Array(cap * STR.length);
  let aligned = new Uint8Array(cap);
  for (let e = src.read(); e !== undefined; e = src.read()) {
    if (n === cap) {
      cap *= 2;
      const grow = <T extends Float64Array | Uint8Array>(a: T, k: number): T => {
        const b = new (a.constructor as new (n: number) => T)(cap * k);
        b.set(a);
        return b;
      };
      num = grow(num, 5);
      str = grow(str, STR.length);
      aligned = grow(aligned, 1);
    }
    const c = e.core as CoreEvent & Record<string, unknown>;
    num[n * 5] = c.t;
    num[n * 5 + 1] = c.page;
    num[n * 5 + 2] = c.offset;
    num[n * 5 + 3] = c.npages;
    num[n * 5 + 4] = c.pid ?? -1;
    for (let k = 0; k < STR.length; k++) {
      const v = c[STR[k]] as string | undefined;
      if (names.length > 255 && !ids.has(v)) throw new Error('too many distinct enum values');
      str[n * STR.length + k] = intern(v);
    }
    aligned[n] = c.sizeAligned ? 1 : 0;
    n++;
  }
  const platform = buildPlatform(h.platform, {});
  const sim = new Simulator(platform, { record: false });
  // One object of one shape, refilled per event (the model keeps no reference to an event).
  const ev = {
    op: '',
    t: 0,
    page: 0,
    offset: 0,
    npages: 0,
    sizeAligned: false,
    pid: undefined as number | undefined,
    prot: undefined as string | undefined,
    kind: undefined as string | undefined,
    advice: undefined as string | undefined,
    access: undefined as string | undefined,
    region: undefined as string | undefined,
    preferred: undefined as string | undefined,
    atomic: undefined as string | undefined,
  };
  const core = ev as unknown as CoreEvent;
  // Collect the parse's garbage now, so that the loop is charged only for its own.
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const w0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const o = i * 5;
    const so = i * STR.length;
    ev.op = names[str[so]]!;
    ev.t = num[o];
    ev.page = num[o + 1];
    ev.offset = num[o + 2];
    ev.npages = num[o + 3];
    ev.pid = num[o + 4] < 0 ? undefined : num[o + 4];
    ev.sizeAligned = aligned[i] === 1;
    ev.prot = names[str[so + 1]];
    ev.kind = names[str[so + 2]];
    ev.advice = names[str[so + 3]];
    ev.access = names[str[so + 4]];
    ev.region = names[str[so + 5]];
    ev.preferred = names[str[so + 6]];
    ev.atomic = names[str[so + 7]];
    sim.step(core);
  }
  const c1 = process.cpuUsage(c0);
  const w1 = process.hrtime.bigint();
  const modelCpuMs = (c1.user + c1.system) / 1000;
  const fin = sim.snapshot();
  const counters = new Map(fin.stats[0].counters);
  const faults = counters.get('svm_pagefault_count') ?? fin.metrics.gpuFaults;
  return {
    events: n,
    extra: {
      modelCpuMs,
      modelMs: Number(w1 - w0) / 1e6,
      nsPerEvent: (modelCpuMs * 1e6) / n,
      nsPerFault: faults > 0 ? (modelCpuMs * 1e6) / faults : 0,
      svm_pagefault_count: faults,
      tlb_inval_count: counters.get('tlb_inval_count'),
      svm_tlb_inval_count: counters.get('svm_tlb_inval_count'),
      svm_device_copy_kb: counters.get('svm_device_copy_kb'),
      svm_cpu_copy_kb: counters.get('svm_cpu_copy_kb'),
      migrationsToVram: fin.metrics.migrationsToVram,
      migrationsToRam: fin.metrics.migrationsToRam,
      evictions: fin.metrics.evictions,
    },
  };
}

/** Lines of a file (the log), for the figures. */
function execLines(f: string): number {
  const fd = openSync(f, 'r');
  const b = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  for (;;) {
    const n = readSync(fd, b, 0, b.length, null);
    if (n === 0) break;
    for (let i = b.indexOf(10); i >= 0 && i < n; i = b.indexOf(10, i + 1)) lines++;
  }
  closeSync(fd);
  return lines;
}
const ms = Number((tEnd ?? process.hrtime.bigint()) - t0) / 1e6;
const rssMb = process.resourceUsage().maxRSS / 1024;
const cpu = process.cpuUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(JSON.stringify({ phase, events, ms, cpuMs, rssMb, ...extra }) + '\n');
