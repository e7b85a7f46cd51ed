/**
 * DOC: Synthetic trace generator (`svmsim gen`)
 *
 * Deterministic (seeded) traces for the access patterns people ask about. Each pattern is a
 * generator of events, so a 10-million-event trace streams out without being held in memory.
 * The same seed, pattern and sizes always give the same bytes.
 *
 * Patterns:
 * - streaming:  GPU sweeps a buffer page by page; CPU fills it first.
 * - random:     uniform random CPU and GPU accesses over a buffer.
 * - hotcold:    90% of accesses hit a hot 10% of the buffer.
 * - pingpong:   CPU and GPU alternate on the same 2M chunks.
 * - atomic:     GPU atomics contended by CPU reads.
 * - oversub:    GPU sweeps a buffer larger than VRAM: without --vram the header sets VRAM to half
 *               the working set (oversubDefaultVram), so BOs are evicted at the defaults.
 * - churn:      mmap / touch / munmap of many small buffers.
 * - sparse:     scattered 4K CPU writes, then GPU reads (4K ranges).
 * - mixed:      a GPU sweep over its working set, CPU work on its own buffer, occasional
 *               ping-pong, atomics and churn (the benchmark's workload).
 */

export const PATTERNS = [
  'streaming',
  'random',
  'hotcold',
  'pingpong',
  'atomic',
  'oversub',
  'churn',
  'sparse',
  'mixed',
] as const;
export type Pattern = (typeof PATTERNS)[number];

/** One line per pattern, for `svmsim gen --help` and docs/gen.md. */
export const PATTERN_DOCS: Readonly<Record<Pattern, string>> = {
  streaming: 'the CPU fills the buffer, then the GPU reads it page by page, over and over',
  random: 'uniform random CPU writes/reads (30%/10%) and GPU reads/writes (40%/20%) over the buffer',
  hotcold: '90% of accesses hit a hot 10% of the buffer (80% GPU reads, 20% CPU writes)',
  pingpong: 'a GPU write to a random 2M chunk, then a CPU read of the same chunk',
  atomic: 'GPU atomics on random pages, 30% followed by a CPU read of the same page',
  oversub: 'the GPU sweeps the buffer 2M at a time, with VRAM half the buffer (or --vram)',
  churn: 'mmap, CPU write, GPU read and munmap of small buffers (4K to 2M)',
  sparse: 'a CPU write then a GPU read of random 4K pages (4K ranges)',
  mixed: 'a GPU sweep, CPU work on its own buffer, rare ping-pong, atomics, churn (the benchmark)',
};

/**
 * The VRAM the trace header gives when --vram is not set: half the working set for "oversub"
 * (rounded down to 4K), so its sweep really oversubscribes; none (the platform default, 16G) for
 * the other patterns.
 */
export function defaultVram(pattern: Pattern, size: bigint): bigint | undefined {
  if (pattern !== 'oversub') return undefined;
  const half = size / 2n;
  return half - (half % 4096n);
}

/** The encoding of `svmsim gen -o FILE` when --format is not given: by the file's extension. */
export function formatForOutput(output: string | undefined): 'csv' | 'jsonl' {
  return output !== undefined && /\.jsonl$/i.test(output) ? 'jsonl' : 'csv';
}

export interface GenOptions {
  pattern: Pattern;
  /** Number of events to produce. */
  events: number;
  /** Working-set size in bytes. */
  size: bigint;
  seed: number;
  /** Base address of the working set. */
  base: bigint;
  /** Mean time between events in ns. */
  stepNs: number;
}

export interface GenEvent {
  t: number;
  op: string;
  addr: bigint;
  size?: bigint;
  extra?: [string, string][];
}

/**
 * mulberry32: a small, fast, well-distributed seeded PRNG. Its state is kept in a Uint32Array: a
 * captured `let` above 2^30 would be a heap number, allocated anew at every draw.
 */
export function prng(seed: number): () => number {
  const s = new Uint32Array(1);
  s[0] = seed >>> 0;
  return () => {
    const a = (s[0] + 0x6d2b79f5) >>> 0;
    s[0] = a;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAGE = 4096n;
const TWO_M = 2n << 20n;
/** The largest access a trace may hold (MAX_ACCESS_BYTES in src/trace/rules.ts): bigger fills are split. */
export const MAX_FILL = 64n << 30n;

/** A CPU fill of [addr, addr+size) as writes of at most MAX_FILL each. */
function* cpuFill(addr: bigint, size: bigint): Generator<Omit<GenEvent, 't'>> {
  for (let off = 0n; off < size; off += MAX_FILL)
    yield { op: 'cpu_write', addr: addr + off, size: size - off < MAX_FILL ? size - off : MAX_FILL };
}

/** Highest address (exclusive) a generated trace touches: the working set, plus the CPU buffer of "mixed". */
export function generatedEnd(base: bigint, size: bigint): bigint {
  const pages = size / PAGE;
  const cpuPages = pages / 4n > 512n ? pages / 4n : 512n;
  return base + size + cpuPages * PAGE;
}

function* patternEvents(o: GenOptions, rnd: () => number, pattern: Pattern): Generator<Omit<GenEvent, 't'>> {
  const pages = Number(o.size / PAGE);
  const at = (p: number) => o.base + BigInt(p) * PAGE;
  const randPage = () => Math.floor(rnd() * pages);
  switch (pattern) {
    case 'streaming':
      yield { op: 'mmap', addr: o.base, size: o.size };
      yield* cpuFill(o.base, o.size);
      for (;;) for (let p = 0; p < pages; p++) yield { op: 'gpu_read', addr: at(p) };
    case 'random':
      yield { op: 'mmap', addr: o.base, size: o.size };
      for (;;) {
        const r = rnd();
        const p = randPage();
        yield { op: r < 0.3 ? 'cpu_write' : r < 0.4 ? 'cpu_read' : r < 0.8 ? 'gpu_read' : 'gpu_write', addr: at(p) };
      }
    case 'hotcold': {
      yield { op: 'mmap', addr: o.base, size: o.size };
      const hot = Math.max(1, Math.floor(pages / 10));
      for (;;) {
        const p = rnd() < 0.9 ? Math.floor(rnd() * hot) : randPage();
        yield { op: rnd() < 0.2 ? 'cpu_write' : 'gpu_read', addr: at(p) };
      }
    }
    case 'pingpong': {
      yield { op: 'mmap', addr: o.base, size: o.size };
      const chunks = Math.max(1, Number(o.size / TWO_M));
      for (;;) {
        const c = BigInt(Math.floor(rnd() * chunks)) * TWO_M;
        yield { op: 'gpu_write', addr: o.base + c };
        yield { op: 'cpu_read', addr: o.base + c + BigInt(Math.floor(rnd() * 512)) * PAGE };
      }
    }
    case 'atomic':
      yield { op: 'mmap', addr: o.base, size: o.size };
      for (;;) {
        const p = randPage();
        yield { op: 'gpu_atomic', addr: at(p) };
        if (rnd() < 0.3) yield { op: 'cpu_read', addr: at(p) };
      }
    case 'oversub':
      yield { op: 'mmap', addr: o.base, size: o.size };
      for (;;) for (let p = 0; p < pages; p += 512) yield { op: 'gpu_read', addr: at(p) };
    case 'churn': {
      const slots = Math.max(1, Number(o.size / TWO_M));
      for (;;) {
        const s = o.base + BigInt(Math.floor(rnd() * slots)) * TWO_M;
        const len = BigInt(1 + Math.floor(rnd() * 512)) * PAGE;
        yield { op: 'mmap', addr: s, size: len };
        yield { op: 'cpu_write', addr: s, size: PAGE };
        yield { op: 'gpu_read', addr: s };
        yield { op: 'munmap', addr: s, size: len };
      }
    }
    case 'sparse':
      yield { op: 'mmap', addr: o.base, size: o.size };
      for (;;) {
        const p = randPage();
        yield { op: 'cpu_write', addr: at(p) };
        yield { op: 'gpu_read', addr: at(p) };
      }
    case 'mixed': {
      // A realistic mix: a GPU kernel sweeping its working set (mostly hits once ranges exist),
      // the CPU working on its own buffer, occasional CPU reads of GPU results (ping-pong),
      // a few atomics, and rare free/realloc churn.
      const cpuBase = o.base + o.size;
      const cpuPages = Math.max(512, Math.floor(pages / 4));
      yield { op: 'mmap', addr: o.base, size: o.size };
      yield { op: 'mmap', addr: cpuBase, size: BigInt(cpuPages) * PAGE };
      yield* cpuFill(cpuBase, BigInt(cpuPages) * PAGE);
      const window = Math.min(pages, 16384); // 64 MiB sweeps
      let cursor = 0;
      let winStart = 0;
      for (;;) {
        const r = rnd();
        if (r < 0.62) {
          // GPU sweep, page by page
          yield { op: rnd() < 0.7 ? 'gpu_read' : 'gpu_write', addr: at(winStart + cursor) };
          cursor++;
          if (cursor >= window) {
            cursor = 0;
            winStart = Math.floor(rnd() * Math.max(1, pages - window));
          }
        } else if (r < 0.97) {
          const p = Math.floor(rnd() * cpuPages);
          yield { op: rnd() < 0.5 ? 'cpu_read' : 'cpu_write', addr: cpuBase + BigInt(p) * PAGE };
        } else if (r < 0.9985) {
          yield { op: 'gpu_read', addr: at(winStart + Math.floor(rnd() * window)) };
        } else if (r < 0.9995) {
          // the CPU reads a GPU result: pulls its 2M allocation back
          yield { op: 'cpu_read', addr: at(winStart + Math.floor(rnd() * window)) };
        } else if (r < 0.99995) {
          yield { op: 'gpu_atomic', addr: at(winStart + Math.floor(rnd() * window)) };
        } else {
          const c = o.base + BigInt(Math.floor(rnd() * Math.max(1, Number(o.size / TWO_M)))) * TWO_M;
          yield { op: 'munmap', addr: c, size: TWO_M };
          yield { op: 'mmap', addr: c, size: TWO_M };
        }
      }
    }
  }
}

/** The events of a generated trace, in time order. */
export function* generate(o: GenOptions): Generator<GenEvent> {
  const rnd = prng(o.seed);
  let t = 0;
  let n = 0;
  for (const e of patternEvents(o, rnd, o.pattern)) {
    if (n++ >= o.events) return;
    yield { ...e, t };
    t += Math.max(1, Math.round(o.stepNs * (0.5 + rnd())));
  }
}

const hex = (x: bigint) => '0x' + x.toString(16);

/** CSV header for generated traces. */
export const CSV_HEADER = 't,op,addr,size\n';

/** One event as a CSV line. */
export function csvLine(e: GenEvent): string {
  return `${e.t},${e.op},${hex(e.addr)},${e.size === undefined ? '' : hex(e.size)}\n`;
}

/** One event as a JSONL line. */
export function jsonlLine(e: GenEvent): string {
  const size = e.size === undefined ? '' : `,"size":"${hex(e.size)}"`;
  return `{"t":${e.t},"op":"${e.op}","addr":"${hex(e.addr)}"${size}}\n`;
}
