/**
 * DOC: Reporters
 *
 * A reporter receives the replay as it happens — `begin(platform)`, one `event()` per trace
 * event, `end(final)` — and writes text through a sink, so output can stream for long traces.
 * Formats:
 *
 * - table (default): per-event decisions, then the final ranges and the GT stats;
 *   `byRange` groups the same decisions per range instead; `summary` prints only the final part.
 * - json: one document with stable key order; addresses as 0x hex strings.
 * - debugfs: exactly the `name: value` lines of `gtN/stats`.
 * - dmesg: the vm_dbg lines a CONFIG_DRM_XE_DEBUG_VM kernel prints (dmesg.ts).
 *
 * Every format streams: memory stays flat in trace length. Reports not in trace order
 * (`--by-range`, perfetto) spill sorted runs to a temporary store (spill.ts) given by the caller.
 */

import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Decision, EventResult } from '../core/decisions.js';
import { PLATFORM_KNOBS, type Platform } from '../core/platform.js';
import type { FinalState } from '../core/simulator.js';
import { RangeHistory } from './by-range.js';
import { PerfettoReporter } from './perfetto.js';
import { DEFAULT_DMESG, DmesgReporter, type DmesgOptions } from './dmesg.js';
import { describe } from './describe.js';
import { hexAddr, hexPage, humanBytes, humanPages, ms, span } from './format.js';
import { JsonOut, rangeLinesText, rangesJsonText, writeEvent } from './json-text.js';
import { memoryStore, type TempStore } from './spill.js';

/** What the report shows of an input event besides the model's result. */
export interface EventEcho {
  line: number;
  /** Input time (ns). */
  t: number;
  op: string;
  addr: bigint;
  /**
   * The address as a page index and byte offset, when the replay has them (`addr` is then
   * `(page << 12) + offset`, computed only when read): the JSON writers print it from these.
   */
  page?: number;
  offset?: number;
  size: bigint;
  /** `size` as a number, when the replay has it so (exact: below 2^53): the JSON writers print it from this, with no bigint. */
  sizeNumber?: number;
  /** Op-specific fields as given (prot, kind, access, region, ...), in a fixed order. */
  fields: [string, string][];
  /** Process id, when the event gave one. */
  pid?: number;
}

export interface Reporter {
  /** Whether event() uses its arguments; false lets the driver skip building them. */
  readonly wantsEvents: boolean;
  /** Whether the replay must record the kernel's CONFIG_DRM_XE_DEBUG_VM print points. */
  readonly wantsDebugVm?: boolean;
  begin(platform: Platform): void;
  event(echo: EventEcho, res: EventResult): void;
  end(final: FinalState): void;
}

export type Sink = (chunk: string) => void;

/** Which trace a result comes from. */
export interface TraceId {
  name: string;
  sha256: string | null;
}

export interface ReportOptions {
  format: 'table' | 'json' | 'jsonl' | 'debugfs' | 'perfetto' | 'dmesg';
  /**
   * json/jsonl/perfetto: where the events go as UTF-8 bytes, when the output takes them (written, or
   * copied, before the call returns: the buffer is reused); absent: through the sink as strings.
   */
  bytes?: (chunk: Uint8Array) => void;
  /** json/jsonl: the trace's name and the sha256 of its bytes (null when not known, e.g. streamed stdin). */
  trace?: TraceId;
  /** table: group decisions per range. */
  byRange?: boolean;
  /** table: only the final ranges and stats. */
  summary?: boolean;
  /** json: leave out the events array. */
  noEvents?: boolean;
  /** debugfs: which GT (default 0). */
  gt?: number;
  /** chalk colour level (0 = none). */
  color?: 0 | 1 | 2 | 3;
  /** Program version for the table banner. */
  version?: string;
  /** Temporary storage for reports that spill (by-range, perfetto); default: memory. */
  tempStore?: () => TempStore;
  /** dmesg: the placeholders for asid, pointers and PCI address. */
  dmesg?: DmesgOptions;
}

export function createReporter(opts: ReportOptions, write: Sink): Reporter {
  switch (opts.format) {
    case 'json':
      return new JsonReporter(write, opts);
    case 'jsonl':
      return new JsonlReporter(write, opts);
    case 'debugfs':
      return new DebugfsReporter(write, opts.gt ?? 0);
    case 'perfetto':
      return new PerfettoReporter(write, opts.tempStore, undefined, undefined, opts.bytes);
    case 'dmesg':
      return new DmesgReporter(write, opts.dmesg ?? DEFAULT_DMESG);
    default:
      return new TableReporter(write, opts);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

/** Platform knobs by their trace/CLI names, in PLATFORM_KNOBS order. */
export function platformJson(p: Platform): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, name] of Object.entries(PLATFORM_KNOBS)) {
    const v = p[k as keyof Platform];
    out[name] = typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

const PAGE_KEYS = new Set(['start', 'end', 'page', 'next', 'at']);

/** A decision as JSON-ready data: page indices become 0x byte addresses, bigints numbers. */
function decisionJson(d: Decision): Record<string, unknown> {
  const conv = (key: string, v: unknown): unknown => {
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'number' && PAGE_KEYS.has(key)) return hexPage(v);
    if (Array.isArray(v)) return v.map((x) => conv('', x));
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (x !== undefined) o[k] = conv(k, x);
      }
      return o;
    }
    return v;
  };
  return conv('', d) as Record<string, unknown>;
}

export function eventJson(echo: EventEcho, res: EventResult): Record<string, unknown> {
  const o: Record<string, unknown> = { seq: res.seq, line: echo.line, t: echo.t };
  if (echo.pid !== undefined) o.pid = echo.pid;
  o.op = res.op;
  o.addr = hexAddr(echo.addr);
  if (echo.size !== 0n) o.size = hexAddr(echo.size);
  for (const [k, v] of echo.fields) o[k] = v;
  o.outcome = res.outcome;
  if (res.errno !== undefined) o.errno = res.errno;
  if (res.t !== echo.t) o.t_end = res.t;
  o.decisions = res.decisions.map(decisionJson);
  return o;
}

export function finalJson(final: FinalState): Record<string, unknown> {
  const stats: Record<string, Record<string, number>> = {};
  for (const g of final.stats) stats[`gt${g.gt}`] = Object.fromEntries(g.counters);
  return {
    ranges: final.ranges.map((r) => ({
      ...(r.pid !== undefined ? { pid: r.pid } : {}),
      start: hexPage(r.start),
      end: hexPage(r.end),
      size: hexAddr(BigInt(r.end - r.start) << 12n),
      location: r.location,
      valid: r.valid,
    })),
    vram: { capacity: Number(final.vram.capacity), used: Number(final.vram.used) },
    stats,
    metrics: final.metrics,
    thrashing: final.thrashing.map(thrashJson),
    ...(final.perPid !== undefined ? { per_pid: final.perPid.map(perPidJson) } : {}),
  };
}

/** One process's breakdown as JSON. */
function perPidJson(p: NonNullable<FinalState['perPid']>[number]): Record<string, unknown> {
  return {
    pid: p.pid,
    asid: p.asid,
    faults: p.metrics.gpuFaults,
    failed_faults: p.metrics.failedFaults,
    migrations_to_vram: p.metrics.migrationsToVram,
    migrations_to_ram: p.metrics.migrationsToRam,
    vram_held: Number(p.vramBytes),
    bos: p.bos,
    evictions_suffered: p.evictionsSuffered,
    evictions_caused: p.evictionsCaused,
    ranges: p.ranges,
    tlb_invalidations: p.metrics.tlbInvalidations,
  };
}

/** A thrashing verdict as JSON. */
function thrashJson(t: FinalState['thrashing'][number]): Record<string, unknown> {
  return {
    ...(t.pid !== undefined ? { pid: t.pid } : {}),
    start: hexPage(t.start),
    end: hexPage(t.start + t.npages),
    cycles: t.cycles,
    bytes: Number(t.bytes),
    events: t.events,
  };
}

/** The head of a result: format version, kernel, trace, platform knobs. */
export function headerJson(p: Platform, trace: TraceId | undefined): Record<string, unknown> {
  return { svmsim: 1, kernel: p.kernel, trace: trace ?? { name: null, sha256: null }, platform: platformJson(p) };
}

/**
 * JSON lines, written as the replay goes (see docs/result-format.md): a header line, one line per
 * event, then one line per final range, `vram`, `stats` and `metrics` lines, one `process` line
 * per process of a multi-process trace (json `per_pid`), one line per thrashing range, and `end`. Memory stays bounded whatever the trace length.
 */
/** The JSON and JSONL reporters: a sink and the options; events unless --no-events. */
abstract class JsonBase implements Reporter {
  get wantsEvents(): boolean {
    return !this.opts.noEvents;
  }
  constructor(
    protected readonly write: Sink,
    protected readonly opts: ReportOptions,
  ) {}
  abstract begin(p: Platform): void;
  abstract event(echo: EventEcho, res: EventResult): void;
  abstract end(final: FinalState): void;
}

class JsonlReporter extends JsonBase {
  private events = 0;
  /** Event lines are written as bytes into one buffer, handed to the sink in large chunks (json-text.ts). */
  private readonly out = new JsonOut(this.write, this.opts.bytes);
  begin(p: Platform): void {
    this.write(JSON.stringify(headerJson(p, this.opts.trace)) + '\n');
  }
  event(echo: EventEcho, res: EventResult): void {
    this.events++;
    // Same bytes as JSON.stringify(eventJson(echo, res)) (json-text.ts).
    writeEvent(this.out, echo, res, false);
    this.out.byte(10);
    this.out.mark();
  }
  end(final: FinalState): void {
    this.out.flush();
    // The range lines (possibly millions) written in pieces, the rest as finalJson() gives it.
    rangeLinesText(final.ranges, this.write);
    const f = finalJson({ ...final, ranges: [] });
    const out: string[] = [];
    out.push(
      JSON.stringify({ vram: f.vram }),
      JSON.stringify({ stats: f.stats }),
      JSON.stringify({ metrics: f.metrics }),
    );
    for (const p of (f.per_pid as unknown[] | undefined) ?? []) out.push(JSON.stringify({ process: p }));
    for (const t of f.thrashing as unknown[]) out.push(JSON.stringify({ thrashing: t }));
    out.push(JSON.stringify({ end: { events: this.opts.noEvents ? null : this.events, ranges: final.ranges.length } }));
    this.write(out.join('\n') + '\n');
  }
}

/**
 * What comes before an event of the `events` array: the first's indentation; before any other
 * the comma and newline that end the one before as a record (output.ts jsonRecordEnd), then its own.
 */
const EVENT_INDENT = Buffer.from('\n    ', 'latin1').subarray(1);
const FIRST_EVENT = Buffer.from('\n    ', 'latin1');
const NEXT_EVENT = Buffer.from(',\n', 'latin1');

class JsonReporter extends JsonBase {
  private first = true;

  begin(p: Platform): void {
    const head = JSON.stringify(headerJson(p, this.opts.trace), null, 2);
    // Open the document and, unless suppressed, the events array.
    this.write(head.slice(0, -2) + (this.opts.noEvents ? '' : ',\n  "events": ['));
  }

  private readonly out = new JsonOut(this.write, this.opts.bytes);

  event(echo: EventEcho, res: EventResult): void {
    if (this.opts.noEvents) return;
    // Same bytes as JSON.stringify(eventJson(echo, res), null, 2) indented by 4 (json-text.ts).
    if (this.first) this.out.bytes(FIRST_EVENT);
    else {
      this.out.bytes(NEXT_EVENT);
      this.out.mark();
      this.out.bytes(EVENT_INDENT);
    }
    writeEvent(this.out, echo, res, true);
    this.first = false;
  }

  end(final: FinalState): void {
    this.out.flush();
    const open = this.opts.noEvents ? '' : this.first ? ']' : '\n  ]';
    // finalJson(final) pretty-printed, with the ranges (possibly millions) written in pieces.
    const { ranges: _ranges, ...rest } = finalJson({ ...final, ranges: [] });
    this.write(open + ',\n  "ranges": ');
    rangesJsonText(final.ranges, this.write);
    this.write(',\n' + JSON.stringify(rest, null, 2).slice(2) + '\n');
  }
}

// ---------------------------------------------------------------------------------------------
// debugfs

class DebugfsReporter implements Reporter {
  readonly wantsEvents = false;
  constructor(
    private readonly write: Sink,
    private readonly gt: number,
  ) {}
  begin(): void {}
  event(): void {}
  end(final: FinalState): void {
    const g = final.stats.find((s) => s.gt === this.gt);
    if (g === undefined)
      throw new RangeError(
        `gt${this.gt} does not exist on this platform (GTs: ${final.stats.map((s) => s.gt).join(', ')})`,
      );
    this.write(g.counters.map(([n, v]) => `${n}: ${v}\n`).join(''));
  }
}

// ---------------------------------------------------------------------------------------------
// table

/** -ERRNO for kernel errors; signals and simulator verdicts as they are. */
function errnoText(e: string | undefined): string {
  return e === undefined ? '' : /^E[A-Z]+$/.test(e) ? `-${e}` : e;
}

function echoText(e: EventEcho): string {
  const parts = e.pid !== undefined ? [`pid=${e.pid}`, hexAddr(e.addr)] : [hexAddr(e.addr)];
  if (e.size !== 0n) parts.push(`+${humanBytes(e.size)}`);
  for (const [k, v] of e.fields) parts.push(`${k}=${v}`);
  return parts.join(' ');
}

const PLAIN = new Chalk({ level: 0 });

/** The first line of an event in the table format: `#seq time op addr fields  outcome`. */
export function eventHead(echo: EventEcho, res: EventResult, c: ChalkInstance = PLAIN): string {
  const outcome =
    res.outcome === 'error'
      ? c.red(`error ${errnoText(res.errno)}`)
      : res.outcome === 'hit'
        ? c.dim('hit')
        : c.green('ok');
  return `#${res.seq} ${c.dim(ms(echo.t))} ${c.cyan(res.op)} ${echoText(echo)}  ${outcome}`;
}

/** The decisions the table format prints under an event (a lone gpu_hit is said by the outcome). */
export function shownDecisions(res: EventResult): Decision[] {
  return res.decisions.length === 1 && res.decisions[0].code === 'gpu_hit' ? [] : res.decisions;
}

/** cli-table3 without separators between rows. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

class TableReporter implements Reporter {
  private readonly c: ChalkInstance;
  private readonly history: RangeHistory;
  private platform?: Platform;
  get wantsEvents(): boolean {
    return !this.opts.summary || this.opts.byRange === true;
  }

  constructor(
    private readonly write: Sink,
    private readonly opts: ReportOptions,
  ) {
    this.c = new Chalk({ level: opts.color ?? 0 });
    this.history = new RangeHistory(opts.tempStore ?? memoryStore);
  }

  begin(p: Platform): void {
    this.platform = p;
    const dev = p.dgfx ? `dGPU, VRAM ${humanBytes(p.vramBytes)}` : 'iGPU';
    this.write(
      this.c.bold(
        `svmsim${this.opts.version ? ' ' + this.opts.version : ''}: kernel ${p.kernel}, ${dev}, notifier ${humanBytes(p.notifierBytes)}, ` +
          `timeslice ${p.atomicTimesliceMs}ms (HZ=${p.hz})${p.need64k ? ', NEED64K' : ''}, cost model ${p.costModel}`,
      ) + '\n\n',
    );
  }

  event(echo: EventEcho, res: EventResult): void {
    if (this.opts.byRange) {
      this.history.add(echo, res);
      return;
    }
    if (this.opts.summary) return;
    const lines = [eventHead(echo, res, this.c)];
    for (const d of shownDecisions(res)) lines.push('    ' + this.style(d));
    this.write(lines.join('\n') + '\n');
  }

  private style(d: Decision): string {
    const text = describe(d);
    switch (d.code) {
      case 'migrate_to_vram':
      case 'migrate_to_ram':
      case 'bo_evict':
        return this.c.magenta(text);
      case 'invalidate':
      case 'madvise_zap':
        return this.c.yellow(text);
      case 'range_error':
      case 'vram_alloc_failed':
      case 'cpu_segv':
      case 'not_migratable_atomic':
        return this.c.red(text);
      case 'timeslice_wait':
        return this.c.blue(text);
      default:
        return text;
    }
  }

  end(final: FinalState): void {
    if (this.opts.byRange) this.history.writeTo(this.write);
    const out: string[] = [];
    const multi = final.perPid !== undefined;
    const ranges = new Table({
      head: [...(multi ? ['pid'] : []), 'range', 'size', 'location', 'valid', 'created at'],
      style: { head: [], border: [] },
      chars: COMPACT,
    });
    const shown = final.ranges.length > RANGE_TABLE_ROWS ? final.ranges.slice(0, RANGE_TABLE_ROWS) : final.ranges;
    for (const r of shown) {
      const row = [
        span(r.start, r.end),
        humanBytes(BigInt(r.end - r.start) << 12n),
        r.location,
        r.valid ? 'yes' : 'no',
        `#${r.createdSeq}`,
      ];
      ranges.push(multi ? [String(r.pid), ...row] : row);
    }
    out.push('');
    out.push(this.c.bold(`Ranges (${final.ranges.length})`));
    out.push(final.ranges.length ? ranges.toString() : '(none)');
    if (shown.length < final.ranges.length) {
      out.push(
        `... ${final.ranges.length - shown.length} more ranges (the table shows the first ${RANGE_TABLE_ROWS}; --format json lists all)`,
      );
    }
    if (final.ranges.length > 1) out.push(rangeComposition(final.ranges));
    out.push(
      `VRAM: ${humanBytes(final.vram.used)} used of ${humanBytes(final.vram.capacity)} in ${final.vram.bos} BO(s)`,
    );
    const m = final.metrics;
    out.push(
      `Faults: ${m.gpuFaults} (${m.failedFaults} failed); migrations: ${m.migrationsToVram} to VRAM (${humanPages(m.pagesToVram)} copied), ` +
        `${m.migrationsToRam} to RAM (${humanPages(m.pagesToRam)} copied); evictions: ${m.evictions}; TLB invalidations: ${m.tlbInvalidations}`,
    );
    if (final.perPid !== undefined) {
      const pp = new Table({
        head: [
          'pid',
          'asid',
          'faults',
          'failed',
          'to VRAM',
          'to RAM',
          'VRAM held',
          'BOs',
          'evictions suffered',
          'evictions caused',
          'ranges',
        ],
        style: { head: [], border: [] },
        chars: COMPACT,
        colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      });
      for (const p of final.perPid) {
        const m = p.metrics;
        pp.push(
          [
            p.pid,
            p.asid,
            m.gpuFaults,
            m.failedFaults,
            m.migrationsToVram,
            m.migrationsToRam,
            humanBytes(p.vramBytes),
            p.bos,
            p.evictionsSuffered,
            p.evictionsCaused,
            p.ranges,
          ].map(String),
        );
      }
      out.push('');
      out.push(this.c.bold(`Processes (${final.perPid.length}), one VRAM pool`));
      out.push(pp.toString());
    }
    if (final.thrashing.length > 0) {
      out.push('');
      out.push(
        this.c.bold(
          this.c.red(`Thrashing (${final.thrashing.length} range${final.thrashing.length === 1 ? '' : 's'})`),
        ),
      );
      for (const t of final.thrashing.slice(0, THRASH_ROWS)) {
        const ev = t.events.map((e) => `#${e}`).join(' ');
        out.push(
          `  ${t.pid !== undefined ? `pid ${t.pid} ` : ''}${span(t.start, t.start + t.npages)} ${humanPages(t.npages)}: ${t.cycles} round trips VRAM→RAM→VRAM, ${humanBytes(t.bytes)} moved, by ${ev}`,
        );
      }
      if (final.thrashing.length > THRASH_ROWS)
        out.push(`  ... ${final.thrashing.length - THRASH_ROWS} more (--format json lists all)`);
    }
    out.push('');
    const gts = final.stats;
    const stats = new Table({
      head: ['counter', ...gts.map((g) => `gt${g.gt}`)],
      style: { head: [], border: [] },
      chars: COMPACT,
      colAligns: ['left', ...gts.map(() => 'right' as const)],
    });
    const names = gts[0].counters.map(([n]) => n);
    names.forEach((n, i) => {
      const vals = gts.map((g) => g.counters[i][1]);
      const row = [n, ...vals.map((v) => String(v))];
      stats.push(vals.some((v) => v !== 0) ? row : row.map((x) => this.c.dim(x)));
    });
    out.push(this.c.bold(`GT stats (kernel ${this.platform?.kernel ?? ''})`));
    out.push(stats.toString());
    this.write(out.join('\n') + '\n');
  }
}

/** Rows of the final range table in the table format; JSON lists every range. */
const RANGE_TABLE_ROWS = 1000;
/** Thrashing ranges listed in the table format. */
const THRASH_ROWS = 100;

/** One line: how many ranges of each size, where their pages are, how many are valid. */
function rangeComposition(ranges: FinalState['ranges']): string {
  const bySize = new Map<string, number>();
  const byLoc = new Map<string, number>();
  let valid = 0;
  for (const r of ranges) {
    const size = humanBytes(BigInt(r.end - r.start) << 12n);
    bySize.set(size, (bySize.get(size) ?? 0) + 1);
    byLoc.set(r.location, (byLoc.get(r.location) ?? 0) + 1);
    if (r.valid) valid++;
  }
  const sizes = ['4K', '64K', '2M'].filter((k) => bySize.has(k)).map((k) => `${bySize.get(k)} x ${k}`);
  const locs = ['vram', 'smem', 'mixed'].filter((k) => byLoc.has(k)).map((k) => `${byLoc.get(k)} ${k}`);
  return `Ranges by size: ${sizes.join(', ')}; by location: ${locs.join(', ')}; valid: ${valid}`;
}
