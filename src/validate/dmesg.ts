/**
 * DOC: Reading a kernel log — the Xe SVM lines of dmesg / journalctl
 *
 * Accepts what users paste or save: `dmesg` (`[  123.456789] xe 0000:03:00.0: ...`),
 * `dmesg --raw` (`<7>[  123.456789] ...`), `dmesg -t` (no time stamp) and
 * `journalctl -k -o short-monotonic` (`[  123.456789] host kernel: ...`). Every line is one of:
 *
 * - an Xe SVM line: a vm_dbg / drm_dbg / drm_info / drm_err line of the SVM path (the grammar of
 *   src/report/dmesg.ts), turned into a KernelObservation: label, asid, range or span bounds,
 *   vram flags, NPAGES, notifier event; pointers, seqnos, time stamps, physical addresses and the
 *   printing function are dropped;
 * - another driver's line, or another xe line: counted and skipped;
 * - a wrapped line (a continuation without a log prefix) or a truncated SVM line (its text stops
 *   before the grammar ends): counted and skipped;
 * - a malformed SVM line: the whole grammar is there but a value is impossible (a start above its
 *   end, a size that does not match, a vram flag that is not 0/1, a non-hex address): bad input,
 *   `file:line` and what was expected.
 *
 * Lines stream through (FileLines): memory holds one chunk of the file.
 */

import { MESSAGE_LABELS, RANGE_DEBUG_LABELS } from '../report/dmesg.js';
import { FileLines, TextLines, TraceInputError, type LineSource } from '../trace/index.js';
import type { KernelObservation, ObservationLog } from './observation.js';

const RANGE_LABELS = RANGE_DEBUG_LABELS;
const RANGE_LABEL_SET: ReadonlySet<string> = new Set(RANGE_LABELS);

/** Message labels, longest first (so 'Get pages failed, ...' wins over 'Get pages failed'). */
const MESSAGES = Object.values(MESSAGE_LABELS).sort((a, b) => b.length - a.length);
/** Messages whose text goes on with `, asid=N[, gpusvm=P], errno=-E...`. */
const MESSAGE_TAIL = /^, asid=(\d+)(?:, gpusvm=[0-9a-fx]+)?, errno=-?[A-Z0-9_]+$/;

/** Every label a DEBUG_VM log can show. */
export const DMESG_ALPHABET: ReadonlySet<string> = new Set([
  ...RANGE_LABELS,
  'INVALIDATE',
  'COPY TO VRAM',
  'COPY TO SRAM',
  ...MESSAGES,
]);

/** Counts of what a log held besides the SVM lines. */
export interface LogCounts {
  lines: number;
  svm: number;
  otherDrivers: number;
  otherXe: number;
  wrapped: number;
  truncated: number;
  blank: number;
}

export const newLogCounts = (): LogCounts => ({
  lines: 0,
  svm: 0,
  otherDrivers: 0,
  otherXe: 0,
  wrapped: 0,
  truncated: 0,
  blank: 0,
});

const JOURNAL_HOST = /^\S+ kernel: /;
const XE_DEV = /^xe ([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]): /;
const DRM_DBG = /^\[drm:[^\]\s]+ \[xe\]\] /;

const RANGE_RE =
  /^([A-Z][A-Z -]*[A-Z]): asid=([^,]*), gpusvm=([^,]*), vram=([^,]*),([^,]*), seqno=([^,]*), start=([^,]*), end=([^,]*), size=(.*)$/;
const INVAL_RE = /^INVALIDATE: asid=([^,]*), gpusvm=([^,]*), seqno=([^,]*), start=([^,]*), end=([^,]*), event=(.*)$/;
const COPY_RE = /^COPY TO (VRAM|SRAM) - (\S*) -> ([^,]*), NPAGES=(.*)$/;
const HEX = /^0x[0-9a-f]+$/;
const DEC = /^\d+$/;

/** What one log line is. */
export type LineKind = 'svm' | 'other_driver' | 'other_xe' | 'wrapped' | 'truncated' | 'blank';

function bad(file: string, line: number, detail: string): TraceInputError {
  return new TraceInputError(file, line, detail);
}

/** Parse a byte address field `0x...`; undefined when it is not hex. */
function addr(v: string): bigint | undefined {
  return HEX.test(v) ? BigInt(v) : undefined;
}

/**
 * Classify one log line and, for an Xe SVM line, return its observation.
 * Throws TraceInputError for a malformed SVM line.
 */
export function parseDmesgLine(text: string, line: number, file: string): { kind: LineKind; obs?: KernelObservation } {
  if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return { kind: 'blank' };
  // `<7>` (dmesg --raw) and `[  123.456789] ` (dmesg, journalctl -o short-monotonic), by hand: every line goes through here.
  let i = 0;
  if (text.charCodeAt(0) === 60 /* < */) {
    const gt = text.indexOf('>');
    if (gt > 0 && DEC.test(text.slice(1, gt))) i = gt + 1;
  }
  if (text.charCodeAt(i) === 91 /* [ */) {
    const rb = text.indexOf(']', i);
    if (rb > 0) i = text.charCodeAt(rb + 1) === 32 ? rb + 2 : rb + 1;
  }
  let rest = i === 0 ? text : text.slice(i);
  const hadPrefix = i > 0;
  const jm = JOURNAL_HOST.exec(rest);
  if (jm !== null && hadPrefix) rest = rest.slice(jm[0].length);
  const xm = XE_DEV.exec(rest);
  if (xm === null) return { kind: hadPrefix ? 'other_driver' : 'wrapped' };
  let body = rest.slice(xm[0].length);
  const dm = DRM_DBG.exec(body);
  if (dm !== null) body = body.slice(dm[0].length);
  else if (body.startsWith('[drm] *ERROR* ')) body = body.slice(14);
  else if (body.startsWith('[drm] ')) body = body.slice(6);
  else return { kind: 'other_xe' };
  const source = { line, text };

  const rm = RANGE_RE.exec(body);
  if (rm !== null && RANGE_LABEL_SET.has(rm[1])) {
    const [, label, asidS, , v0, v1, seqno, startS, endS, sizeS] = rm;
    if (!DEC.test(asidS)) throw bad(file, line, `${label}: asid=${asidS}: expected an unsigned number`);
    if ((v0 !== '0' && v0 !== '1') || (v1 !== '0' && v1 !== '1'))
      throw bad(file, line, `${label}: vram=${v0},${v1}: expected two flags 0 or 1`);
    if (!DEC.test(seqno)) throw bad(file, line, `${label}: seqno=${seqno}: expected an unsigned number`);
    const start = addr(startS);
    const end = addr(endS);
    if (start === undefined || end === undefined)
      throw bad(file, line, `${label}: start=${startS}, end=${endS}: expected 0x hex addresses`);
    if (end <= start) throw bad(file, line, `${label}: start=${startS} is not below end=${endS}`);
    const size = end - start <= 0xffffffffn ? String(Number(end - start)) : (end - start).toString();
    if (sizeS !== size) {
      if (DEC.test(sizeS) && size.startsWith(sizeS)) return { kind: 'truncated' };
      throw bad(file, line, `${label}: size=${sizeS} but end - start = ${size}`);
    }
    return { kind: 'svm', obs: { label, asid: Number(asidS), start, end, vram: [Number(v0), Number(v1)], source } };
  }
  if (body.startsWith('INVALIDATE: ')) {
    const im = INVAL_RE.exec(body);
    if (im === null || im[6] === '') return { kind: 'truncated' };
    const [, asidS, , seqno, startS, endS, eventS] = im;
    if (!DEC.test(asidS) || !DEC.test(seqno))
      throw bad(file, line, `INVALIDATE: asid=${asidS}, seqno=${seqno}: expected unsigned numbers`);
    const start = addr(startS);
    const end = addr(endS);
    if (start === undefined || end === undefined)
      throw bad(file, line, `INVALIDATE: start=${startS}, end=${endS}: expected 0x hex addresses`);
    if (end <= start) throw bad(file, line, `INVALIDATE: start=${startS} is not below end=${endS}`);
    if (!DEC.test(eventS) || Number(eventS) > 7)
      throw bad(file, line, `INVALIDATE: event=${eventS}: expected an enum mmu_notifier_event number 0-7`);
    return {
      kind: 'svm',
      obs: { label: 'INVALIDATE', asid: Number(asidS), start, end, event: Number(eventS), source },
    };
  }
  if (body.startsWith('COPY TO ')) {
    const cm = COPY_RE.exec(body);
    if (cm === null || cm[4] === '') return { kind: 'truncated' };
    if (!DEC.test(cm[4]) || Number(cm[4]) === 0)
      throw bad(file, line, `COPY TO ${cm[1]}: NPAGES=${cm[4]}: expected a positive number`);
    return { kind: 'svm', obs: { label: `COPY TO ${cm[1]}`, npages: Number(cm[4]), source } };
  }
  for (const m of MESSAGES) {
    if (!body.startsWith(m)) continue;
    const tail = body.slice(m.length);
    if (tail === '') return { kind: 'svm', obs: { label: m, source } };
    const tm = MESSAGE_TAIL.exec(tail);
    if (tm === null) {
      if (tail.startsWith(', ')) return { kind: 'truncated' };
      continue;
    }
    return { kind: 'svm', obs: { label: m, asid: Number(tm[1]), source } };
  }
  // An SVM label cut before its grammar ends.
  for (const l of RANGE_LABELS)
    if (body.startsWith(`${l}:`) || (body.length < l.length + 1 && l.startsWith(body))) return { kind: 'truncated' };
  return { kind: 'other_xe' };
}

/** The Xe SVM observations of a log, every VM, streaming; `counts` fills in as lines are read. */
function* dmesgObservations(lines: LineSource, file: string, counts: LogCounts): Generator<KernelObservation> {
  for (let text = lines.next(); text !== undefined; text = lines.next()) {
    counts.lines++;
    const r = parseDmesgLine(text, lines.line, file);
    switch (r.kind) {
      case 'svm':
        counts.svm++;
        yield r.obs!;
        break;
      case 'other_driver':
        counts.otherDrivers++;
        break;
      case 'other_xe':
        counts.otherXe++;
        break;
      case 'wrapped':
        counts.wrapped++;
        break;
      case 'truncated':
        counts.truncated++;
        break;
      case 'blank':
        counts.blank++;
        break;
    }
  }
}

/** Which VM to keep, and how many lines of the others were skipped. */
export interface VmPick {
  /** The asid kept; set to the first VM of the log when not given. */
  asid?: number;
  otherAsids: Map<number, number>;
}

/**
 * Keep one VM's observations. Lines carrying another asid are counted and skipped; lines without
 * an asid (COPY, "Range is already in VRAM") belong to the VM of the line before them.
 * A capture read asynchronously (a bpftrace reader may be) stays asynchronous.
 */
export function pickVm(
  obs: Iterable<KernelObservation> | AsyncIterable<KernelObservation>,
  pick: VmPick,
): Iterable<KernelObservation> | AsyncIterable<KernelObservation> {
  let current: number | undefined;
  const keep = (o: KernelObservation): boolean => {
    if (o.asid !== undefined) {
      current = o.asid;
      if (pick.asid === undefined) pick.asid = o.asid;
    }
    if (current !== undefined && current !== pick.asid) {
      pick.otherAsids.set(current, (pick.otherAsids.get(current) ?? 0) + 1);
      return false;
    }
    return true;
  };
  if (Symbol.asyncIterator in obs) {
    return (async function* () {
      for await (const o of obs) if (keep(o)) yield o;
    })();
  }
  return (function* () {
    for (const o of obs) if (keep(o)) yield o;
  })();
}

/** A log file (or text, for tests) as an ObservationLog of every VM. */
export function dmesgLog(
  src: { path: string } | { text: string; name: string },
  counts: LogCounts,
): ObservationLog & { observations: Iterable<KernelObservation> } {
  const file = 'path' in src ? src.path : src.name;
  const lines = 'path' in src ? new FileLines(src.path) : new TextLines(src.text);
  return { kind: 'dmesg', alphabet: DMESG_ALPHABET, observations: dmesgObservations(lines, file, counts) };
}

/** What a log with no Xe SVM line was expected to hold, and how to get it. */
export function noSvmLinesHelp(file: string, counts: LogCounts): TraceInputError {
  return new TraceInputError(
    file,
    0,
    `no Xe SVM line in ${counts.lines} line${counts.lines === 1 ? '' : 's'} (${counts.otherXe} other xe, ${counts.otherDrivers} other drivers). ` +
      `Expected vm_dbg lines such as "xe 0000:03:00.0: [drm:xe_svm_handle_pagefault [xe]] PAGE FAULT: asid=1, gpusvm=..., vram=0,0, seqno=..., start=0x..., end=0x..., size=..." ` +
      `and "INVALIDATE: asid=...". They need a kernel built with CONFIG_DRM_XE_DEBUG_VM=y and drm.debug=0x2 ` +
      '(boot parameter, or echo 0x2 > /sys/module/drm/parameters/debug); capture with dmesg -w > FILE or raise log_buf_len (see docs/capture.md)',
  );
}
