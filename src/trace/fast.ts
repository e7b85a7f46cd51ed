/**
 * DOC: Fast path for well-formed JSONL event objects
 *
 * Long JSONL recordings are millions of plain objects such as
 * `{"t":1200,"op":"gpu_read","addr":"0x7f0000201000"}`. Running every one through zod would cost
 * microseconds per event, so this module recognises the common, unambiguous shapes directly —
 * integer times, hex addresses, integer or hex sizes, known enum values — using the tables of
 * rules.ts, and produces exactly the event the schema would. Anything else (a unit in `t`, a size
 * suffix, an unknown field, a value out of range, time going backwards) returns `undefined`, and
 * the caller falls back to the schema path in parse.ts, which gives the identical event or the
 * error message. The fast path never reports errors itself, so messages come from one place;
 * property tests (test/trace/fast-paths.test.ts) check both paths agree on random lines.
 *
 * Addresses are split into the page (all hex digits but the last three) and the offset (the
 * last three), so a 64-bit address never passes through a float.
 */

import type { CoreEvent } from '../core/events.js';
import { defaultSize, enumValues, ENUM_SETS, type EnumField, fastSpanOk, fieldsOf, opRule, pagesOf } from './rules.js';
import { PID_MAX, SYNTAX } from './values.js';
import type { EventCursor, ParsedEvent } from './parse.js';

const HEX_ADDR = /^0x[0-9a-fA-F]{1,16}$/;
const HEX_SMALL = /^0x[0-9a-fA-F]{1,13}$/;
const DEC_SMALL = /^[0-9]{1,15}$/;

/** An event whose display values (bigint) are computed only when a report asks for them. */
class FastEvent implements ParsedEvent {
  constructor(
    readonly core: CoreEvent,
    readonly line: number,
    private readonly addrHex: string,
    private readonly sizeBytes: number,
  ) {}

  get addr(): bigint {
    return BigInt(this.addrHex);
  }

  get size(): bigint {
    return BigInt(this.sizeBytes);
  }
}

/** A size value as a byte count below 2^53, or -1 when the fast path cannot read it. */
function fastSize(v: string | number): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : -1;
  if (DEC_SMALL.test(v)) return Number(v);
  if (HEX_SMALL.test(v)) return Number.parseInt(v.slice(2), 16);
  return -1;
}

/**
 * Build an event from a JSON object's fields. Returns undefined whenever the schema path must
 * decide.
 */
export function fastEvent(
  o: Record<string, unknown>,
  keys: readonly string[],
  line: number,
  cur: EventCursor,
): ParsedEvent | undefined {
  const op = o.op;
  if (typeof op !== 'string') return undefined;
  const rule = opRule(op);
  if (rule === undefined) return undefined;
  for (const f of keys) {
    if (f === 't' || f === 'op' || f === 'addr' || f === 'pid') continue;
    if (f === 'size' ? rule.size === 'none' : !Object.hasOwn(rule.fields, f)) return undefined;
  }

  let t = cur.t;
  const tv = o.t;
  if (tv !== undefined) {
    if (typeof tv === 'number') {
      if (!Number.isSafeInteger(tv) || tv < 0) return undefined;
      t = tv;
    } else if (typeof tv === 'string' && DEC_SMALL.test(tv)) t = Number(tv);
    else return undefined;
    if (t < cur.t) return undefined;
  }

  let pid: number | undefined;
  const pv = o.pid;
  if (pv !== undefined) {
    pid = typeof pv === 'number' ? pv : typeof pv === 'string' && SYNTAX.pid.test(pv) ? Number(pv) : -1;
    if (!Number.isInteger(pid) || pid < 1 || pid > PID_MAX) return undefined;
  }

  const a = o.addr;
  if (typeof a !== 'string' || !HEX_ADDR.test(a)) return undefined;
  const digits = a.slice(2);
  const page = digits.length > 3 ? Number.parseInt(digits.slice(0, -3), 16) : 0;
  const offset = Number.parseInt(digits.slice(-3), 16);

  let size = defaultSize(rule);
  const sv = o.size;
  if (sv !== undefined) {
    size = typeof sv === 'string' || typeof sv === 'number' ? fastSize(sv) : -1;
    if (size <= 0) return undefined; // zero: the schema path reports it
  } else if (rule.size === 'required') return undefined;

  const npages = pagesOf(rule, offset, size);
  if (!fastSpanOk(page, npages)) return undefined;

  const core = { op, t, page, offset, npages, sizeAligned: size % 4096 === 0 } as CoreEvent;
  if (fieldsOf(rule).length > 0) {
    const enums = enumValues(rule, (f: EnumField) => {
      const v = o[f];
      return v === undefined ? undefined : typeof v === 'string' && ENUM_SETS[f].has(v) ? v : '';
    });
    if (typeof enums === 'string') return undefined;
    Object.assign(core, enums);
  }
  if (pid !== undefined) core.pid = pid;
  cur.t = t;
  return new FastEvent(core, line, a, sv === undefined ? 0 : size);
}
