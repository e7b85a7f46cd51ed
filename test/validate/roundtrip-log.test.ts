/**
 * Round trip: `replay --format dmesg` of every trace in traces/ under every kernel profile,
 * validated against itself, agrees (exit 0); each single mutation of the log — a range bound
 * changed, an ALLOCATE VRAM line dropped, two lines swapped — is reported at the mutated log line
 * (exit 1). roundtrip-stats.test.ts does the same for `--stats`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { KERNEL_VERSIONS } from '../../src/core/platform.js';
import { runCli } from '../cli-harness.js';
import { scratch, traceFiles, validate } from './harness.js';

const traces = traceFiles('traces');
const tmp = scratch('svmsim-validate-').write;

const RANGE_LINE = /start=0x([0-9a-f]+), end=0x([0-9a-f]+), size=(\d+)$/;

/** Key fields of a line, to find two neighbours that differ. */
const keyOf = (l: string) =>
  l
    .replace(/^\[[^\]]*\] /, '')
    .replace(/seqno=\d+/, '')
    .replace(/gpusvm=\w+/, '')
    .replace(/\[drm:\S+ \[xe\]\]/, '');

/** A (JSON/JSONL) trace's pids in order of first appearance: the order the simulator numbers their VMs. */
const pidsOf = (file: string) => [
  ...new Set([...readFileSync(file, 'utf8').matchAll(/"pid":\s*(\d+)/g)].map((m) => Number(m[1]))),
];

/** How often each conditional mutation below was made (a trace without such a line skips it). */
const ran = { otherVm: 0, rangeBound: 0, dropAlloc: 0, swap: 0 };

describe('validate --kernel-log round trip', () => {
  for (const file of traces) {
    for (const k of KERNEL_VERSIONS) {
      test(`${file} ${k}: the model's own dmesg agrees (each VM); a changed range bound, a dropped ALLOCATE VRAM and two swapped lines diverge at their line`, async () => {
        const out = await runCli(['replay', file, '-k', k, '-f', 'dmesg']);
        expect(out.code).toBe(0);
        const all = out.stdout === '' ? [] : out.stdout.replace(/\n$/, '').split('\n');
        // Several processes: each VM is validated on its own (--asid picks the log's VM, --pid the
        // trace's process). Every VM's lines agree with its process; the mutations below are made
        // in the first VM's log (COPY lines carry no asid: they belong to the VM of the line before).
        const vmOf: number[] = [];
        for (const l of all) vmOf.push(Number(/asid=(\d+)/.exec(l)?.[1] ?? vmOf[vmOf.length - 1] ?? 1));
        const vms = [...new Set(vmOf)];
        for (const [i, asid] of vms.entries()) {
          if (i === 0) continue;
          const pid = pidsOf(file)[i];
          const vm = await validate([
            file,
            '-k',
            k,
            '--kernel-log',
            tmp(out.stdout),
            '--asid',
            String(asid),
            '--pid',
            String(pid),
          ]);
          expect(vm.code, `asid ${asid} pid ${pid}: ${vm.stderr}`).toBe(0);
          expect(vm.doc.checks[0].compared).toBe(vmOf.filter((a) => a === asid).length);
          ran.otherVm++;
        }
        const lines = all.filter((_, i) => vmOf[i] === vms[0]);
        const log = lines.length === 0 ? '' : lines.join('\n') + '\n';

        const same = await validate([file, '-k', k, '--kernel-log', tmp(log)]);
        expect(same.stderr).toBe('');
        expect(same.code).toBe(0);
        expect(same.doc.checks[0].verdict).toBe('agree');
        expect(same.doc.checks[0].compared).toBe(lines.length);
        if (lines.length === 0) return;

        // A range bound changed: the end of the first range_debug line moves up by 4K.
        const ri = lines.findIndex((l) => RANGE_LINE.test(l));
        if (ri >= 0) {
          const m = RANGE_LINE.exec(lines[ri])!;
          const end = (BigInt('0x' + m[2]) + 0x1000n).toString(16).padStart(14, '0');
          const mutated = [...lines];
          mutated[ri] = lines[ri].replace(RANGE_LINE, `start=0x${m[1]}, end=0x${end}, size=${Number(m[3]) + 4096}`);
          const r = await validate([file, '-k', k, '--kernel-log', tmp(mutated.join('\n') + '\n')]);
          expect(r.code).toBe(1);
          expect(r.doc.checks[0].divergence.kernel.line).toBe(ri + 1);
          ran.rangeBound++;
        }

        // An ALLOCATE VRAM dropped: the line that takes its place is where the log diverges.
        const ai = lines.findIndex((l) => l.includes('] ALLOCATE VRAM: '));
        if (ai >= 0) {
          const mutated = lines.filter((_, i) => i !== ai);
          const r = await validate([file, '-k', k, '--kernel-log', tmp(mutated.join('\n') + '\n')]);
          expect(r.code).toBe(1);
          const d = r.doc.checks[0].divergence;
          expect(d.model.text).toContain('ALLOCATE VRAM');
          expect(d.kernel === null ? mutated.length + 1 : d.kernel.line).toBe(ai + 1);
          ran.dropAlloc++;
        }

        // Two neighbouring lines that differ, swapped.
        const si = lines.findIndex((l, i) => i + 1 < lines.length && keyOf(l) !== keyOf(lines[i + 1]));
        if (si >= 0) {
          const mutated = [...lines];
          [mutated[si], mutated[si + 1]] = [mutated[si + 1], mutated[si]];
          const r = await validate([file, '-k', k, '--kernel-log', tmp(mutated.join('\n') + '\n')]);
          expect(r.code).toBe(1);
          expect(r.doc.checks[0].divergence.kernel.line).toBe(si + 1);
          ran.swap++;
        }
      });
    }
  }
});

test('each mutation above was made on many traces, and a second VM was checked', () => {
  for (const [kind, n] of Object.entries(ran)) expect(n, kind).toBeGreaterThan(0);
  expect(ran.rangeBound).toBeGreaterThan(traces.length);
  expect(ran.swap).toBeGreaterThan(traces.length);
});
