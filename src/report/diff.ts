/**
 * DOC: `svmsim diff` — what changed between two replay results
 *
 * Compares two documents written by `svmsim replay --format json`: platform knobs, every GT
 * counter (old → new), the final ranges and VRAM, and, event by event (matched by `seq`), the
 * outcome and the decision records. The comparison is data (`DiffResult`); `renderDiff` words it.
 */

export interface EventDiff {
  seq: number;
  line: number | null;
  op: string;
  old: { outcome: string; errno?: string; codes: string[] } | null;
  new: { outcome: string; errno?: string; codes: string[] } | null;
}

export interface DiffResult {
  platform: { knob: string; old: unknown; new: unknown }[];
  stats: { gt: string; counter: string; old: number | null; new: number | null }[];
  events: EventDiff[];
  eventsCompared: boolean;
  ranges: { old: number; new: number; changed: boolean };
  vram: { old: number; new: number } | null;
  equal: boolean;
}

type Doc = {
  kernel: string;
  platform: Record<string, unknown>;
  events?: { seq: number; line?: number; op: string; outcome: string; errno?: string; decisions: { code: string }[] }[];
  ranges: unknown[];
  vram: { used: number };
  stats: Record<string, Record<string, number>>;
};

export function diffResults(a: Doc, b: Doc): DiffResult {
  const platform: DiffResult['platform'] = [];
  for (const k of new Set([...Object.keys(a.platform), ...Object.keys(b.platform)])) {
    if (JSON.stringify(a.platform[k]) !== JSON.stringify(b.platform[k])) platform.push({ knob: k, old: a.platform[k] ?? null, new: b.platform[k] ?? null });
  }
  const stats: DiffResult['stats'] = [];
  for (const gt of new Set([...Object.keys(a.stats), ...Object.keys(b.stats)])) {
    const sa = a.stats[gt] ?? {};
    const sb = b.stats[gt] ?? {};
    for (const c of new Set([...Object.keys(sa), ...Object.keys(sb)])) {
      const x = c in sa ? sa[c] : null;
      const y = c in sb ? sb[c] : null;
      if (x !== y) stats.push({ gt, counter: c, old: x, new: y });
    }
  }
  const events: EventDiff[] = [];
  const eventsCompared = a.events !== undefined && b.events !== undefined;
  if (eventsCompared) {
    const n = Math.max(a.events!.length, b.events!.length);
    for (let i = 0; i < n; i++) {
      const x = a.events![i];
      const y = b.events![i];
      const sx = x && { outcome: x.outcome, errno: x.errno, d: JSON.stringify(x.decisions) };
      const sy = y && { outcome: y.outcome, errno: y.errno, d: JSON.stringify(y.decisions) };
      if (sx && sy && sx.outcome === sy.outcome && sx.errno === sy.errno && sx.d === sy.d) continue;
      const brief = (e: typeof x) => (e ? { outcome: e.outcome, ...(e.errno ? { errno: e.errno } : {}), codes: e.decisions.map((d) => d.code) } : null);
      events.push({ seq: (x ?? y)!.seq, line: (x ?? y)!.line ?? null, op: (x ?? y)!.op, old: brief(x), new: brief(y) });
    }
  }
  const rangesChanged = JSON.stringify(a.ranges) !== JSON.stringify(b.ranges);
  const vram = a.vram.used !== b.vram.used ? { old: a.vram.used, new: b.vram.used } : null;
  return {
    platform,
    stats,
    events,
    eventsCompared,
    ranges: { old: a.ranges.length, new: b.ranges.length, changed: rangesChanged },
    vram,
    equal: platform.length === 0 && stats.length === 0 && events.length === 0 && !rangesChanged && vram === null,
  };
}

const show = (v: unknown) => (v === null ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

export function renderDiff(d: DiffResult, fileA: string, fileB: string, maxEvents = 50): string {
  if (d.equal) return `svmsim diff: ${fileA} and ${fileB} agree${d.eventsCompared ? '' : ' (events not compared: one side has --no-events)'}\n`;
  const out: string[] = [`svmsim diff: ${fileA} → ${fileB}`];
  if (d.platform.length) {
    out.push('platform:');
    for (const p of d.platform) out.push(`  ${p.knob}: ${show(p.old)} → ${show(p.new)}`);
  }
  if (d.stats.length) {
    out.push('stats:');
    for (const s of d.stats) out.push(`  ${s.gt} ${s.counter}: ${show(s.old)} → ${show(s.new)}`);
  }
  if (d.vram) out.push(`vram used: ${d.vram.old} → ${d.vram.new}`);
  if (d.ranges.changed) out.push(`final ranges differ (${d.ranges.old} → ${d.ranges.new})`);
  if (d.events.length) {
    out.push(`events with a different decision: ${d.events.length}`);
    for (const e of d.events.slice(0, maxEvents)) {
      const side = (x: EventDiff['old']) => (x === null ? '(absent)' : `${x.outcome}${x.errno ? ' ' + x.errno : ''} [${x.codes.join(' ')}]`);
      out.push(`  #${e.seq}${e.line !== null ? ` (line ${e.line})` : ''} ${e.op}: ${side(e.old)}`);
      out.push(`  ${' '.repeat(String(e.seq).length + 1)}${e.line !== null ? ' '.repeat(` (line ${e.line})`.length) : ''} ${' '.repeat(e.op.length)}→ ${side(e.new)}`);
    }
    if (d.events.length > maxEvents) out.push(`  ... and ${d.events.length - maxEvents} more`);
  } else if (!d.eventsCompared) out.push('events not compared (one side was written with --no-events)');
  return out.join('\n') + '\n';
}
