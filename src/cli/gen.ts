/**
 * DOC: `svmsim gen` — synthetic traces
 *
 * Streams a generated trace (src/gen/generate.ts) to stdout or a file, in CSV or JSONL, with an
 * optional platform header. Output is written in 1 MiB batches so 10-million-event traces need no
 * memory.
 */

import { PATTERNS, generatedEnd, type Pattern, CSV_HEADER, defaultVram, formatForOutput } from '../gen/generate.js';
import { generatedText } from '../gen/fast.js';
import { parseAddr, parsePlatformSettings, parseSize, parseTime } from '../trace/index.js';
import type { CliIo } from './main.js';
import { outputFor, yieldToSignals } from './output.js';
import { UsageError } from './errors.js';

export interface GenCliOpts {
  events: string;
  size: string;
  seed: string;
  base: string;
  step: string;
  /** Default: by the extension of --output (.jsonl → jsonl), else csv. */
  format?: 'csv' | 'jsonl';
  vram?: string;
  output?: string;
}

function value<T>(what: string, raw: string, fn: (s: string) => T): T {
  try {
    return fn(raw);
  } catch {
    throw new UsageError(`--${what} ${raw}: not a valid ${what}`);
  }
}

export async function runGen(pattern: string, o: GenCliOpts, io: CliIo): Promise<void> {
  if (!(PATTERNS as readonly string[]).includes(pattern)) throw new UsageError(`unknown pattern "${pattern}"; patterns: ${PATTERNS.join(', ')}`);
  const events = Number(o.events);
  if (!Number.isSafeInteger(events) || events < 1) throw new UsageError(`--events ${o.events}: expected a positive integer`);
  const seed = Number(o.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${o.seed}: expected an integer`);
  const size = value('size', o.size, parseSize);
  if (size < 1n << 21n || size % 4096n !== 0n) throw new UsageError(`--size ${o.size}: expected at least 2M, a multiple of 4K`);
  const base = value('base', o.base, parseAddr);
  if (base % (1n << 21n) !== 0n) throw new UsageError(`--base ${o.base}: expected a 2M-aligned address`);
  if (generatedEnd(base, size) > 1n << 64n) {
    throw new UsageError(`--base ${o.base} --size ${o.size}: the trace's addresses would pass 2^64 (it uses [base, base+size) and, for "mixed", a CPU buffer of size/4 after it)`);
  }
  const stepNs = value('step', o.step, parseTime);
  // The header must read back: validated as the trace readers will (4K granularity, ...).
  const vram = o.vram === undefined ? defaultVram(pattern as Pattern, size) : (parsePlatformSettings({ vram: o.vram }, '--vram').vramBytes as bigint);
  // The file must read back: its extension decides how svmsim reads it.
  const byName = formatForOutput(o.output);
  if (o.output !== undefined && /\.json$/i.test(o.output)) throw new UsageError(`-o ${o.output}: gen writes CSV or JSONL; name the file .csv or .jsonl`);
  if (o.format !== undefined && o.output !== undefined && /\.(csv|jsonl)$/i.test(o.output) && o.format !== byName) {
    throw new UsageError(`--format ${o.format} -o ${o.output}: a .${byName} file is read as ${byName.toUpperCase()}; drop --format or rename the file`);
  }
  const format = o.format ?? byName;

  const out = outputFor(io, o.output);
  let buf = '';
  const flush = () => {
    out.write(buf);
    buf = '';
  };
  if (format === 'csv') {
    buf += `# svmsim gen ${pattern} --events ${events} --size ${o.size} --seed ${seed}\n`;
    if (vram !== undefined) buf += `#! platform vram=${vram}\n`;
    buf += CSV_HEADER;
  } else {
    buf += `{"svmsim":1,"platform":{${vram !== undefined ? `"vram":"${vram}"` : ''}}}\n`;
    buf += `# svmsim gen ${pattern} --events ${events} --size ${o.size} --seed ${seed}\n`;
  }
  flush();
  for (const text of generatedText({ pattern: pattern as Pattern, events, size, seed, base, stepNs }, format)) {
    out.write(text);
    await yieldToSignals(); // Ctrl-C removes the temporary output file
  }
  await out.close();
}
