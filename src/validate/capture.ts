/**
 * DOC: Opening a capture for `svmsim validate --kernel-log`
 *
 * One entry point, openCapture(), sniffs what the file is from its first non-blank line:
 *
 * - `{"svmsim":"observations",...}`: an observation log written by `svmsim import --from dmesg`
 *   (JSON lines, one KernelObservation per line; see observationsToJsonl());
 * - any other line starting with `{`: a bpftrace capture (JSON lines) — read by
 *   observationsFromBpftrace() in src/validate/bpftrace.ts, plugged in at BPFTRACE_READER below;
 * - anything else: a kernel log (dmesg / journalctl), read by dmesg.ts.
 *
 * An imported observation log is not a trace: it holds what the kernel decided (labels, ranges,
 * flags), not the inputs (mmap, munmap, CPU and GPU accesses with their addresses and times) that
 * made it decide, so it can be checked against a replay but not replayed.
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { FileLines, TraceInputError, type LineSource } from '../trace/index.js';
import { DMESG_ALPHABET, dmesgLog, type LogCounts } from './dmesg.js';
import { observationsFromBpftrace } from './bpftrace.js';
import type { KernelObservation, ObservationLog } from './observation.js';

/** Header line of an observation log written by `svmsim import --from dmesg`. */
const OBSERVATIONS_HEADER = 'observations';

/**
 * BPFTRACE_READER: the reader of bpftrace captures (`svmsim capture --script` output),
 * observationsFromBpftrace() in src/validate/bpftrace.ts. Without a reader a bpftrace capture is
 * refused as bad input.
 */
let BPFTRACE_READER: ((path: string) => ObservationLog) | undefined = observationsFromBpftrace;

/** Replace the bpftrace reader (tests: a stand-in reader, or none). */
export function setBpftraceReader(r: ((path: string) => ObservationLog) | undefined): void {
  BPFTRACE_READER = r;
}

/** The first non-blank line of a file (reads at most 64 KiB). */
function firstLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    // bpftrace prints "Attaching N probes..." before the capture's first line.
    for (const l of buf.subarray(0, n).toString('utf8').split('\n'))
      if (l.trim() !== '' && !/^Attaching \d+ probes?\.\.\./.test(l)) return l.trim();
    return '';
  } finally {
    closeSync(fd);
  }
}

/** Open a capture for validation: a kernel log, an imported observation log, or a bpftrace capture. */
export function openCapture(path: string, counts: LogCounts): ObservationLog {
  const head = firstLine(path);
  if (head.startsWith('{')) {
    if (head.includes(`"svmsim":"${OBSERVATIONS_HEADER}"`)) {
      return {
        kind: 'dmesg',
        alphabet: DMESG_ALPHABET,
        observations: observationsFromJsonl(new FileLines(path), path, counts),
      };
    }
    if (BPFTRACE_READER !== undefined) return BPFTRACE_READER(path);
    throw new TraceInputError(
      path,
      1,
      'a JSON-lines capture (bpftrace?) but this build has no bpftrace reader; give a dmesg / journalctl log or the output of `svmsim import --from dmesg`',
    );
  }
  return dmesgLog({ path }, counts);
}

/** One observation as a JSON line (stable key order; addresses as 0x hex strings). Built by hand: one per log line. */
export function observationJson(o: KernelObservation): string {
  let s = '{"label":' + JSON.stringify(o.label);
  if (o.asid !== undefined) s += ',"asid":' + o.asid;
  if (o.start !== undefined) s += ',"start":"0x' + o.start.toString(16) + '"';
  if (o.end !== undefined) s += ',"end":"0x' + o.end.toString(16) + '"';
  if (o.vram !== undefined) s += ',"vram":[' + o.vram[0] + ',' + o.vram[1] + ']';
  if (o.npages !== undefined) s += ',"npages":' + o.npages;
  if (o.event !== undefined) s += ',"event":' + o.event;
  return s + ',"line":' + o.source.line + ',"text":' + JSON.stringify(o.source.text) + '}';
}

/** The header line of an observation log. */
export function observationsHeader(kind: 'dmesg', source: string): string {
  return JSON.stringify({ svmsim: OBSERVATIONS_HEADER, kind, source });
}

const isU = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isHex = (v: unknown): v is string => typeof v === 'string' && /^0x[0-9a-f]+$/.test(v);

/** Read an observation log back (streaming). Bad lines are bad input with file:line. */
function* observationsFromJsonl(lines: LineSource, file: string, counts: LogCounts): Generator<KernelObservation> {
  let header = false;
  for (let text = lines.next(); text !== undefined; text = lines.next()) {
    counts.lines++;
    if (text.trim() === '') {
      counts.blank++;
      continue;
    }
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new TraceInputError(
        file,
        lines.line,
        'expected a JSON object (an observation of `svmsim import --from dmesg`)',
      );
    }
    if (!header) {
      if (v.svmsim !== OBSERVATIONS_HEADER)
        throw new TraceInputError(file, lines.line, `expected the header {"svmsim":"${OBSERVATIONS_HEADER}",...}`);
      header = true;
      continue;
    }
    const bad = (what: string) => new TraceInputError(file, lines.line, what);
    if (typeof v.label !== 'string' || !DMESG_ALPHABET.has(v.label))
      throw bad(`field "label": expected an Xe SVM label, got ${JSON.stringify(v.label)}`);
    if (!isU(v.line) || typeof v.text !== 'string')
      throw bad('fields "line" and "text": expected the source line number and text');
    const o: KernelObservation = { label: v.label, source: { line: v.line, text: v.text } };
    if (v.asid !== undefined) {
      if (!isU(v.asid)) throw bad('field "asid": expected an unsigned number');
      o.asid = v.asid;
    }
    if (v.start !== undefined || v.end !== undefined) {
      if (!isHex(v.start) || !isHex(v.end)) throw bad('fields "start"/"end": expected 0x hex addresses');
      o.start = BigInt(v.start);
      o.end = BigInt(v.end);
    }
    if (v.vram !== undefined) {
      const f = v.vram as unknown[];
      if (!Array.isArray(f) || f.length !== 2 || !f.every((x) => x === 0 || x === 1))
        throw bad('field "vram": expected [0|1, 0|1]');
      o.vram = [f[0] as number, f[1] as number];
    }
    if (v.npages !== undefined) {
      if (!isU(v.npages)) throw bad('field "npages": expected an unsigned number');
      o.npages = v.npages;
    }
    if (v.event !== undefined) {
      if (!isU(v.event) || v.event > 7) throw bad('field "event": expected an mmu_notifier_event number 0-7');
      o.event = v.event;
    }
    counts.svm++;
    yield o;
  }
}
