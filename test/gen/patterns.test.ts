/**
 * `svmsim gen`: every pattern makes the events its description (src/gen/generate.ts PATTERN_DOCS,
 * `svmsim gen --help`, docs/gen.md) promises, read back through the trace reader; `-o x.jsonl`
 * writes JSONL; `oversub` oversubscribes VRAM at its defaults (counters derived by hand).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PATTERN_DOCS, PATTERNS, type Pattern } from '../../src/gen/generate.js';
import { parseTrace } from '../../src/trace/index.js';
import { runCli, runCliFiles } from '../cli-harness.js';

const BASE = 0x7f0000000000n;
const M2 = 2n << 20n;
const PAGE = 4096n;

async function gen(pattern: Pattern, args: string[] = []) {
  const r = await runCli(['gen', pattern, ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return parseTrace(r.stdout, { file: `${pattern}.csv`, format: 'csv' });
}

const ops = (evs: { core: { op: string } }[]) => evs.map((e) => e.core.op);
const inBuf = (a: bigint, size: bigint) => a >= BASE && a < BASE + size;

describe('svmsim gen: each pattern as described', () => {
  test('every pattern: N events, times increasing, seeded (same seed same bytes; another seed other bytes, except the sweeps streaming and oversub)', async () => {
    for (const p of PATTERNS) {
      const t = await gen(p, ['-n', '300', '--size', '8M']);
      expect(t.events).toHaveLength(300);
      const times = t.events.map((e) => e.core.t);
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
      const a = await runCli(['gen', p, '-n', '300', '--size', '8M', '--seed', '5']);
      const b = await runCli(['gen', p, '-n', '300', '--size', '8M', '--seed', '5']);
      const c = await runCli(['gen', p, '-n', '300', '--size', '8M', '--seed', '6']);
      expect(a.stdout).toBe(b.stdout);
      if (p !== 'streaming' && p !== 'oversub') expect(c.stdout).not.toBe(a.stdout); // the sweeps draw only time steps
    }
  });

  test('streaming: one mmap, the CPU fills the buffer, then gpu_read page by page, wrapping', async () => {
    const size = 8n << 20n;
    const t = await gen('streaming', ['-n', String(2 + 2048 + 10), '--size', '8M']);
    expect(t.events[0]).toMatchObject({ core: { op: 'mmap' }, addr: BASE, size });
    expect(t.events[1]).toMatchObject({ core: { op: 'cpu_write' }, addr: BASE, size });
    const reads = t.events.slice(2);
    expect(new Set(ops(reads))).toEqual(new Set(['gpu_read']));
    reads.forEach((e, i) => {
      expect(e.addr).toBe(BASE + BigInt(i % 2048) * PAGE);
    });
  });

  test('random: the four accesses in about 30/10/40/20 %, on pages of the buffer', async () => {
    const t = await gen('random', ['-n', '20001', '--size', '8M']);
    expect(t.events[0]).toMatchObject({ core: { op: 'mmap' }, addr: BASE, size: 8n << 20n });
    const rest = t.events.slice(1);
    const share = (op: string) => rest.filter((e) => e.core.op === op).length / rest.length;
    expect(share('cpu_write')).toBeCloseTo(0.3, 1);
    expect(share('cpu_read')).toBeCloseTo(0.1, 1);
    expect(share('gpu_read')).toBeCloseTo(0.4, 1);
    expect(share('gpu_write')).toBeCloseTo(0.2, 1);
    for (const e of rest) expect(inBuf(e.addr, 8n << 20n) && e.addr % PAGE === 0n).toBe(true);
  });

  test('hotcold: 90 % + 10 % × 10 % = 91 % of accesses in the hot first tenth; 20 % cpu_write, 80 % gpu_read', async () => {
    const size = 40n << 20n; // 10240 pages, hot = the first 1024
    const t = await gen('hotcold', ['-n', '20001', '--size', '40M']);
    const rest = t.events.slice(1);
    const hot = rest.filter((e) => e.addr < BASE + size / 10n).length / rest.length;
    expect(hot).toBeCloseTo(0.91, 1);
    expect(rest.filter((e) => e.core.op === 'cpu_write').length / rest.length).toBeCloseTo(0.2, 1);
    expect(new Set(ops(rest))).toEqual(new Set(['cpu_write', 'gpu_read']));
  });

  test('pingpong: gpu_write at a 2M chunk start, then cpu_read of a page of the same chunk', async () => {
    const t = await gen('pingpong', ['-n', '2001', '--size', '8M']);
    const rest = t.events.slice(1);
    for (let i = 0; i < rest.length; i += 2) {
      expect(rest[i].core.op).toBe('gpu_write');
      expect((rest[i].addr - BASE) % M2).toBe(0n);
      expect(rest[i + 1].core.op).toBe('cpu_read');
      expect(rest[i + 1].addr - rest[i].addr).toBeLessThan(M2);
      expect(rest[i + 1].addr).toBeGreaterThanOrEqual(rest[i].addr);
    }
    expect(new Set(rest.map((e) => (e.addr - BASE) / M2)).size).toBe(4); // all four chunks of 8M
  });

  test('atomic: gpu_atomic on random pages, about 30 % followed by a cpu_read of the same page', async () => {
    const t = await gen('atomic', ['-n', '10001', '--size', '8M']);
    const rest = t.events.slice(1);
    let atomics = 0;
    let reads = 0;
    rest.forEach((e, i) => {
      if (e.core.op === 'gpu_atomic') atomics++;
      else {
        expect(e.core.op).toBe('cpu_read');
        expect(rest[i - 1]).toMatchObject({ core: { op: 'gpu_atomic' }, addr: e.addr });
        reads++;
      }
    });
    expect(reads / atomics).toBeCloseTo(0.3, 1);
  });

  test('oversub: gpu_read every 2M, sweeping again and again; the header sets VRAM to half the buffer (default 256M → 128M)', async () => {
    const t = await gen('oversub', ['-n', '300']);
    expect(t.platform.vramBytes).toBe(128n << 20n);
    expect(t.events[0]).toMatchObject({ core: { op: 'mmap' }, addr: BASE, size: 256n << 20n });
    t.events.slice(1).forEach((e, i) => {
      expect(e).toMatchObject({ core: { op: 'gpu_read' }, addr: BASE + BigInt(i % 128) * M2 });
    });
    expect((await gen('oversub', ['-n', '3', '--size', '6M'])).platform.vramBytes).toBe(3n << 20n);
    expect((await gen('oversub', ['-n', '3', '--vram', '1G'])).platform.vramBytes).toBe(1n << 30n);
    // no other pattern writes a header without --vram
    expect((await gen('streaming', ['-n', '3'])).platform.vramBytes).toBeUndefined();
  });

  test('churn: mmap, cpu_write of its first page, gpu_read, munmap of 4K..2M at a 2M slot; no initial mmap', async () => {
    const t = await gen('churn', ['-n', '4000', '--size', '8M']);
    for (let i = 0; i < t.events.length; i += 4) {
      const [m, w, r, u] = t.events.slice(i, i + 4);
      expect(ops([m, w, r, u])).toEqual(['mmap', 'cpu_write', 'gpu_read', 'munmap']);
      expect((m.addr - BASE) % M2).toBe(0n);
      expect(inBuf(m.addr, 8n << 20n)).toBe(true);
      expect(m.size >= PAGE && m.size <= M2 && m.size % PAGE === 0n).toBe(true);
      expect([w.addr, w.size, r.addr, u.addr, u.size]).toEqual([m.addr, PAGE, m.addr, m.addr, m.size]);
    }
  });

  test('sparse: a cpu_write then a gpu_read of the same random page', async () => {
    const t = await gen('sparse', ['-n', '2001', '--size', '8M']);
    const rest = t.events.slice(1);
    for (let i = 0; i < rest.length; i += 2) {
      expect(ops(rest.slice(i, i + 2))).toEqual(['cpu_write', 'gpu_read']);
      expect(rest[i + 1].addr).toBe(rest[i].addr);
    }
    expect(new Set(rest.map((e) => e.addr)).size).toBeGreaterThan(500);
  });

  test('mixed: the working set and a CPU buffer of a quarter of it after it, filled by the CPU; GPU accesses in the set, CPU accesses mostly in the CPU buffer', async () => {
    const size = 64n << 20n;
    const cpuBase = BASE + size;
    const t = await gen('mixed', ['-n', '20003', '--size', '64M']);
    expect(t.events.slice(0, 3)).toMatchObject([
      { core: { op: 'mmap' }, addr: BASE, size },
      { core: { op: 'mmap' }, addr: cpuBase, size: size / 4n },
      { core: { op: 'cpu_write' }, addr: cpuBase, size: size / 4n },
    ]);
    const rest = t.events.slice(3);
    const gpu = rest.filter((e) => e.core.op.startsWith('gpu_'));
    for (const e of gpu) expect(inBuf(e.addr, size)).toBe(true);
    const cpuInOwn = rest.filter((e) => e.core.op.startsWith('cpu_') && e.addr >= cpuBase).length;
    expect(cpuInOwn / rest.length).toBeCloseTo(0.35, 1);
    expect(gpu.length / rest.length).toBeCloseTo(0.62 + 0.0285, 1);
    // the CPU buffer is at least 2M
    const small = await gen('mixed', ['-n', '3', '--size', '2M']);
    expect(small.events[1]).toMatchObject({ addr: BASE + M2, size: M2 });
  });
});

describe('svmsim gen: output encoding and VRAM', () => {
  test('-o x.jsonl writes JSONL (header line, one JSON object per event): the same events as the CSV', async () => {
    const files = new Map<string, string>();
    expect((await runCliFiles(['gen', 'pingpong', '-n', '50', '-o', 'x.jsonl'], files)).code).toBe(0);
    expect((await runCliFiles(['gen', 'pingpong', '-n', '50', '-o', 'x.csv'], files)).code).toBe(0);
    const jsonl = files.get('x.jsonl')!;
    const lines = jsonl.trimEnd().split('\n');
    expect(JSON.parse(lines[0])).toEqual({ svmsim: 1, platform: {} });
    for (const l of lines.slice(1)) if (!l.startsWith('#')) expect(() => JSON.parse(l)).not.toThrow();
    expect(files.get('x.csv')!.split('\n')[1]).toBe('t,op,addr,size');
    const a = parseTrace(jsonl, { file: 'x.jsonl', format: 'jsonl' }).events;
    const b = parseTrace(files.get('x.csv')!, { file: 'x.csv', format: 'csv' }).events;
    const key = (e: (typeof a)[number]) => [e.core.op, e.core.t, e.addr, e.size];
    expect(a.map(key)).toEqual(b.map(key));
    expect(a).toHaveLength(50);
    // --format decides when given; the file name otherwise; a contradiction or .json is refused
    expect((await runCliFiles(['gen', 'pingpong', '-n', '5', '-o', 'y', '--format', 'jsonl'], files)).code).toBe(0);
    expect(files.get('y')!.startsWith('{"svmsim":1')).toBe(true);
    const bad = await runCliFiles(['gen', 'pingpong', '-n', '5', '-o', 'z.jsonl', '--format', 'csv'], files);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      'svmsim: --format csv -o z.jsonl: a .jsonl file is read as JSONL; drop --format or rename the file\n',
    ]);
    expect(files.has('z.jsonl')).toBe(false);
    const json = await runCliFiles(['gen', 'pingpong', '-n', '5', '-o', 'z.json'], files);
    expect([json.code, json.stderr]).toEqual([
      2,
      'svmsim: -o z.json: gen writes CSV or JSONL; name the file .csv or .jsonl\n',
    ]);
  });

  test('oversub at its defaults oversubscribes VRAM: 199 2M faults into 128M of VRAM, 135 BO evictions (xe_svm_alloc_vram → ttm eviction, drm_pagemap_evict_to_ram)', async () => {
    const g = await runCli(['gen', 'oversub', '-n', '200']);
    const trace = join(mkdtempSync(join(tmpdir(), 'svmsim-gen-')), 'o.csv');
    writeFileSync(trace, g.stdout);
    const stats = async (extra: string[]) => {
      const r = await runCli(['replay', trace, '--format', 'debugfs', ...extra]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      const out: Record<string, number> = {};
      for (const l of r.stdout.split('\n')) {
        const m = /^(\w+): (\d+)$/.exec(l);
        if (m !== null && !(m[1] in out)) out[m[1]] = Number(m[2]); // GT0: the first block
      }
      return out;
    };
    // 256M = 128 chunks of 2M; 128M of VRAM holds 64 BOs. Faults 1..64 migrate untouched chunks
    // (no copy); each of faults 65..199 (135) first evicts the least recently used BO to RAM,
    // copying its 2048 KiB; faults 129..199 (71) revisit chunks evicted in the first sweep and copy
    // them back to VRAM.
    const s = await stats([]);
    expect(s).toMatchObject({
      svm_pagefault_count: 199,
      svm_2M_pagefault_count: 199,
      svm_2M_migrate_count: 199,
      svm_cpu_copy_kb: 135 * 2048,
      svm_device_copy_kb: 71 * 2048,
      tlb_inval_count: 135,
    });
    // the same trace with the 16G default VRAM: 128 faults, one per chunk, then the second sweep
    // finds every range valid (no fault, no eviction, no copy)
    const roomy = await stats(['--vram', '16G']);
    expect(roomy).toMatchObject({
      svm_pagefault_count: 128,
      svm_2M_migrate_count: 128,
      svm_cpu_copy_kb: 0,
      svm_device_copy_kb: 0,
      tlb_inval_count: 0,
    });
  });
});

describe('svmsim gen: every pattern is described', () => {
  test('in --help and in docs/gen.md, with the description of PATTERN_DOCS', async () => {
    const help = (await runCli(['gen', '--help'])).stdout;
    const doc = readFileSync('docs/gen.md', 'utf8');
    for (const p of PATTERNS) {
      expect(help).toContain(`  ${p.padEnd(10)} ${PATTERN_DOCS[p]}`);
      expect(doc).toMatch(new RegExp(`^\\| \`${p}\` \\| .+ \\|$`, 'm'));
    }
  });
});
