/**
 * DOC: Aligning the model with a kernel capture
 *
 * The model replays the trace with the kernel's CONFIG_DRM_XE_DEBUG_VM print points recorded
 * and yields, per print, what `replay --format dmesg` would print (modelLines). Each side is
 * reduced to a key — label, range or span bounds, vram flags, NPAGES, notifier event — and the
 * two sequences are walked in lockstep, keeping only labels the capture can show at all (its
 * alphabet). The first index where the keys differ is the divergence; up to CONTEXT matched
 * lines before it and CONTEXT lines after it on each side are kept for the report. Both sides
 * are consumed to the end so that the per-label counts are complete; memory stays bounded
 * (a few lines of context, one counter per label).
 */

import type { Decision } from '../core/decisions.js';
import type { Simulator } from '../core/simulator.js';
import {
  AsidTracker,
  DMESG_PROFILES,
  DmesgFormatter,
  dmesgLabel,
  MMU_NOTIFY,
  type DmesgOptions,
} from '../report/dmesg.js';
import type { ParsedEvent } from '../trace/index.js';
import type { KernelObservation } from './observation.js';

/** Lines kept around a divergence, on each side. */
const CONTEXT = 3;

/** One line the model prints. */
export interface ModelLine {
  label: string;
  key: string;
  /** Event index (seq) and trace line of the event that printed it. */
  seq: number;
  traceLine: number;
  /** 1-based line of `replay --format dmesg` output. */
  outLine: number;
  /** The printed text (formatted on demand). */
  text(): string;
}

/** Canonical hex of a byte address (no leading zeros). */
const hexOfPage = (page: number) => (page === 0 ? '0' : page.toString(16) + '000');

/** The comparison key of a model print-point record (matches keyOfObservation). */
function keyOfDecision(label: string, d: Decision): string {
  switch (d.code) {
    case 'range_debug':
      return `${label}|${hexOfPage(d.range.start)}|${hexOfPage(d.range.end)}|${d.vram[0]},${d.vram[1]}`;
    case 'invalidate_debug':
      return `${label}|${hexOfPage(d.start)}|${hexOfPage(d.end)}|event=${MMU_NOTIFY[d.event]}`;
    case 'copy_debug':
      return `${label}|npages=${d.npages}`;
    default:
      return label;
  }
}

/** The comparison key of a kernel observation. */
function keyOfObservation(o: KernelObservation): string {
  let k = o.label;
  if (o.start !== undefined) k += `|${o.start.toString(16)}`;
  if (o.end !== undefined) k += `|${o.end.toString(16)}`;
  if (o.vram !== undefined) k += `|${o.vram[0]},${o.vram[1]}`;
  if (o.event !== undefined) k += `|event=${o.event}`;
  if (o.npages !== undefined) k += `|npages=${o.npages}`;
  return k;
}

/**
 * The model's key reduced to what the kernel observation carries: a capture that does not record
 * the vram flags (a bpftrace capture) is not compared on them.
 */
function comparableKey(modelKey: string, o: KernelObservation): string {
  return o.vram === undefined ? modelKey.replace(/\|[01],[01]$/, '') : modelKey;
}

/**
 * The model's log lines for a trace, streaming: one step of `sim` (made with debugVm) at a time.
 * Once consumed to the end, `sim.snapshot()` is the model's final state (its GT counters).
 */
export function* modelLines(
  events: Iterable<ParsedEvent>,
  sim: Simulator,
  dmesg: DmesgOptions,
  vmPid?: number,
): Generator<ModelLine> {
  const profile = DMESG_PROFILES[sim.platform.kernel];
  const fmt = new DmesgFormatter(profile, dmesg);
  // Several processes: only the lines of one process's VM (`vmPid`, default the first process),
  // with the asid `replay --format dmesg` prints for it.
  const asids = new AsidTracker(dmesg.asid);
  let want = vmPid;
  let outLine = 0;
  for (const e of events) {
    const res = sim.step(e.core);
    let ns = e.core.t;
    let pid = e.core.pid ?? 1;
    want ??= pid;
    for (const d of res.decisions) {
      if (d.code === 'timeslice_wait') ns = d.untilNs;
      if (d.code === 'process') pid = d.pid;
      const label = dmesgLabel(d, profile);
      if (label === undefined) continue;
      outLine++;
      const asid = asids.of(pid);
      if (pid !== want) continue;
      const at = ns;
      const a = asid;
      yield {
        label,
        key: keyOfDecision(label, d),
        seq: res.seq,
        traceLine: e.line,
        outLine,
        text: () => fmt.line(d, at, a)!,
      };
    }
  }
}

/** Per label: lines in the capture, lines from the model, lines matched before the divergence. */
interface LabelCount {
  label: string;
  kernel: number;
  model: number;
  matched: number;
}

export interface KernelSide {
  line: number;
  text: string;
  key: string;
}

export interface ModelSide {
  seq: number;
  traceLine: number;
  outLine: number;
  text: string;
  key: string;
}

interface Divergence {
  /** Index (0-based) of the first differing compared line. */
  index: number;
  kernel?: KernelSide;
  model?: ModelSide;
  /** Matched pairs just before, oldest first. */
  before: { kernel: KernelSide; model: ModelSide }[];
  kernelAfter: KernelSide[];
  modelAfter: ModelSide[];
}

export interface AlignResult {
  compared: number;
  labels: LabelCount[];
  divergence?: Divergence;
}

const kside = (o: KernelObservation): KernelSide => ({
  line: o.source.line,
  text: o.source.text,
  key: keyOfObservation(o),
});
const mside = (m: ModelLine): ModelSide => ({
  seq: m.seq,
  traceLine: m.traceLine,
  outLine: m.outLine,
  text: m.text(),
  key: m.key,
});

/** Walk both sequences in lockstep; see the DOC block. The capture may be read asynchronously. */
export async function align(
  kernel: Iterable<KernelObservation> | AsyncIterable<KernelObservation>,
  model: Iterable<ModelLine>,
  alphabet: ReadonlySet<string>,
): Promise<AlignResult> {
  const counts = new Map<string, LabelCount>();
  const count = (label: string) => {
    let c = counts.get(label);
    if (c === undefined) counts.set(label, (c = { label, kernel: 0, model: 0, matched: 0 }));
    return c;
  };
  const sync = Symbol.iterator in kernel ? (kernel as Iterable<KernelObservation>)[Symbol.iterator]() : undefined;
  const asyncIt = sync === undefined ? (kernel as AsyncIterable<KernelObservation>)[Symbol.asyncIterator]() : undefined;
  const mi = model[Symbol.iterator]();
  const nextK = async (): Promise<KernelObservation | undefined> => {
    const r = sync !== undefined ? sync.next() : await asyncIt!.next();
    if (r.done === true) return undefined;
    count(r.value.label).kernel++;
    return r.value;
  };
  const nextM = (): ModelLine | undefined => {
    for (;;) {
      const r = mi.next();
      if (r.done) return undefined;
      if (!alphabet.has(r.value.label)) continue;
      count(r.value.label).model++;
      return r.value;
    }
  };
  const ring: { k: KernelObservation; m: ModelLine }[] = [];
  let compared = 0;
  let divergence: Divergence | undefined;
  for (;;) {
    const k = await nextK();
    const m = nextM();
    if (k === undefined && m === undefined) break;
    const kk = k === undefined ? undefined : keyOfObservation(k);
    if (k !== undefined && m !== undefined && kk === comparableKey(m.key, k)) {
      compared++;
      count(m.label).matched++;
      ring.push({ k, m });
      if (ring.length > CONTEXT) ring.shift();
      continue;
    }
    const kernelAfter: KernelSide[] = [];
    const modelAfter: ModelSide[] = [];
    for (let i = 0; i < CONTEXT; i++) {
      const k2 = await nextK();
      if (k2 !== undefined) kernelAfter.push(kside(k2));
      const m2 = nextM();
      if (m2 !== undefined) modelAfter.push(mside(m2));
    }
    divergence = {
      index: compared,
      kernel: k === undefined ? undefined : kside(k),
      model: m === undefined ? undefined : mside(m),
      before: ring.map((p) => ({ kernel: kside(p.k), model: mside(p.m) })),
      kernelAfter,
      modelAfter,
    };
    // Count the rest of both sides.
    while ((await nextK()) !== undefined);
    while (nextM() !== undefined);
    break;
  }
  const labels = [...counts.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return divergence === undefined ? { compared, labels } : { compared, labels, divergence };
}
