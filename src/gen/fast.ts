/**
 * DOC: Generated trace text, fast (`svmsim gen`)
 *
 * The same bytes as `generate()` + `csvLine()` / `jsonlLine()` (generate.ts, the readable
 * definition of every pattern), written straight into text: addresses are doubles (exact while
 * the working set stays below 2^53) instead of bigints, no event objects, no generator frames.
 * Each pattern draws from the PRNG in exactly the order of its generator — including the draw for
 * the time step after each event — so the traces are identical (a property test compares them
 * on random options: test/gen/gen.test.ts). Outside the exact range it falls back to the plain path.
 * Text comes out as ASCII bytes in pieces of about 1 MiB (a generator), so the caller can write and yield.
 */

import { csvLine, generate, generatedEnd, jsonlLine, MAX_FILL, prng, type GenOptions } from './generate.js';

const PAGE = 4096;
const TWO_M = 2 << 20;
/** Thrown by emit() once the requested number of events is written. */
const DONE = Symbol('done');
const FLUSH_BYTES = 1 << 20;
const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const COMMA = 44;
const NL = 10;

/** The events of a generated trace as CSV rows or JSONL lines (ASCII bytes), in pieces of about 1 MiB. */
export function* generatedText(o: GenOptions, format: 'csv' | 'jsonl'): Generator<Uint8Array> {
  // Largest address any pattern forms: mixed's CPU buffer after the working set.
  if (generatedEnd(o.base, o.size) + BigInt(TWO_M) >= 1n << 53n || o.size % BigInt(PAGE) !== 0n) {
    let buf = '';
    const line = format === 'csv' ? csvLine : jsonlLine;
    for (const e of generate(o)) {
      buf += line(e);
      if (buf.length > FLUSH_BYTES) {
        yield Buffer.from(buf, 'latin1');
        buf = '';
      }
    }
    yield Buffer.from(buf, 'latin1');
    return;
  }
  const rnd = prng(o.seed);
  const base = Number(o.base);
  const size = Number(o.size);
  const pages = size / PAGE;
  const step = o.stepNs;
  const csv = format === 'csv';
  const limit = o.events;
  const FILL = Number(MAX_FILL);
  let n = 0;
  let t = 0;
  // Text goes straight into bytes (ASCII only): decimal and hex digits written by hand.
  const buf = Buffer.allocUnsafe(FLUSH_BYTES + 512);
  let pos = 0;
  /** Full pieces, handed out by the pattern loops (`if (ready.length) yield* take()`). */
  const ready: Uint8Array[] = [];
  function* take(): Generator<Uint8Array> {
    while (ready.length > 0) yield ready.shift()!;
  }
  const ascii = (s: string) => {
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  };
  const digits = (x: number, radix: number) => {
    const from = pos;
    do {
      const q = Math.floor(x / radix);
      buf[pos++] = HEX[x - q * radix];
      x = q;
    } while (x > 0);
    for (let a = from, b = pos - 1; a < b; a++, b--) {
      const c = buf[a];
      buf[a] = buf[b];
      buf[b] = c;
    }
  };
  /** One event (size < 0: none), then the time step, as generate() does. */
  const emit = (op: string, addr: number, len: number): void => {
    if (n++ >= limit) throw DONE;
    if (csv) {
      digits(t, 10);
      buf[pos++] = COMMA;
      ascii(op);
      ascii(',0x');
      digits(addr, 16);
      buf[pos++] = COMMA;
      if (len >= 0) {
        ascii('0x');
        digits(len, 16);
      }
    } else {
      ascii('{"t":');
      digits(t, 10);
      ascii(',"op":"');
      ascii(op);
      ascii('","addr":"0x');
      digits(addr, 16);
      if (len >= 0) {
        ascii('","size":"0x');
        digits(len, 16);
      }
      ascii('"}');
    }
    buf[pos++] = NL;
    if (pos >= FLUSH_BYTES) {
      ready.push(Buffer.from(buf.subarray(0, pos))); // a copy: buf is reused
      pos = 0;
    }
    t += Math.max(1, Math.round(step * (0.5 + rnd())));
  };
  /** A CPU fill as writes of at most MAX_FILL each (generate.ts cpuFill()). */
  const cpuFill = (addr: number, len: number) => {
    for (let off = 0; off < len; off += FILL) emit('cpu_write', addr + off, Math.min(len - off, FILL));
  };
  const at = (p: number) => base + p * PAGE;
  const randPage = () => Math.floor(rnd() * pages);
  function* events(): Generator<Uint8Array> {
    switch (o.pattern) {
      case 'streaming':
        emit('mmap', base, size);
        cpuFill(base, size);
        for (;;)
          for (let p = 0; p < pages; p++) {
            if (ready.length) yield* take();
            emit('gpu_read', at(p), -1);
          }
      case 'random':
        emit('mmap', base, size);
        for (;;) {
          if (ready.length) yield* take();
          const r = rnd();
          const p = randPage();
          emit(r < 0.3 ? 'cpu_write' : r < 0.4 ? 'cpu_read' : r < 0.8 ? 'gpu_read' : 'gpu_write', at(p), -1);
        }
      case 'hotcold': {
        emit('mmap', base, size);
        const hot = Math.max(1, Math.floor(pages / 10));
        for (;;) {
          if (ready.length) yield* take();
          const p = rnd() < 0.9 ? Math.floor(rnd() * hot) : randPage();
          emit(rnd() < 0.2 ? 'cpu_write' : 'gpu_read', at(p), -1);
        }
      }
      case 'pingpong': {
        emit('mmap', base, size);
        const chunks = Math.max(1, Math.floor(size / TWO_M));
        for (;;) {
          if (ready.length) yield* take();
          const c = Math.floor(rnd() * chunks) * TWO_M;
          emit('gpu_write', base + c, -1);
          emit('cpu_read', base + c + Math.floor(rnd() * 512) * PAGE, -1);
        }
      }
      case 'atomic':
        emit('mmap', base, size);
        for (;;) {
          if (ready.length) yield* take();
          const p = randPage();
          emit('gpu_atomic', at(p), -1);
          if (rnd() < 0.3) emit('cpu_read', at(p), -1);
        }
      case 'oversub':
        emit('mmap', base, size);
        for (;;)
          for (let p = 0; p < pages; p += 512) {
            if (ready.length) yield* take();
            emit('gpu_read', at(p), -1);
          }
      case 'churn': {
        const slots = Math.max(1, Math.floor(size / TWO_M));
        for (;;) {
          if (ready.length) yield* take();
          const s = base + Math.floor(rnd() * slots) * TWO_M;
          const len = (1 + Math.floor(rnd() * 512)) * PAGE;
          emit('mmap', s, len);
          emit('cpu_write', s, PAGE);
          emit('gpu_read', s, -1);
          emit('munmap', s, len);
        }
      }
      case 'sparse':
        emit('mmap', base, size);
        for (;;) {
          if (ready.length) yield* take();
          const p = randPage();
          emit('cpu_write', at(p), -1);
          emit('gpu_read', at(p), -1);
        }
      case 'mixed': {
        const cpuBase = base + size;
        const cpuPages = Math.max(512, Math.floor(pages / 4));
        emit('mmap', base, size);
        emit('mmap', cpuBase, cpuPages * PAGE);
        cpuFill(cpuBase, cpuPages * PAGE);
        const window = Math.min(pages, 16384);
        let cursor = 0;
        let winStart = 0;
        for (;;) {
          if (ready.length) yield* take();
          const r = rnd();
          if (r < 0.62) {
            emit(rnd() < 0.7 ? 'gpu_read' : 'gpu_write', at(winStart + cursor), -1);
            cursor++;
            if (cursor >= window) {
              cursor = 0;
              winStart = Math.floor(rnd() * Math.max(1, pages - window));
            }
          } else if (r < 0.97) {
            const p = Math.floor(rnd() * cpuPages);
            emit(rnd() < 0.5 ? 'cpu_read' : 'cpu_write', cpuBase + p * PAGE, -1);
          } else if (r < 0.9985) {
            emit('gpu_read', at(winStart + Math.floor(rnd() * window)), -1);
          } else if (r < 0.9995) {
            emit('cpu_read', at(winStart + Math.floor(rnd() * window)), -1);
          } else if (r < 0.99995) {
            emit('gpu_atomic', at(winStart + Math.floor(rnd() * window)), -1);
          } else {
            const c = base + Math.floor(rnd() * Math.max(1, Math.floor(size / TWO_M))) * TWO_M;
            emit('munmap', c, TWO_M);
            emit('mmap', c, TWO_M);
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
  yield* take();
  yield buf.subarray(0, pos);
}
