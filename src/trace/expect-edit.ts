/**
 * DOC: Writing actual values into a trace's `expect` block (`svmsim test --update`)
 *
 * The block is found where the readers find it (the JSON document's `expect` key, the JSONL
 * header line's `expect`, the CSV `#! expect` line); inside it, only the text of each value
 * being updated is replaced. Everything else — comments, events, indentation, key order —
 * stays byte for byte.
 */

import { TraceInputError, type TraceFormat } from './parse.js';

interface Node {
  start: number;
  end: number;
  obj?: Map<string, Node>;
  arr?: Node[];
}

/** Spans of every value of the JSON text starting at `pos` (which must be valid JSON). */
function spans(text: string, pos: number): Node {
  let i = pos;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = () => {
    const s = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(s, i)) as string;
  };
  const value = (): Node => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new Map<string, Node>();
      ws();
      while (text[i] !== '}') {
        ws();
        const k = str();
        ws();
        i++; // ':'
        obj.set(k, value());
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
      return { start, end: i, obj };
    }
    if (c === '[') {
      i++;
      const arr: Node[] = [];
      ws();
      while (text[i] !== ']') {
        arr.push(value());
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
      return { start, end: i, arr };
    }
    if (c === '"') {
      str();
      return { start, end: i };
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
    return { start, end: i };
  };
  return value();
}

/** JSON of a value in the style of the text it replaces (spaces after ":" and "," or not). */
function styled(v: unknown, like: string, block: string, indent: string | undefined): string {
  const spaced = /[:,] /.test(like.length > 2 ? like : block);
  const one = (x: unknown) =>
    spaced
      ? JSON.stringify(x).replace(
          /("(?:[^"\\]|\\.)*")|([:,])/g,
          (_m, s: string | undefined, p: string | undefined) => s ?? `${p} `,
        )
      : JSON.stringify(x);
  if (Array.isArray(v) && indent !== undefined && like.includes('\n') && v.length > 0) {
    return `[\n${v.map((x) => indent + '  ' + one(x)).join(',\n')}\n${indent}]`;
  }
  return one(v);
}

/** Locate the expect block: the offset where its JSON starts. */
function expectStart(text: string, format: TraceFormat, file: string): number {
  if (format === 'json') {
    const root = spans(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
    const n = root.obj?.get('expect');
    if (n) return n.start;
  } else if (format === 'jsonl') {
    // The header is the first line that is not blank or a comment (as the reader finds it).
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      const line = text.slice(pos, nl < 0 ? text.length : nl);
      const t = line.trim();
      if (t !== '' && !t.startsWith('#') && !t.startsWith('//')) {
        const n = t.startsWith('{') ? spans(text, pos).obj?.get('expect') : undefined;
        if (n) return n.start;
        break;
      }
      if (nl < 0) break;
      pos = nl + 1;
    }
  } else {
    const m = /^#!\s*expect\s*/m.exec(text);
    if (m) return m.index + m[0].length;
  }
  throw new TraceInputError(file, 1, 'no expect block to update');
}

/** The text with each path of the expect block set to its new value. */
export function updateExpect(
  text: string,
  format: TraceFormat,
  updates: { path: (string | number)[]; value: unknown }[],
  file: string,
): string {
  const block = spans(text, expectStart(text, format, file));
  const edits: { start: number; end: number; text: string }[] = [];
  for (const u of updates) {
    let n: Node | undefined = block;
    for (const k of u.path) n = n?.obj?.get(String(k)) ?? (typeof k === 'number' ? n?.arr?.[k] : undefined);
    if (n === undefined) continue;
    const lineStart = text.lastIndexOf('\n', n.start) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
    const blockText = text.slice(block.start, block.end);
    edits.push({
      start: n.start,
      end: n.end,
      text: styled(u.value, text.slice(n.start, n.end), blockText, format === 'json' ? indent : undefined),
    });
  }
  edits.sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
