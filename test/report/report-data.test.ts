/**
 * The HTML report's data (src/report/report-data.ts): bins add up to the replay's own totals,
 * merging bins while streaming equals binning at the final width, memory stays bounded on long
 * traces, and `svmsim report` is deterministic with usage errors for bad options.
 */
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { buildPlatform, replay, replayAll } from '../../src/replay/replay.js';
import { Binning, MAX_BINS, MAX_MARKS, ReportCollector } from '../../src/report/report-data.js';
import { SERIES, type RunDoc } from '../../src/report/html/types.js';
import { CSV_HEADER, csvLine, generate } from '../../src/gen/generate.js';
import { openTrace } from '../../src/trace/index.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli-harness.js';

const sum = (a: (number | null)[]) => a.reduce<number>((s, v) => s + (v ?? 0), 0);

function collect(file: string, lanes = 50): { c: ReportCollector; doc: (axis: 'time' | 'seq') => RunDoc } {
  const h = openTrace(file, file, undefined);
  const c = new ReportCollector('x', lanes);
  replay(h.events, buildPlatform(h.platform, {}), c);
  return { c, doc: (axis) => c.doc(axis) };
}

describe('ReportCollector', () => {
  for (const file of [
    'traces/02-cpu-gpu-pingpong.json',
    'traces/06-munmap-gc.json',
    'traces/07-vram-pressure.json',
    'traces/09-prefetch.json',
    'traces/14-errors.json',
  ]) {
    test(`${file}: bins add up to the replay's metrics on both axes`, () => {
      const { c, doc } = collect(file);
      const m = c.final!.metrics;
      for (const axis of ['time', 'seq'] as const) {
        const s = doc(axis).series;
        expect(sum(s.faults4k) + sum(s.faults64k) + sum(s.faults2m) + sum(s.faultsFailed)).toBe(m.gpuFaults);
        expect(sum(s.faultsFailed)).toBe(m.failedFaults);
        expect(sum(s.toVramMiB) * 256).toBeCloseTo(m.pagesToVram, 6);
        expect(sum(s.toRamMiB) * 256).toBeCloseTo(m.pagesToRam, 6);
        expect(sum(s.evictions)).toBe(m.evictions);
      }
    });
  }

  test('07-vram-pressure by hand: four 2M ranges in 6M of VRAM, two evictions, VRAM full at 6 MiB', () => {
    // mmap 8M, then GPU touches of four 2M ranges: the 4th needs room, TTM evicts the 1st; the
    // 1st touched again evicts the 2nd. Every BO is 2M, so VRAM use is all in the 2M series.
    const { doc } = collect('traces/07-vram-pressure.json');
    const d = doc('seq');
    expect(d.capacityMiB).toBe(6);
    expect(d.lanes.map((l) => l.size)).toEqual(['2M', '2M', '2M', '2M']);
    expect(Math.max(...d.series.vram2m.map((v) => v ?? 0))).toBe(6);
    expect(sum(d.series.vram4k) + sum(d.series.vram64k)).toBe(0);
    expect(sum(d.series.evictions)).toBe(2);
    // The first range: to VRAM + fault at #2; zapped and moved to RAM when evicted at #5; to VRAM + fault again at #6.
    const marks = d.lanes[0].marks;
    const at = (k: number) => [marks[4 * k], marks[4 * k + 1]];
    expect(Array.from({ length: marks.length / 4 }, (_, k) => at(k))).toEqual([
      [2, 2],
      [2, 0],
      [5, 4],
      [5, 3],
      [6, 2],
      [6, 0],
    ]);
    expect(d.lanes[0].states.slice(2)).toBe('91199' /* bound again at #6 */);
  });

  test('a long trace stays within the bounds: bins, lanes, marks', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'svmsim-report-')), 'mixed.csv');
    let text = CSV_HEADER;
    for (const e of generate({
      pattern: 'mixed',
      events: 100_000,
      size: 256n << 20n,
      seed: 5,
      base: 0x7f0000000000n,
      stepNs: 1000,
    }))
      text += csvLine(e);
    writeFileSync(file, text);
    const h = openTrace(file, file, 'csv');
    const c = new ReportCollector('x', 20);
    replay(h.events, buildPlatform(h.platform, { vramBytes: 32n << 20n }), c);
    for (const axis of ['time', 'seq'] as const) {
      const d = c.doc(axis);
      expect(d.bins).toBeLessThanOrEqual(MAX_BINS);
      expect(d.bins).toBeGreaterThan(MAX_BINS / 2);
      expect(d.lanes.length).toBe(20);
      for (const l of d.lanes) {
        expect(l.marks.length / 4).toBeLessThanOrEqual(MAX_MARKS);
        expect(l.states.length).toBe(d.bins);
      }
      for (const s of SERIES) expect(d.series[s].length).toBe(d.bins);
    }
  }, 60_000);
});

describe('ReportCollector mark texts (a byte arena, compacted)', () => {
  test('a tiny arena, compacted as candidates come and go, gives the same report as a large one', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'svmsim-report-')), 'sparse.csv');
    let text = CSV_HEADER;
    for (const e of generate({
      pattern: 'sparse',
      events: 20_000,
      size: 1n << 30n,
      seed: 7,
      base: 0x7f0000000000n,
      stepNs: 1000,
    }))
      text += csvLine(e);
    writeFileSync(file, text);
    const run = (arenaBytes?: number) => {
      const h = openTrace(file, file, 'csv');
      const c = new ReportCollector('x', 8, arenaBytes);
      replay(h.events, buildPlatform(h.platform, {}), c);
      return c;
    };
    const big = run();
    const tiny = run(256);
    expect(big.compactions).toBe(0);
    expect(tiny.compactions).toBeGreaterThan(0);
    for (const axis of ['time', 'seq'] as const) expect(tiny.doc(axis)).toEqual(big.doc(axis));
  }, 60_000);
});

describe('replayAll (configurations in lockstep)', () => {
  test('each configuration gets exactly what replay() alone gives it', () => {
    const file = 'traces/igt/madvise-preffered-loc-atomic-gl.jsonl';
    const kernels = ['6.16', '6.18'] as const;
    const h = openTrace(file, file, undefined);
    const together = kernels.map((k) => new ReportCollector(k, 50));
    replayAll(
      h.events,
      kernels.map((k, i) => ({ platform: buildPlatform(h.platform, { kernel: k }), reporter: together[i] })),
    );
    kernels.forEach((k, i) => {
      const h1 = openTrace(file, file, undefined);
      const alone = new ReportCollector(k, 50);
      replay(h1.events, buildPlatform(h1.platform, { kernel: k }), alone);
      expect(together[i].doc('seq')).toEqual(alone.doc('seq'));
      expect(together[i].final).toEqual(alone.final);
    });
  });
});

describe('Binning (merging while streaming equals binning at the final width)', () => {
  fcTest.prop([fc.array(fc.tuple(fc.nat(5000), fc.integer({ min: 1, max: 9 })), { minLength: 1, maxLength: 300 })])(
    'Binning.bin: sums merged while the width doubles equal the points binned at the final width; n bins reach the last point',
    (steps) => {
      const b = new Binning(1);
      let x = 0;
      const points: [number, number][] = [];
      for (const [dx, v] of steps) {
        x += dx;
        const i = b.bin(x);
        b.sums.get('faults4k')![i] += v;
        points.push([x, v]);
      }
      const direct = new Float64Array(MAX_BINS);
      for (const [px, v] of points) direct[Math.floor(px / b.width)] += v;
      expect(Array.from(b.sums.get('faults4k')!)).toEqual(Array.from(direct));
      expect(b.n).toBe(Math.floor(x / b.width) + 1);
    },
  );
});

describe('svmsim report (CLI)', () => {
  test('same input, same bytes; one self-contained file', async () => {
    const a = await runCli(['report', 'traces/07-vram-pressure.json', '-o', 'r.html']);
    const b = await runCli(['report', 'traces/07-vram-pressure.json', '-o', 'r.html']);
    expect(a.code).toBe(0);
    const html = a.files.get('r.html')!;
    expect(html).toBe(b.files.get('r.html'));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // Nothing to fetch: no external scripts, styles, fonts or images.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|url\(\s*['"]?https?:|@import|<img/i);
    expect(html).toContain('VRAM oversubscribed: 2 BO evictions');
  });

  test('stdin replays (sha256 not computed), --kernel × --vram become overlays; a bad --ranges or --kernel and 9 configurations (more than 8) are exit 2', async () => {
    const trace = readFileSync('traces/07-vram-pressure.json', 'utf8');
    const s = await runCli(['report', '-', '--kernel', '6.16,6.18', '--vram', '4M,16G'], { stdin: trace });
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('<option value="3">6.18 vram=16G</option>');
    expect(s.stdout).toContain('sha256 <code>not computed (stdin)</code>');
    const f = await runCli(['report', 'traces/07-vram-pressure.json']);
    expect(f.stdout).toContain(`sha256 <code>${createHash('sha256').update(trace).digest('hex')}</code>`);
    expect((await runCli(['report', 'traces/07-vram-pressure.json', '--ranges', 'x'])).code).toBe(2);
    expect((await runCli(['report', 'traces/07-vram-pressure.json', '--kernel', '5.4'])).code).toBe(2);
    expect(
      (await runCli(['report', 'traces/07-vram-pressure.json', '--kernel', '6.15,6.16,6.17', '--vram', '1G,2G,4G']))
        .code,
    ).toBe(2);
  });
});
