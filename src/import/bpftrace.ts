/**
 * DOC: bpftrace captures (`svmsim capture --script` output)
 *
 * A capture is JSON lines: a header `{"svmsim_capture":"bpftrace","v":1,"kernel":...,"pid":...}`
 * then one record per probe hit, `{"ts":NS,"ev":NAME,"tid":N,...}` (src/capture/bpftrace-script.ts
 * writes them; docs/capture.md lists every record). bpftrace's own "Attaching N probes..." and
 * "Lost N events" lines, blank lines and `#` comments are skipped; anything else that is not a
 * well-formed record is bad input (file:line).
 *
 * Records are put back in time order through a reorder window, then decoded, per thread, into
 *  - the workload (svmsim trace events): mmap (returned address) / munmap / mprotect /
 *    madvise(MADV_DONTNEED) / mremap (as munmap + mmap), a GPU fault per entry of
 *    `xe_svm_handle_pagefault` (`gpu_fault`, access atomic or --gpu-access), a CPU access per
 *    `migrate_to_ram` hit (the CPU touching a device page; the timeslice busy loop's repeats of
 *    the same page by the same thread are one access);
 *  - the kernel's decisions, as observations with the vm_dbg label the same step prints on a
 *    DEBUG_VM kernel (see `BPFTRACE_LABELS`).
 */

import { openSync, closeSync, readSync } from 'node:fs';
import { kernelAtLeast, KERNEL_VERSIONS, type KernelVersion } from '../core/platform.js';
import { FileLines, TraceInputError } from '../trace/index.js';
import type { KernelObservation } from '../validate/observation.js';
import { relativeNs, ReorderWindow } from './reorder.js';
import {
  PAUSE_EVERY,
  protOf,
  SkipCounter,
  type ImportedEvent,
  type Importer,
  type ImportOptions,
  type ImportSink,
} from './types.js';

/** The capture header (first record). */
export interface CaptureHeader {
  kernel: KernelVersion;
  pid: number;
}

/** Observation labels a bpftrace capture can show, per kernel (the alphabet of its log). */
export function bpftraceAlphabet(kernel: KernelVersion): ReadonlySet<string> {
  return new Set([
    ...BPFTRACE_LABELS.filter((l) => l.since === undefined || kernelAtLeast(kernel, l.since)).map((l) => l.label),
  ]);
}

/** Which probe gives which vm_dbg label (documented in docs/capture.md). */
const BPFTRACE_LABELS: { label: string; from: string; since?: KernelVersion }[] = [
  {
    label: 'PAGE FAULT',
    from: 'range returned by drm_gpusvm_range_find_or_insert, when the same attempt then migrates or gets pages',
  },
  {
    label: 'PAGE FAULT - VALID',
    from: 'range returned by drm_gpusvm_range_find_or_insert, when the handler then returns 0 with nothing else',
    since: '6.18',
  },
  {
    label: 'ALLOCATE VRAM',
    from: 'drm_pagemap_populate_mm (6.17+); drm_gpusvm_migrate_to_devmem (6.15/6.16: a failed BO allocation is not seen)',
  },
  { label: 'GET PAGES', from: 'drm_gpusvm_range_get_pages' },
  { label: 'GARBAGE COLLECTOR', from: 'drm_gpusvm_range_remove' },
];

interface Rec {
  /** The record's ts, as written (decimal ns). */
  ts: string;
  ev: string;
  tid: number;
  o: Record<string, unknown>;
  line: number;
  text: string;
}

/** Fields each record carries besides ts/ev/tid: 'h' hex string, 'i' integer. */
const FIELDS: Record<string, Record<string, 'h' | 'i'>> = {
  mmap: { ret: 'i', addr: 'h', len: 'h', prot: 'i', flags: 'i', fd: 'i' },
  munmap: { addr: 'h', len: 'h' },
  mprotect: { addr: 'h', len: 'h', prot: 'i' },
  madvise: { addr: 'h', len: 'h', advice: 'i' },
  mremap: { ret: 'i', new_addr: 'h', addr: 'h', old_len: 'h', new_len: 'h' },
  fault: { addr: 'h', atomic: 'i' },
  fault_ret: { ret: 'i' },
  range: {},
  get_pages: { start: 'h', end: 'h' },
  range_remove: { start: 'h', end: 'h' },
  alloc_vram: { start: 'h', end: 'h' },
  migrate_to_vram: { start: 'h', end: 'h' },
  migrate_to_vram_ret: { ret: 'i' },
  cpu_fault: { addr: 'h', write: 'i' },
  evict: { size: 'h' },
};

const HEX = /^0x[0-9a-f]{1,16}$/i;
const TS = /^\{"ts":([0-9]{1,20}),/;
const NOISE = /^(Attaching \d+ probes?\.\.\.|Lost \d+ events?)\s*$/;

function bad(file: string, line: number, detail: string): TraceInputError {
  return new TraceInputError(file, line, detail);
}

const SPECS: Record<string, [string, 'h' | 'i'][]> = Object.fromEntries(
  Object.entries(FIELDS).map(([ev, f]) => [ev, Object.entries(f)]),
);
const RANGE_OK = Object.entries({ start: 'h', end: 'h' }) as [string, 'h' | 'i'][];
const RANGE_ERR = Object.entries({ err: 'i' }) as [string, 'h' | 'i'][];

function checkRecord(file: string, line: number, o: Record<string, unknown>): void {
  const ev = o.ev;
  const spec =
    typeof ev === 'string' ? (ev === 'range' ? (o.err !== undefined ? RANGE_ERR : RANGE_OK) : SPECS[ev]) : undefined;
  if (spec === undefined)
    throw bad(
      file,
      line,
      `expected a capture record with "ev" one of ${Object.keys(FIELDS).join(', ')}, found ${JSON.stringify(ev)}`,
    );
  if (typeof o.tid !== 'number' || !Number.isInteger(o.tid))
    throw bad(file, line, `record "${ev}": expected an integer "tid"`);
  for (let i = 0; i < spec.length; i++) {
    const [k, kind] = spec[i];
    const v = o[k];
    if (kind === 'h' ? typeof v !== 'string' || !HEX.test(v) : typeof v !== 'number' || !Number.isInteger(v)) {
      throw bad(
        file,
        line,
        `record "${ev}": field "${k}": expected ${kind === 'h' ? 'a hex string "0x..."' : 'an integer'}, found ${JSON.stringify(v)}`,
      );
    }
  }
}

/** Read the header record of a capture (first meaningful line of its first 64 KiB). */
export function readCaptureHeader(file: string): { header: CaptureHeader; line: number; ts: bigint } {
  const lines = readHead(file).toString('utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i].trim();
    const line = i + 1;
    if (s === '' || s.startsWith('#') || NOISE.test(s)) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(s) as Record<string, unknown>;
    } catch {
      throw bad(
        file,
        line,
        `expected the capture header {"svmsim_capture":"bpftrace",...} (the first line svmsim capture's script prints), found ${JSON.stringify(s.slice(0, 60))}`,
      );
    }
    if (o === null || typeof o !== 'object' || o.svmsim_capture !== 'bpftrace') {
      throw bad(
        file,
        line,
        'expected the capture header {"svmsim_capture":"bpftrace",...} first (the line the script prints at BEGIN)',
      );
    }
    if (o.v !== 1) throw bad(file, line, `capture format version ${JSON.stringify(o.v)}: this svmsim reads version 1`);
    if (typeof o.kernel !== 'string' || !(KERNEL_VERSIONS as readonly string[]).includes(o.kernel)) {
      throw bad(
        file,
        line,
        `field "kernel": expected one of ${KERNEL_VERSIONS.join(', ')}, found ${JSON.stringify(o.kernel)}`,
      );
    }
    if (typeof o.pid !== 'number' || !Number.isInteger(o.pid))
      throw bad(file, line, 'field "pid": expected an integer');
    const ts = /"ts":([0-9]{1,20})[,}]/.exec(s);
    if (ts === null) throw bad(file, line, 'field "ts": expected the capture start in ns');
    return { header: { kernel: o.kernel as KernelVersion, pid: o.pid }, line, ts: BigInt(ts[1]) };
  }
  throw bad(file, 0, 'expected the capture header {"svmsim_capture":"bpftrace",...} in the first 64 KiB, found none');
}

/** The records of a capture after the header, in time order (through the reorder window). */
function* records(file: string, window: bigint): Generator<Rec> {
  const { line: headerLine, ts: headerTs } = readCaptureHeader(file);
  const base = { big: headerTs, num: Number(headerTs) };
  const lines = new FileLines(file);
  const win = new ReorderWindow<Rec>(Number(window));
  const ready: Rec[] = [];
  for (let l = lines.next(); l !== undefined; l = lines.next()) {
    if (lines.line <= headerLine) continue;
    let s = l;
    if (l.charCodeAt(0) !== 123 /* { */) {
      s = l.trim();
      if (s === '' || s.startsWith('#') || NOISE.test(s)) continue;
    }
    const m = TS.exec(s);
    let o: Record<string, unknown> | undefined;
    try {
      o = JSON.parse(s) as Record<string, unknown>;
    } catch {
      o = undefined;
    }
    if (m === null || o === undefined || o === null || typeof o !== 'object') {
      throw bad(
        file,
        lines.line,
        `expected a capture record {"ts":NS,"ev":...,"tid":N,...}, found ${JSON.stringify(s.slice(0, 60))}`,
      );
    }
    checkRecord(file, lines.line, o);
    win.push(
      relativeNs(m[1], base),
      { ts: m[1], ev: o.ev as string, tid: o.tid as number, o, line: lines.line, text: s },
      ready,
    );
    for (const r of ready) yield r;
    ready.length = 0;
  }
  win.drain(ready);
  yield* ready;
}

/** What decoding a record gives: trace events and kernel observations, in capture order. */
export type Decoded = { event: ImportedEvent } | { obs: KernelObservation };

interface ThreadState {
  /** Range of the current handler attempt, its PAGE FAULT line not yet decided. */
  pending?: { start: bigint; end: bigint; line: number; text: string };
  /** Page of the last CPU fault on a device page (timeslice busy loop: one access). */
  lastCpuPage?: bigint;
}

const MADV_DONTNEED = 4;
const MAP_SHARED = 0x01;
const MAP_ANONYMOUS = 0x20;
const MAP_HUGETLB = 0x40000;

/**
 * Decode a capture's records per thread. `gpuAccess` is the access written for a non-atomic
 * fault. Skipped records are counted in `skipped`.
 */
export function* decodeBpftrace(
  file: string,
  header: CaptureHeader,
  o: ImportOptions,
  skipped: SkipCounter,
  approximated = new SkipCounter(),
): Generator<Decoded> {
  const threads = new Map<number, ThreadState>();
  const state = (tid: number) => {
    let s = threads.get(tid);
    if (s === undefined) threads.set(tid, (s = {}));
    return s;
  };
  const valid618 = kernelAtLeast(header.kernel, '6.18');
  const gpusvmMigration = !kernelAtLeast(header.kernel, '6.17');
  const h = (r: Rec, k: string) => BigInt(r.o[k] as string);
  const n = (r: Rec, k: string) => r.o[k] as number;
  const obs = (r: Rec, label: string, start?: bigint, end?: bigint): Decoded => ({
    obs: { label, start, end, source: { line: r.line, text: r.text } },
  });
  /** The attempt's range turned out not valid: its PAGE FAULT line comes first. */
  const settle = function* (s: ThreadState): Generator<Decoded> {
    const p = s.pending;
    if (p !== undefined) {
      s.pending = undefined;
      yield { obs: { label: 'PAGE FAULT', start: p.start, end: p.end, source: { line: p.line, text: p.text } } };
    }
  };
  const forgetCpuPages = () => {
    for (const s of threads.values()) s.lastCpuPage = undefined;
  };

  for (const r of records(file, o.reorderWindowNs)) {
    const s = state(r.tid);
    const t = BigInt(r.ts);
    switch (r.ev) {
      case 'mmap': {
        if (n(r, 'ret') < 0) skipped.add('failed mmap');
        else if (h(r, 'len') === 0n) skipped.add('mmap of length 0');
        else {
          const flags = n(r, 'flags');
          const kind =
            (flags & MAP_HUGETLB) !== 0
              ? 'hugetlb'
              : (flags & MAP_ANONYMOUS) === 0
                ? 'file'
                : (flags & MAP_SHARED) !== 0
                  ? 'shared'
                  : 'anon';
          yield { event: { op: 'mmap', t, addr: h(r, 'addr'), size: h(r, 'len'), prot: protOf(n(r, 'prot')), kind } };
        }
        break;
      }
      case 'munmap':
      case 'mprotect':
        if (h(r, 'len') === 0n) skipped.add(`${r.ev} of length 0`);
        else
          yield {
            event: {
              op: r.ev,
              t,
              addr: h(r, 'addr'),
              size: h(r, 'len'),
              ...(r.ev === 'mprotect' ? { prot: protOf(n(r, 'prot')) } : {}),
            },
          };
        break;
      case 'madvise':
        if (n(r, 'advice') !== MADV_DONTNEED)
          skipped.add(`madvise advice ${n(r, 'advice')} (only MADV_DONTNEED is modelled)`);
        else if (h(r, 'len') === 0n) skipped.add('madvise of length 0');
        else yield { event: { op: 'madvise', t, addr: h(r, 'addr'), size: h(r, 'len') } };
        break;
      case 'mremap':
        if (n(r, 'ret') < 0) skipped.add('failed mremap');
        else {
          // Not modelled: the old span goes, a fresh rw anonymous mapping comes (contents not moved).
          yield { event: { op: 'munmap', t, addr: h(r, 'addr'), size: h(r, 'old_len'), comment: 'mremap (old span)' } };
          yield {
            event: {
              op: 'mmap',
              t,
              addr: h(r, 'new_addr'),
              size: h(r, 'new_len'),
              prot: 'rw',
              kind: 'anon',
              comment: 'mremap (new span, approximated)',
            },
          };
          approximated.add('mremap as munmap + a fresh rw anonymous mmap');
        }
        break;
      case 'fault':
        s.pending = undefined;
        yield {
          event: { op: 'gpu_fault', t, addr: h(r, 'addr'), access: n(r, 'atomic') !== 0 ? 'atomic' : o.gpuAccess },
        };
        break;
      case 'fault_ret':
        if (s.pending !== undefined && n(r, 'ret') === 0 && valid618)
          yield obs(r, 'PAGE FAULT - VALID', s.pending.start, s.pending.end);
        s.pending = undefined;
        break;
      case 'range':
        s.pending = 'err' in r.o ? undefined : { start: h(r, 'start'), end: h(r, 'end'), line: r.line, text: r.text };
        break;
      case 'get_pages':
        yield* settle(s);
        yield obs(r, 'GET PAGES', h(r, 'start'), h(r, 'end'));
        break;
      case 'alloc_vram':
        yield* settle(s);
        yield obs(r, 'ALLOCATE VRAM', h(r, 'start'), h(r, 'end'));
        forgetCpuPages();
        break;
      case 'migrate_to_vram':
        yield* settle(s);
        if (gpusvmMigration) yield obs(r, 'ALLOCATE VRAM', h(r, 'start'), h(r, 'end'));
        forgetCpuPages();
        break;
      case 'range_remove':
        yield obs(r, 'GARBAGE COLLECTOR', h(r, 'start'), h(r, 'end'));
        break;
      case 'cpu_fault': {
        const page = h(r, 'addr') >> 12n;
        if (s.lastCpuPage === page) {
          skipped.add('repeated CPU fault on the same device page (timeslice busy loop)');
          break;
        }
        s.lastCpuPage = page;
        yield { event: { op: n(r, 'write') !== 0 ? 'cpu_write' : 'cpu_read', t, addr: h(r, 'addr') } };
        break;
      }
      case 'evict':
        forgetCpuPages();
        break;
      default:
        // migrate_to_vram_ret: the result is visible in what follows; nothing to write.
        break;
    }
  }
}

function sniffBpftrace(head: Buffer): boolean {
  for (const l of head.toString('utf8').split('\n')) {
    const s = l.trim();
    if (s === '' || s.startsWith('#') || NOISE.test(s)) continue;
    return s.startsWith('{"svmsim_capture":"bpftrace"');
  }
  return false;
}

/** Format an observation as a trace comment line. */
function observationComment(ob: KernelObservation): string {
  const hex = (v: bigint) => `0x${v.toString(16).padStart(14, '0')}`;
  const span = ob.start !== undefined && ob.end !== undefined ? ` start=${hex(ob.start)}, end=${hex(ob.end)}` : '';
  return `kernel (capture line ${ob.source.line}): ${ob.label}:${span}`;
}

export const bpftraceImporter: Importer = {
  name: 'bpftrace',
  describe: 'a capture printed by the script of `svmsim capture --script` (JSON lines)',
  sniff: (head) => sniffBpftrace(head),
  run: async (file: string, sink: ImportSink, o: ImportOptions) => {
    const { header } = readCaptureHeader(file);
    sink.header({ kernel: header.kernel }, [
      `bpftrace capture of pid ${header.pid} on Linux ${header.kernel}; kernel decisions as comments`,
    ]);
    const skipped = new SkipCounter();
    const approximated = new SkipCounter();
    let n = 0;
    for (const d of decodeBpftrace(file, header, o, skipped, approximated)) {
      if ('event' in d) sink.event(d.event);
      else sink.comment(observationComment(d.obs));
      if (++n % PAUSE_EVERY === 0) await o.pause?.();
    }
    for (const note of [
      skipped.note('capture records not imported'),
      approximated.note('capture records approximated'),
    ])
      if (note !== undefined) sink.note(note);
  },
};

/** First `n` bytes of a file (for sniffing). */
export function readHead(file: string, n = 1 << 16): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
