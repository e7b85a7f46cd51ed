/**
 * DOC: Generated trace text, fast (`svmsim gen`)
 *
 * The same bytes as `generate()` + `csvLine()` / `jsonlLine()` (generate.ts, the readable
 * definition of every pattern), written straight into bytes: addresses and sizes are counts of 4K
 * pages from the base (small integers, exact while the working set stays below 2^53 bytes) instead
 * of bigints, no event objects, no generator frame per event, nothing allocated per event (a number
 * that V8 would box — an address as a double, a captured `let` holding a double — is avoided: the
 * time and the PRNG state live in typed arrays). Each pattern draws from the PRNG in exactly the order of its generator — including the
 * draw for the time step after each event — so the traces are identical (a property test compares
 * them on random options and piece sizes: test/gen/gen.test.ts). Outside the exact range (addresses
 * or times reaching 2^53) it falls back to the plain path.
 *
 * Text comes out as ASCII bytes in pieces of about PIECE_BYTES (a generator, so the caller can write
 * and yield between pieces). A piece is a view of one reused buffer: it is valid until the
 * generator is resumed, so the caller writes (or copies) it before asking for the next one. Per
 * event: the operation's fixed text is copied from bytes made once, times are written two decimal
 * digits at a time (the digit count followed as t grows), addresses and sizes as the hex of their
 * page number (from two small halves) and "000".
 */

import { csvLine, generate, generatedEnd, jsonlLine, MAX_FILL, prng, type GenOptions } from './generate.js';

const PAGE = 4096;
const TWO_M = 2 << 20;
/** Thrown by emit() once the requested number of events is written. */
const DONE = Symbol('done');
/** About the size of the pieces handed out. */
const PIECE_BYTES = 1 << 20;
/** Room past a piece's end: at most 4 events (churn's) are written between two checks of the fill. */
const SLACK = 1024;
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** "00" to "99": two decimal digits per division. */
const DEC2 = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor(i / 20)));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

const OPS = ['mmap', 'munmap', 'cpu_read', 'cpu_write', 'gpu_read', 'gpu_write', 'gpu_atomic'] as const;
type Op = (typeof OPS)[number];

/** `b` copied into `buf` at `p`; the position after it. */
function put(buf: Uint8Array, p: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) buf[p + i] = b[i];
  return p + b.length;
}

/**
 * Page number hi * 2^24 + lo (hi < 2^17, lo < 2^24: both small integers) as the address in
 * lower-case hex, no leading zeros — the page's hex digits and "000" (page 0: "0") — into `buf` at
 * `p`; the position after it.
 */
function hexPage(buf: Uint8Array, p: number, hi: number, lo: number): number {
  let s: number;
  if (hi > 0) {
    for (s = 28 - (Math.clz32(hi) & ~3); s >= 0; s -= 4) buf[p++] = HEX[(hi >>> s) & 15];
    s = 20;
  } else if (lo === 0) {
    buf[p] = 48;
    return p + 1;
  } else s = 28 - (Math.clz32(lo) & ~3);
  for (; s >= 0; s -= 4) buf[p++] = HEX[(lo >>> s) & 15];
  buf[p] = 48;
  buf[p + 1] = 48;
  buf[p + 2] = 48;
  return p + 3;
}

/**
 * The events of a generated trace as CSV rows or JSONL lines (ASCII bytes), in pieces of about
 * `pieceBytes` (views of one reused buffer: each is valid until the next one is asked for).
 */
export function* generatedText(
  o: GenOptions,
  format: 'csv' | 'jsonl',
  pieceBytes: number = PIECE_BYTES,
): Generator<Uint8Array> {
  // Largest address any pattern forms: mixed's CPU buffer after the working set; largest time:
  // every step at its most (1.5 × --step, rounded).
  if (
    generatedEnd(o.base, o.size) + BigInt(TWO_M) >= 1n << 53n ||
    o.size % BigInt(PAGE) !== 0n ||
    o.base % BigInt(PAGE) !== 0n ||
    o.events * (1.5 * o.stepNs + 1) >= 2 ** 53
  ) {
    let buf = '';
    const line = format === 'csv' ? csvLine : jsonlLine;
    for (const e of generate(o)) {
      buf += line(e);
      if (buf.length >= pieceBytes) {
        yield Buffer.from(buf, 'latin1');
        buf = '';
      }
    }
    if (buf.length > 0) yield Buffer.from(buf, 'latin1');
    return;
  }
  const rnd = prng(o.seed);
  // Addresses and sizes are counted in pages from here on (every one is a multiple of 4K): small
  // integers (V8 Smis) passed to emit(), which is too big to be inlined into the pattern loops; an
  // address as a number would be a heap number allocated at every call.
  const basePage = Number(o.base) / PAGE;
  const pages = Number(o.size) / PAGE;
  const step = o.stepNs;
  const csv = format === 'csv';
  const limit = o.events;
  const FILL = Number(MAX_FILL) / PAGE;
  const CHUNK = TWO_M / PAGE;
  const piece = Math.max(1, pieceBytes);
  // Fixed text of a line: before the time, from the time to the address's digits (by operation),
  // between the address and the size, and the end (with and without a size).
  const head = ascii(csv ? '' : '{"t":');
  const opText = (op: Op) => ascii(csv ? `,${op},0x` : `,"op":"${op}","addr":"0x`);
  const M = Object.fromEntries(OPS.map((op) => [op, opText(op)])) as Record<Op, Uint8Array>;
  const sizeMid = ascii(csv ? ',0x' : '","size":"0x');
  const endSized = ascii(csv ? '\n' : '"}\n');
  const endBare = ascii(csv ? ',\n' : '"}\n');
  let n = 0;
  /**
   * The time (T[0]) and the power of ten where it gains a digit (T[1]; t only grows): in a
   * Float64Array, as captured `let`s they would be heap numbers allocated anew at every event.
   */
  const T = new Float64Array([0, 10]);
  let tDigits = 1;
  const buf = Buffer.allocUnsafe(piece + SLACK);
  let pos = 0;
  /**
   * One event at page `page` of the working set (its address: base + page * 4K), of `len` pages
   * (< 0: no size), then the time step, as generate() does. The write position is a local while
   * the line is written (a captured `let` would be loaded and stored at every byte).
   */
  const emit = (op: Uint8Array, page: number, len: number): void => {
    if (n++ >= limit) throw DONE;
    let p = put(buf, pos, head);
    // The time in decimal, filled from its last digit back, two digits at a time.
    let x = T[0];
    while (x >= T[1]) {
      tDigits++;
      T[1] *= 10;
    }
    p += tDigits;
    let d = p;
    while (x >= 100) {
      const q = Math.floor(x / 100);
      const r = (x - q * 100) << 1;
      buf[--d] = DEC2[r + 1];
      buf[--d] = DEC2[r];
      x = q;
    }
    if (x >= 10) {
      buf[--d] = DEC2[(x << 1) + 1];
      buf[--d] = DEC2[x << 1];
    } else buf[--d] = 48 + x;
    // The address, then the size if there is one, by the same code: the sized events come first,
    // before V8 records type feedback, then (in most patterns) rarely, so code of their own would
    // be compiled without feedback and its first use would throw the optimised emit() away.
    let text = op;
    let v = basePage + page;
    let rest = len;
    for (;;) {
      p = put(buf, p, text);
      const hi = Math.floor(v / 16777216);
      p = hexPage(buf, p, hi, v - hi * 16777216);
      if (rest < 0) break;
      text = sizeMid;
      v = rest;
      rest = -1;
    }
    p = put(buf, p, len >= 0 ? endSized : endBare);
    pos = p;
    T[0] += Math.max(1, Math.round(step * (0.5 + rnd())));
  };
  /**
   * Where the buffer is handed out: 4 KiB for the first piece, then twice as much each time up to
   * `piece`. (The first flush so comes early, while V8 is still gathering type feedback: a first
   * `yield*` met only after it optimised a pattern's loop, 1 MiB into the trace, had no feedback
   * and threw the optimised loop away.)
   */
  let fillTo = Math.min(piece, 4096);
  /** The filled part of the buffer, handed out; written over from the start once resumed. */
  function* flush(): Generator<Uint8Array> {
    yield buf.subarray(0, pos);
    pos = 0;
    if (fillTo < piece) fillTo = Math.min(piece, fillTo * 2);
  }
  /** A CPU fill as writes of at most MAX_FILL each (generate.ts cpuFill()). */
  function* cpuFill(page: number, len: number): Generator<Uint8Array> {
    for (let off = 0; off < len; off += FILL) {
      if (pos >= fillTo) yield* flush();
      emit(M.cpu_write, page + off, Math.min(len - off, FILL));
    }
  }
  const randPage = () => Math.floor(rnd() * pages);
  function* events(): Generator<Uint8Array> {
    switch (o.pattern) {
      case 'streaming':
        emit(M.mmap, 0, pages);
        yield* cpuFill(0, pages);
        for (;;)
          for (let p = 0; p < pages; p++) {
            if (pos >= fillTo) yield* flush();
            emit(M.gpu_read, p, -1);
          }
      case 'random':
        emit(M.mmap, 0, pages);
        for (;;) {
          if (pos >= fillTo) yield* flush();
          const r = rnd();
          const p = randPage();
          emit(r < 0.3 ? M.cpu_write : r < 0.4 ? M.cpu_read : r < 0.8 ? M.gpu_read : M.gpu_write, p, -1);
        }
      case 'hotcold': {
        emit(M.mmap, 0, pages);
        const hot = Math.max(1, Math.floor(pages / 10));
        for (;;) {
          if (pos >= fillTo) yield* flush();
          const p = rnd() < 0.9 ? Math.floor(rnd() * hot) : randPage();
          emit(rnd() < 0.2 ? M.cpu_write : M.gpu_read, p, -1);
        }
      }
      case 'pingpong': {
        emit(M.mmap, 0, pages);
        const chunks = Math.max(1, Math.floor(pages / CHUNK));
        for (;;) {
          if (pos >= fillTo) yield* flush();
          const c = Math.floor(rnd() * chunks) * CHUNK;
          emit(M.gpu_write, c, -1);
          emit(M.cpu_read, c + Math.floor(rnd() * 512), -1);
        }
      }
      case 'atomic':
        emit(M.mmap, 0, pages);
        for (;;) {
          if (pos >= fillTo) yield* flush();
          const p = randPage();
          emit(M.gpu_atomic, p, -1);
          if (rnd() < 0.3) emit(M.cpu_read, p, -1);
        }
      case 'oversub':
        emit(M.mmap, 0, pages);
        for (;;)
          for (let p = 0; p < pages; p += 512) {
            if (pos >= fillTo) yield* flush();
            emit(M.gpu_read, p, -1);
          }
      case 'churn': {
        const slots = Math.max(1, Math.floor(pages / CHUNK));
        for (;;) {
          if (pos >= fillTo) yield* flush();
          const s = Math.floor(rnd() * slots) * CHUNK;
          const len = 1 + Math.floor(rnd() * 512);
          emit(M.mmap, s, len);
          emit(M.cpu_write, s, 1);
          emit(M.gpu_read, s, -1);
          emit(M.munmap, s, len);
        }
      }
      case 'sparse':
        emit(M.mmap, 0, pages);
        for (;;) {
          if (pos >= fillTo) yield* flush();
          const p = randPage();
          emit(M.cpu_write, p, -1);
          emit(M.gpu_read, p, -1);
        }
      case 'mixed': {
        const cpuPages = Math.max(512, Math.floor(pages / 4));
        emit(M.mmap, 0, pages);
        emit(M.mmap, pages, cpuPages);
        yield* cpuFill(pages, cpuPages);
        const window = Math.min(pages, 16384);
        let cursor = 0;
        let winStart = 0;
        for (;;) {
          if (pos >= fillTo) yield* flush();
          const r = rnd();
          if (r < 0.62) {
            emit(rnd() < 0.7 ? M.gpu_read : M.gpu_write, winStart + cursor, -1);
            cursor++;
            if (cursor >= window) {
              cursor = 0;
              winStart = Math.floor(rnd() * Math.max(1, pages - window));
            }
          } else if (r < 0.97) {
            const p = Math.floor(rnd() * cpuPages);
            emit(rnd() < 0.5 ? M.cpu_read : M.cpu_write, pages + p, -1);
          } else if (r < 0.9985) {
            emit(M.gpu_read, winStart + Math.floor(rnd() * window), -1);
          } else if (r < 0.9995) {
            emit(M.cpu_read, winStart + Math.floor(rnd() * window), -1);
          } else if (r < 0.99995) {
            emit(M.gpu_atomic, winStart + Math.floor(rnd() * window), -1);
          } else {
            const c = Math.floor(rnd() * Math.max(1, Math.floor(pages / CHUNK))) * CHUNK;
            emit(M.munmap, c, CHUNK);
            emit(M.mmap, c, CHUNK);
          }
        }
      }
    }
  }
  try {
    yield* events();
  } catch (e) {
    if (e !== DONE) throw e;
  }
  if (pos > 0) yield buf.subarray(0, pos);
}
