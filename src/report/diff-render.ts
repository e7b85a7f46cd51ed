/**
 * DOC: Wording of `svmsim diff`
 *
 * Turns a `DiffResult` into text (a terminal), markdown (a PR comment) or GitHub Actions
 * workflow commands (`::error file=TRACE,line=N::` at the trace line of the first event of each
 * group of changes, then the text report). JSON output is the `DiffResult` itself, with stable
 * key order.
 */

import { Chalk, type ChalkInstance } from 'chalk';
import type { Change, Delta, DiffResult, EventRec, RangeChange } from './diff.js';
import { humanBytes } from './format.js';

export type DiffFormat = 'text' | 'json' | 'markdown' | 'github';

const n = (x: number) => x.toLocaleString('en-US');
const pl = (k: number, one: string, many = one + 's') => `${n(k)} ${k === 1 ? one : many}`;

function val(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && 'start' in v && 'end' in v && Object.keys(v).length === 2) {
    const r = v as { start: string; end: string };
    return `[${r.start}, ${r.end})`;
  }
  return JSON.stringify(v);
}

function signed(d: number | null): string {
  return d === null ? '' : d > 0 ? `+${n(d)}` : n(d);
}

/** A decision as one line: code and arguments, changed ones marked with `*`. */
function decisionLine(d: Record<string, unknown>, changed: Set<string>): string {
  const args = Object.entries(d)
    .filter(([k]) => k !== 'code')
    .map(([k, v]) => `${k}=${val(v)}${changed.has(`${String(d.code)}.${k}`) ? '*' : ''}`);
  return [String(d.code), ...args].join(' ');
}

function eventBlock(e: EventRec | null, changes: Change[], side: 'a' | 'b', c: ChalkInstance): string[] {
  if (e === null) return ['    (no such event)'];
  const changedPaths = new Set(
    changes.flatMap((x) => (x.kind === 'field' ? [x.path.split('.').slice(0, 2).join('.')] : [])),
  );
  const head = `outcome ${e.outcome}${changedPaths.has('outcome') ? '*' : ''}${e.errno ? ` errno ${e.errno}${changedPaths.has('errno') ? '*' : ''}` : ''}`;
  const lonely = new Set(changes.flatMap((x) => (x.kind === (side === 'a' ? 'removed' : 'added') ? [x.index] : [])));
  const out = [`    ${head}`];
  e.decisions.forEach((d, i) => {
    const line = decisionLine(d, changedPaths);
    out.push(lonely.has(i) ? (side === 'a' ? c.red(`  - ${line}`) : c.green(`  + ${line}`)) : `      ${line}`);
  });
  return out;
}

function deltaLine(d: Delta, label: string, bytes = false): string {
  const show = (x: number | null) => (x === null ? '(none)' : bytes ? humanBytes(BigInt(x)) : n(x));
  return `  ${label}: ${show(d.old)} → ${show(d.new)}${d.delta !== null ? ` (${bytes ? (d.delta >= 0 ? '+' : '-') + humanBytes(BigInt(Math.abs(d.delta))) : signed(d.delta)})` : ''}`;
}

function rangeLine(r: RangeChange): string {
  const size = humanBytes(BigInt(r.end) - BigInt(r.start));
  const f = r.fields ? ': ' + r.fields.map((x) => `${x.field} ${val(x.old)} → ${val(x.new)}`).join(', ') : '';
  return `[${r.start}, ${r.end}) ${size} ${r.location}${f}`;
}

function where(seq: number, line: number | null): string {
  return `#${seq}${line !== null ? ` (trace line ${line})` : ''}`;
}

/** The text report (also the body of the github format). */
function text(d: DiffResult, c: ChalkInstance, maxShown: number): string {
  const out: string[] = [];
  if (d.equal) {
    out.push(
      `svmsim diff: ${d.a.file} and ${d.b.file} agree (${pl(d.events.count, 'event')}${d.events.compared ? '' : ', events not compared: one side has --no-events'})`,
    );
    return out.join('\n') + '\n';
  }
  out.push(c.bold(`svmsim diff: ${d.a.file} → ${d.b.file}`));
  for (const note of d.notes) out.push(c.yellow(`note: ${note}`));
  const ev = d.events;
  if (!ev.compared) out.push('events not compared (one side was written with --no-events)');
  else if (ev.differing === 0) out.push(`events: all ${n(ev.count)} agree`);
  else {
    out.push(
      '',
      c.bold(`events: ${pl(ev.differing, 'event')} of ${n(ev.count)} differ`) +
        (ev.onlyInA + ev.onlyInB ? ` (${n(ev.onlyInA)} only in A, ${n(ev.onlyInB)} only in B)` : ''),
    );
    const f = ev.first!;
    out.push('', `first divergence: event ${where(f.seq, f.line)} ${f.op}${f.addr ? ' ' + f.addr : ''}`);
    out.push(`  A ${d.a.file}:`, ...eventBlock(f.a, f.changes, 'a', c));
    out.push(`  B ${d.b.file}:`, ...eventBlock(f.b, f.changes, 'b', c));
    out.push('  what changed:');
    for (const ch of f.changes) {
      out.push(
        ch.kind === 'field'
          ? `    ${ch.path}: ${val(ch.old)} → ${val(ch.new)}`
          : `    ${ch.kind === 'added' ? 'B adds' : 'B drops'} ${decisionLine(ch.decision, new Set())}`,
      );
    }
    out.push('', 'grouped by what changed:');
    for (const g of ev.groups)
      out.push(`  ${pl(g.count, 'event')}: ${g.summary}  (first ${where(g.firstSeq, g.firstLine)})`);
    if (ev.moreGroups > 0) out.push(`  ... ${pl(ev.moreGroups, 'more kind')} of change (--max-shown N lists more)`);
  }
  const rg = d.ranges;
  if (rg.added.count + rg.removed.count + rg.changed.count > 0) {
    out.push(
      '',
      c.bold(`final ranges: ${n(rg.a)} → ${n(rg.b)}`) +
        ` (${n(rg.added.count)} added, ${n(rg.removed.count)} removed, ${n(rg.changed.count)} changed)`,
    );
    const list = (label: string, x: { count: number; shown: RangeChange[] }) => {
      for (const r of x.shown) out.push(`  ${label} ${rangeLine(r)}`);
      if (x.count > x.shown.length)
        out.push(
          `  ... ${n(x.count - x.shown.length)} more ${label === '+' ? 'added' : label === '-' ? 'removed' : 'changed'}`,
        );
    };
    list('-', rg.removed);
    list('+', rg.added);
    list('~', rg.changed);
  }
  if (d.vram.length > 0) {
    out.push('', c.bold('VRAM:'));
    for (const v of d.vram) out.push(deltaLine(v, v.name, true));
  }
  if (d.stats.length > 0) {
    out.push('', c.bold(`GT stats: ${pl(d.stats.length, 'counter')} differ`));
    for (const s of d.stats.slice(0, Math.max(maxShown, 40))) out.push(deltaLine(s, `${s.gt} ${s.name}`));
    if (d.stats.length > Math.max(maxShown, 40)) out.push(`  ... ${n(d.stats.length - Math.max(maxShown, 40))} more`);
  }
  if (d.metrics.length > 0) {
    out.push('', c.bold('metrics:'));
    for (const m of d.metrics) out.push(deltaLine(m, m.name));
  }
  if (d.thrashing.changed) out.push('', `thrashing ranges: ${n(d.thrashing.old)} → ${n(d.thrashing.new)}`);
  return out.join('\n') + '\n';
}

function markdown(d: DiffResult, maxShown: number): string {
  const out: string[] = [];
  if (d.equal)
    return `### svmsim diff: no change\n\n\`${d.a.file}\` and \`${d.b.file}\` agree (${pl(d.events.count, 'event')}).\n`;
  out.push(`### svmsim diff: \`${d.a.file}\` → \`${d.b.file}\``, '');
  for (const note of d.notes) out.push(`> **Note:** ${note}`, '');
  const ev = d.events;
  if (ev.compared && ev.differing > 0) {
    const f = ev.first!;
    out.push(
      `**${pl(ev.differing, 'event')} of ${n(ev.count)} differ.** First divergence: event ${where(f.seq, f.line)} \`${f.op}\``,
      '',
      '```diff',
    );
    const c = new Chalk({ level: 0 });
    for (const l of eventBlock(f.a, f.changes, 'a', c)) out.push(l.replace(/^ {4}/, '').replace(/^ {2}- /, '- '));
    out.push('@@ B @@');
    for (const l of eventBlock(f.b, f.changes, 'b', c)) out.push(l.replace(/^ {4}/, '').replace(/^ {2}\+ /, '+ '));
    out.push('```', '', '| events | what changed | first |', '|---:|---|---|');
    for (const g of ev.groups)
      out.push(`| ${n(g.count)} | ${g.summary.replace(/\|/g, '\\|')} | ${where(g.firstSeq, g.firstLine)} |`);
    if (ev.moreGroups > 0) out.push(`| | ... ${pl(ev.moreGroups, 'more kind')} of change | |`);
    out.push('');
  }
  const rg = d.ranges;
  if (rg.added.count + rg.removed.count + rg.changed.count > 0) {
    out.push(
      `**Final ranges:** ${n(rg.a)} → ${n(rg.b)} (${n(rg.added.count)} added, ${n(rg.removed.count)} removed, ${n(rg.changed.count)} changed)`,
      '',
    );
    for (const [label, x] of [
      ['removed', rg.removed],
      ['added', rg.added],
      ['changed', rg.changed],
    ] as const)
      for (const r of x.shown) out.push(`- ${label} \`${rangeLine(r)}\``);
    out.push('');
  }
  const rows = [
    ...d.vram.map((v) => ({ ...v, name: `vram ${v.name}` })),
    ...d.stats.map((s) => ({ ...s, name: `${s.gt} ${s.name}` })),
    ...d.metrics,
  ];
  if (rows.length > 0) {
    out.push('| counter | old | new | delta |', '|---|---:|---:|---:|');
    for (const s of rows.slice(0, Math.max(maxShown, 40)))
      out.push(`| ${s.name} | ${s.old ?? ''} | ${s.new ?? ''} | ${signed(s.delta)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** GitHub Actions workflow-command escaping of a message. */
const ghEscape = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const ghProp = (s: string) => ghEscape(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function github(d: DiffResult, maxShown: number): string {
  const out: string[] = [];
  const file = d.b.trace ?? d.a.trace;
  const at = (line: number | null) =>
    file !== null ? ` file=${ghProp(file)}${line !== null ? `,line=${line}` : ''}` : '';
  for (const note of d.notes) out.push(`::warning${at(null).replace(/^ /, ' ')}::${ghEscape(`svmsim diff: ${note}`)}`);
  for (const g of d.events.groups) {
    out.push(
      `::error${at(g.firstLine)},title=${ghProp(`svmsim diff: ${pl(g.count, 'event')} changed`)}::${ghEscape(`event #${g.firstSeq}: ${g.summary}`)}`,
    );
  }
  const counters =
    d.stats.length + d.vram.length + d.ranges.added.count + d.ranges.removed.count + d.ranges.changed.count;
  if (d.events.differing === 0 && counters > 0)
    out.push(`::error${at(null)}::${ghEscape(`svmsim diff: final state differs (${counters} ranges/counters)`)}`);
  return (out.length ? out.join('\n') + '\n' : '') + text(d, new Chalk({ level: 0 }), maxShown);
}

/** Render a diff in one of the formats. */
export function renderDiff(
  d: DiffResult,
  format: DiffFormat,
  opts: { color?: 0 | 1 | 2 | 3; maxShown?: number } = {},
): string {
  const maxShown = opts.maxShown ?? 10;
  switch (format) {
    case 'json':
      return JSON.stringify(d, null, 2) + '\n';
    case 'markdown':
      return markdown(d, maxShown);
    case 'github':
      return github(d, maxShown);
    default:
      return text(d, new Chalk({ level: opts.color ?? 0 }), maxShown);
  }
}
