/**
 * Shared by the validate tests: the example traces, a scratch directory for logs and snapshots,
 * and `svmsim validate ... -f json` run in-process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli-harness.js';

export { traceFiles } from '../helpers.js';

/** A scratch directory; `write(text)` puts text in a new file there and returns its path. */
export function scratch(prefix: string): { dir: string; write: (text: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    dir,
    write: (text) => {
      const p = join(dir, `f${n++}.txt`);
      writeFileSync(p, text);
      return p;
    },
  };
}

/** `svmsim validate ARGS -f json`: exit code, the parsed document, stderr. */
// biome-ignore lint/suspicious/noExplicitAny: the parsed JSON document, which the tests read field by field
export async function validate(args: string[]): Promise<{ code: number; doc: any; stderr: string }> {
  const r = await runCli(['validate', ...args, '-f', 'json']);
  return { code: r.code, doc: r.stdout === '' ? undefined : JSON.parse(r.stdout), stderr: r.stderr };
}
