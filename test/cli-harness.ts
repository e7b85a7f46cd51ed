/**
 * Run the CLI in-process with captured stdout/stderr and an in-memory output-file system.
 */
import { readFile } from 'node:fs/promises';
import { main } from '../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  files: Map<string, string>;
}

export async function runCli(argv: string[], opts: { stdin?: string; color?: 0 | 1 } = {}): Promise<CliRun> {
  return runCliFiles(argv, new Map(), opts);
}

/** runCli over an in-memory file system: `files` are readable by path and receive what is written. */
export async function runCliFiles(
  argv: string[],
  files: Map<string, string>,
  opts: { stdin?: string; color?: 0 | 1 } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    readText: async (p) => (p === '-' ? (opts.stdin ?? '') : (files.get(p) ?? readFile(p, 'utf8'))),
    writeFileAtomic: async (p, t) => {
      files.set(p, t);
    },
    openOutput: (p) => {
      let text = '';
      return {
        write: (s) => {
          text += s;
        },
        close: async () => {
          files.set(p, text);
        },
        abort: () => {
          text = '';
        },
      };
    },
    colorLevel: opts.color ?? 0,
  });
  return { code, stdout, stderr, files };
}
