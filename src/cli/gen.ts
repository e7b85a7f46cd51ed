/**
 * DOC: `svmsim gen` — synthetic traces
 *
 * Streams a generated trace (src/gen/generate.ts) to stdout or a file, in CSV or JSONL, with an
 * optional platform header. Output is written in 1 MiB batches so 10-million-event traces need no
 * memory.
 */

import { generatedEnd, type Pattern, CSV_HEADER, defaultVram, formatForOutput } from '../gen/generate.js';
import { generatedText } from '../gen/fast.js';
import { parsePlatformSettings, parseSize } from '../trace/index.js';
import type { CliIo } from './main.js';
import type { GenCliOpts } from './commands.js';
import { outputFor, yieldToSignals } from './output.js';
import { UsageError } from './errors.js';

export async function runGen(pattern: Pattern, o: GenCliOpts, io: CliIo): Promise<void> {
  const { events, seed, base, step: stepNs } = o;
  const size = parseSize(o.size);
  if (size < 1n << 21n || size % 4096n !== 0n)
    throw new UsageError(`--size ${o.size}: expected at least 2M, a multiple of 4K`);
  const hexBase = `0x${base.toString(16)}`;
  if (base % (1n << 21n) !== 0n) throw new UsageError(`--base ${hexBase}: expected a 2M-aligned address`);
  if (generatedEnd(base, size) > 1n << 64n) {
    throw new UsageError(
      `--base ${hexBase} --size ${o.size}: the trace's addresses would pass 2^64 (it uses [base, base+size) and, for "mixed", a CPU buffer of size/4 after it)`,
    );
  }
  // The header must read back: validated as the trace readers will (4K granularity, ...).
  const vram =
    o.vram === undefined
      ? defaultVram(pattern, size)
      : (parsePlatformSettings({ vram: o.vram }, '--vram').vramBytes as bigint);
  // The file must read back: its extension decides how svmsim reads it.
  const byName = formatForOutput(o.output);
  if (o.output !== undefined && /\.json$/i.test(o.output))
    throw new UsageError(`-o ${o.output}: gen writes CSV or JSONL; name the file .csv or .jsonl`);
  if (o.format !== undefined && o.output !== undefined && /\.(csv|jsonl)$/i.test(o.output) && o.format !== byName) {
    throw new UsageError(
      `--format ${o.format} -o ${o.output}: a .${byName} file is read as ${byName.toUpperCase()}; drop --format or rename the file`,
    );
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
  // ASCII bytes, written as they are where the output takes bytes (no string made and encoded again).
  // Each piece is a view of the writer's one buffer: written (synchronously) before the next is asked for.
  const writeBytes = out.writeBytes ?? ((b: Uint8Array) => out.write(Buffer.from(b).toString('latin1')));
  for (const piece of generatedText({ pattern, events, size, seed, base, stepNs }, format)) {
    writeBytes(piece);
    await yieldToSignals(); // Ctrl-C removes the temporary output file
  }
  await out.close();
}
