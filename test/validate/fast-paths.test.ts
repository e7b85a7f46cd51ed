/**
 * The hand-written fast paths of the log reader against plain versions (fast-check): the log
 * prefix stripped by hand = the regex `^(<n>)?([...] ?)?`, and the observation JSON line built by
 * hand = JSON.stringify of the same object.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { observationJson } from '../../src/validate/capture.js';
import { parseDmesgLine } from '../../src/validate/dmesg.js';
import type { KernelObservation } from '../../src/validate/observation.js';

/** The plain reader: the prefix by regex, then the same body parser (given the prefix-free line). */
function plainKind(text: string): string {
  if (text.trim() === '') return 'blank';
  const m = /^(?:<\d+>)?(?:\[[^\]]*\] ?)?/.exec(text)!;
  if (m[0].length === 0) return parseDmesgLine(text, 1, 'f').kind;
  let rest = text.slice(m[0].length);
  const j = /^\S+ kernel: /.exec(rest);
  if (j !== null) rest = rest.slice(j[0].length);
  if (rest === '') return 'other_driver'; // a log line with nothing after its prefix
  const r = parseDmesgLine(rest, 1, 'f').kind;
  // Without its prefix a non-xe line reads as a continuation; with one it is another driver's.
  return r === 'wrapped' ? 'other_driver' : r;
}

const body = fc.constantFrom(
  'xe 0000:03:00.0: [drm:xe_svm_handle_pagefault [xe]] PAGE FAULT: asid=1, gpusvm=00000000deadbeef, vram=0,0, seqno=3, start=0x007f0000000000, end=0x007f0000200000, size=2097152',
  'xe 0000:03:00.0: [drm:xe_svm_invalidate [xe]] INVALIDATE: asid=2, gpusvm=0, seqno=5, start=0x0000000000001000, end=0x0000000000002000, event=0',
  'xe 0000:03:00.0: [drm:xe_svm_copy [xe]] COPY TO SRAM - 0x1 -> 0x2, NPAGES=16',
  'xe 0000:03:00.0: [drm] Range is already in VRAM',
  'xe 0000:03:00.0: [drm] *ERROR* VRAM allocation failed, retry count exceeded, asid=1, errno=-ENOMEM',
  'xe 0000:03:00.0: [drm] GT0: suspended',
  'usb 1-1: new high-speed USB device',
  'size=2097152',
  '',
);
const prefix = fc.record({
  level: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
  ts: fc.option(fc.tuple(fc.nat({ max: 99999 }), fc.nat({ max: 999999 })), { nil: undefined }),
  host: fc.option(fc.constantFrom('box', 'node-7'), { nil: undefined }),
});

describe('log reader fast paths = plain versions (fast-check)', () => {
  test('prefix stripped by hand classifies every line as the regex does', () => {
    fc.assert(
      fc.property(prefix, body, (p, b) => {
        let t = '';
        if (p.level !== undefined) t += `<${p.level}>`;
        if (p.ts !== undefined) t += `[${String(p.ts[0]).padStart(5)}.${String(p.ts[1]).padStart(6, '0')}] `;
        if (p.ts !== undefined && p.host !== undefined) t += `${p.host} kernel: `;
        t += b;
        expect(parseDmesgLine(t, 1, 'f').kind).toBe(plainKind(t));
      }),
      { numRuns: 500 },
    );
  });

  test('observation JSON built by hand = JSON.stringify of the object', () => {
    const obs = fc.record({
      label: fc.constantFrom('PAGE FAULT', 'INVALIDATE', 'COPY TO VRAM', 'Range is already in VRAM'),
      asid: fc.option(fc.nat(), { nil: undefined }),
      span: fc.option(
        fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
        { nil: undefined },
      ),
      vram: fc.option(fc.tuple(fc.constantFrom(0, 1), fc.constantFrom(0, 1)), { nil: undefined }),
      npages: fc.option(fc.nat(), { nil: undefined }),
      event: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
      line: fc.nat(),
      text: fc.string(),
    });
    fc.assert(
      fc.property(obs, (o) => {
        const k: KernelObservation = { label: o.label, source: { line: o.line, text: o.text } };
        const plain: Record<string, unknown> = { label: o.label };
        if (o.asid !== undefined) plain.asid = k.asid = o.asid;
        if (o.span !== undefined) {
          [k.start, k.end] = o.span;
          plain.start = '0x' + o.span[0].toString(16);
          plain.end = '0x' + o.span[1].toString(16);
        }
        if (o.vram !== undefined) plain.vram = k.vram = o.vram;
        if (o.npages !== undefined) plain.npages = k.npages = o.npages;
        if (o.event !== undefined) plain.event = k.event = o.event;
        plain.line = o.line;
        plain.text = o.text;
        expect(observationJson(k)).toBe(JSON.stringify(plain));
      }),
      { numRuns: 500 },
    );
  });
});
