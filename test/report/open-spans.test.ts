/**
 * SpanIndex (src/report/open-spans.ts), the columns behind `--by-range` and perfetto's open
 * ranges, against a plain list of spans: random adds (some crossing 2M blocks), removals, overlap
 * and start look-ups, with slot reuse and growth of the columns.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SpanIndex } from '../../src/report/open-spans.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 3;
const BASE = 0x7f0000000; // page number of 0x7f0000000000

const spanArb = fc
  .record({ p: fc.integer({ min: 0, max: 4096 }), n: fc.constantFrom(1, 16, 512, 700, 2000) })
  .map(({ p, n }) => ({ start: BASE + p, end: BASE + p + n }));
const opArb = fc.oneof(
  { weight: 4, arbitrary: spanArb.map((s) => ({ op: 'add' as const, ...s })) },
  { weight: 2, arbitrary: fc.nat().map((i) => ({ op: 'remove' as const, i })) },
  { weight: 2, arbitrary: spanArb.map((s) => ({ op: 'overlap' as const, ...s })) },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ op: 'at' as const, i })) },
);

describe('SpanIndex = a plain list of open spans (fast-check)', () => {
  test('overlapping, at and all find the same spans after any adds and removes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 600 }), (ops) => {
        const idx = new SpanIndex(2);
        const plain: { slot: number; start: number; end: number; tag: number }[] = [];
        let tag = 0;
        const key = (xs: number[]) => [...xs].sort((a, b) => a - b);
        for (const o of ops) {
          if (o.op === 'add') {
            const slot = idx.add(o.start, o.end);
            expect(idx.cols[slot * 2]).toBe(0);
            idx.cols[slot * 2 + 1] = ++tag;
            plain.push({ slot, start: o.start, end: o.end, tag });
          } else if (o.op === 'remove' && plain.length > 0) {
            const [x] = plain.splice(o.i % plain.length, 1);
            idx.remove(x.slot);
          } else if (o.op === 'overlap') {
            const seen: number[] = [];
            idx.overlapping(o.start, o.end, (s) => seen.push(idx.cols[s * 2 + 1]));
            expect(key(seen)).toEqual(key(plain.filter((x) => x.start < o.end && o.start < x.end).map((x) => x.tag)));
          } else if (o.op === 'at' && plain.length > 0) {
            const start = plain[o.i % plain.length].start;
            const seen: number[] = [];
            idx.at(start, (s) => seen.push(idx.cols[s * 2 + 1]));
            expect(key(seen)).toEqual(key(plain.filter((x) => x.start === start).map((x) => x.tag)));
          }
          expect(idx.size).toBe(plain.length);
        }
        expect(key(idx.all().map((s) => idx.cols[s * 2 + 1]))).toEqual(key(plain.map((x) => x.tag)));
        for (const x of plain) {
          expect(idx.start[x.slot]).toBe(x.start);
          expect(idx.end[x.slot]).toBe(x.end);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
