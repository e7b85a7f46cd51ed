/**
 * DOC: Replay driver
 *
 * Glue between a parsed trace, the simulator and a reporter: builds the platform (defaults for
 * the kernel, then the trace header, then command-line overrides), replays every event in order
 * and hands each result to the reporter. No formatting here, no exit codes.
 */

import type { CoreEvent } from '../core/events.js';
import { defaultPlatform, type KernelVersion, type Platform } from '../core/platform.js';
import { Simulator } from '../core/simulator.js';
import type { ThrashOptions } from '../core/metrics.js';
import type { EventResult } from '../core/decisions.js';
import type { EventEcho, Reporter } from '../report/reporter.js';
import type { ParsedEvent } from '../trace/index.js';

/** defaults(kernel) ← trace header ← command line. The kernel decides the version defaults. */
export function buildPlatform(fromTrace: Partial<Platform>, fromCli: Partial<Platform>): Platform {
  const kernel: KernelVersion = fromCli.kernel ?? fromTrace.kernel ?? '6.18';
  return { ...defaultPlatform(kernel), ...fromTrace, ...fromCli, kernel };
}

/** Op-specific fields of an event, for the report. */
export function echoFields(ev: CoreEvent): [string, string][] {
  switch (ev.op) {
    case 'mmap':
      return [
        ['prot', ev.prot],
        ['kind', ev.kind],
      ];
    case 'mprotect':
      return [['prot', ev.prot]];
    case 'madvise':
      return [['advice', ev.advice]];
    case 'gpu_fault':
      return [['access', ev.access]];
    case 'xe_prefetch':
      return [['region', ev.region]];
    case 'xe_madvise':
      return ev.preferred !== undefined ? [['preferred', ev.preferred]] : ev.atomic !== undefined ? [['atomic', ev.atomic]] : [];
    default:
      return [];
  }
}

export function echoOf(e: ParsedEvent): EventEcho {
  const fields = echoFields(e.core);
  if (e.implicit) fields.push(['implicit', 'yes']);
  return { line: e.line, t: e.core.t, op: e.core.op, addr: e.addr, size: e.size, fields };
}

const GPU_OPS = new Set(['gpu_read', 'gpu_write', 'gpu_atomic', 'gpu_fault']);

/**
 * Watches a replay for a faults-only recording: a trace that maps nothing at all, whose GPU
 * accesses fail with -ENOENT (no CPU VMA). `first()` is the first such failure, or undefined when
 * the trace has an mmap anywhere (then the failures are the trace's own business).
 */
export function unmappedFaultWatch(): { see: (e: ParsedEvent, r: EventResult) => void; first: () => UnmappedFault | undefined } {
  let mapped = false;
  let first: UnmappedFault | undefined;
  return {
    see: (e, r) => {
      if (e.core.op === 'mmap') mapped = true;
      else if (!mapped && first === undefined && GPU_OPS.has(e.core.op) && r.outcome === 'error' && r.errno === 'ENOENT') {
        first = { seq: r.seq, line: e.line, op: e.core.op, addr: e.addr };
      }
    },
    first: () => (mapped ? undefined : first),
  };
}

export interface UnmappedFault {
  seq: number;
  line: number;
  op: string;
  addr: bigint;
}

/** Called every PROGRESS_EVERY events with the count so far (for a progress display). */
export const PROGRESS_EVERY = 65536;

/** Replay events through a fresh simulator, reporting as it goes. */
export function replay(
  events: Iterable<ParsedEvent>,
  platform: Platform,
  reporter: Reporter,
  opts: { checkInvariants?: boolean; onProgress?: (events: number) => void; thrash?: ThrashOptions; onResult?: (e: ParsedEvent, r: EventResult) => void } = {},
): Simulator {
  const wants = reporter.wantsEvents;
  const sim = new Simulator(platform, { checkInvariants: opts.checkInvariants ?? false, record: wants, thrash: opts.thrash });
  reporter.begin(platform);
  const onProgress = opts.onProgress;
  const src = events as Partial<{ read(): ParsedEvent | undefined }>;
  // Pull straight from a streaming reader when there is one (no iterator result per event).
  const iter = typeof src.read === 'function' ? undefined : events[Symbol.iterator]();
  const next = iter === undefined ? () => src.read!() : () => iter.next().value as ParsedEvent | undefined;
  const onResult = opts.onResult;
  let n = 0;
  for (let e = next(); e !== undefined; e = next()) {
    const res = sim.step(e.core);
    if (onResult !== undefined) onResult(e, res);
    if (wants) reporter.event(echoOf(e), res);
    if (++n % PROGRESS_EVERY === 0 && onProgress !== undefined) onProgress(n);
  }
  reporter.end(sim.snapshot());
  return sim;
}

/** The stderr note about implicit mappings: what --implicit-mmap added, or a hint to use it. */
export function implicitMmapNote(stats: { added: number; first?: { addr: bigint; line: number } }, unmapped: UnmappedFault | undefined): string {
  if (stats.added > 0) {
    const f = stats.first!;
    return `svmsim: --implicit-mmap: added ${stats.added} anonymous rw 2M mapping${stats.added === 1 ? '' : 's'} (the first, [0x${f.addr.toString(16)}, 0x${(f.addr + (1n << 21n)).toString(16)}), before line ${f.line}); they are marked implicit=yes\n`;
  }
  if (unmapped !== undefined) {
    return (
      `svmsim: warning: #${unmapped.seq} ${unmapped.op} at 0x${unmapped.addr.toString(16)} (line ${unmapped.line}) failed with -ENOENT: nothing is mapped there, and the trace maps nothing at all.\n` +
      `svmsim: a faults-only recording? Replay with --implicit-mmap to add an anonymous rw 2M mapping around every touched address.\n`
    );
  }
  return '';
}
