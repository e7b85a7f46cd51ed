/**
 * DOC: Importers — captures in, svmsim traces out
 *
 * An importer reads one kind of capture (a bpftrace capture from `svmsim capture --script`, AMD
 * KFD SMI event lines, an Nsight Systems SQLite export, ...) as a stream and hands svmsim trace
 * events, in time order, to a `TraceWriter`, which writes them as JSONL (one event per line,
 * platform header first). Memory holds a bounded window of the capture, never the whole of it.
 * Bad input is a `TraceInputError` naming the capture's file and line (exit 2).
 */

import type { GpuAccess, MapKind, PrefetchRegion, Prot } from '../core/events.js';

/** One svmsim trace event as an importer produces it (times in ns of the capture's clock). */
export interface ImportedEvent {
  op:
    | 'mmap'
    | 'munmap'
    | 'mprotect'
    | 'madvise'
    | 'cpu_read'
    | 'cpu_write'
    | 'gpu_read'
    | 'gpu_write'
    | 'gpu_atomic'
    | 'gpu_fault'
    | 'xe_prefetch';
  t: bigint;
  addr: bigint;
  size?: bigint;
  prot?: Prot;
  kind?: MapKind;
  access?: GpuAccess;
  region?: PrefetchRegion;
  comment?: string;
}

export interface ImportOptions {
  /** GPU access written for a recorded fault that is not atomic (the Xe handler sees only `atomic`). */
  gpuAccess: 'read' | 'write';
  /** Keep only this process (KFD SMI lines of several processes, nsys globalPid). */
  pid?: number;
  /** How far back in time a capture line may arrive after a later one (per-CPU buffers). */
  reorderWindowNs: bigint;
  /**
   * Lets the event loop run; importers await it every PAUSE_EVERY records, so that a signal
   * (Ctrl-C removes a temporary `-o` file) is handled during a long import, not after it.
   */
  pause?: () => Promise<void>;
}

/** Records between two `ImportOptions.pause()` calls (a few ms of import work). */
export const PAUSE_EVERY = 1 << 14;

/** Where an importer writes: trace events, comment lines, and notes for stderr. */
export interface ImportSink {
  /** Platform header knobs (e.g. kernel) and comment lines; call once, before any event. */
  header(platform: Record<string, string>, comments: string[]): void;
  event(e: ImportedEvent): void;
  /** A comment line in the trace (e.g. a kernel decision seen in the capture). */
  comment(text: string): void;
  /** A note for the user (stderr), e.g. counts of skipped capture lines. */
  note(text: string): void;
}

export interface Importer {
  /** The `--from` name. */
  name: string;
  /** One line for `svmsim import --help`. */
  describe: string;
  /** Does this capture look like this kind? `head` is its first 64 KiB. */
  sniff(head: Buffer, file: string): boolean;
  run(file: string, sink: ImportSink, o: ImportOptions): Promise<void>;
}

/** A count per reason, reported as one note: "skipped 3 x (reason), 1 x (other)". */
export class SkipCounter {
  private readonly counts = new Map<string, number>();
  add(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }
  /** The note ("WHAT: 3 reason, 1 other"), or undefined when nothing was counted. */
  note(what: string): string | undefined {
    if (this.counts.size === 0) return undefined;
    const parts = [...this.counts].map(([r, n]) => `${n} ${r}`);
    return `${what}: ${parts.join(', ')}`;
  }
}

/** PROT_READ / PROT_WRITE bits (PROT_EXEC ignored) as a trace prot. */
export function protOf(bits: number): Prot {
  if ((bits & 2) !== 0) return 'rw';
  if ((bits & 1) !== 0) return 'r';
  return 'none';
}
