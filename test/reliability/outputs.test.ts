/**
 * Output paths and process edges (issue 15): svmsim never destroys a file it did not create —
 * devices, FIFOs and symlink targets are written, never replaced; `-o` naming an input is refused
 * before reading; no temporary file survives an error or Ctrl-C; messages name the user's path.
 * A closed pipe stops the command at once and keeps its verdict; a full disk is exit 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import { liveTemporaryFiles, openOutputFile } from '../../src/cli/node-io.js';
import { runCli } from '../cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-out-'));
const T = 'traces/01-first-touch-2m.json';
const temps = (d: string) => readdirSync(d).filter((f) => f.endsWith('.tmp'));
const svmsim = (args: string[], opts: Parameters<typeof spawnSync>[2] = {}) =>
  spawnSync('node', ['bin/svmsim.js', ...args], { encoding: 'utf8', ...opts });

/** A CSV trace of n GPU reads over 1 GiB (about 7 KiB of JSON output per 20 events). */
function bigTrace(name: string, n: number, tail = ''): string {
  const rows = ['t,op,addr,size', '0,mmap,0x7f0000000000,0x40000000'];
  for (let i = 0; i < n; i++) rows.push(`${i + 1},gpu_read,0x${(0x7f0000000000 + (i % 262144) * 4096).toString(16)},`);
  const p = join(dir, name);
  writeFileSync(p, rows.join('\n') + '\n' + tail);
  return p;
}

describe('--output never replaces what the user points at', () => {
  test('a device (/dev/null, /dev/full) is written in place, never replaced, nothing created beside it', async () => {
    const before = statSync('/dev/null');
    const out = openOutputFile('/dev/null');
    out.write('x'.repeat(100000));
    await out.close();
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(statSync('/dev/null').ino).toBe(before.ino);
    expect(readdirSync('/dev').filter((f) => f.startsWith('.null'))).toEqual([]);
    const full = openOutputFile('/dev/full');
    expect(() => full.write('x')).toThrow(expect.objectContaining({ code: 'ENOSPC', path: '/dev/full' }));
    const r = svmsim(['replay', T, '-o', '/dev/full']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('svmsim: /dev/full: no space left on device\n');
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  test('a FIFO is written to its reader, and stays a FIFO', () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = spawnSync(
      'bash',
      [
        '-c',
        `cat '${fifo}' > '${fifo}.got' & node bin/svmsim.js replay ${T} --format json -o '${fifo}'; s=$?; wait; exit $s`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(JSON.parse(readFileSync(`${fifo}.got`, 'utf8')).svmsim).toBe(1);
    expect(temps(dir)).toEqual([]);
  });

  test('a symlink is written through (atomically at its target, keeping its mode); a dangling one creates its target', async () => {
    const real = join(dir, 'real.json');
    writeFileSync(real, 'old\n');
    chmodSync(real, 0o640);
    const link = join(dir, 'link.json');
    symlinkSync('real.json', link);
    const r = await runCliReal(['replay', T, '--format', 'json', '-o', link]);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('real.json');
    expect(JSON.parse(readFileSync(real, 'utf8')).svmsim).toBe(1);
    expect(statSync(real).mode & 0o777).toBe(0o640);
    const dangling = join(dir, 'dangling.json');
    symlinkSync('created.json', dangling);
    const out = openOutputFile(dangling);
    out.write('new\n');
    await out.close();
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'created.json'), 'utf8')).toBe('new\n');
    expect(temps(dir)).toEqual([]);
  });

  test('an existing directory is refused before anything is created; errors name the user path, never the temporary file', () => {
    const d = join(dir, 'outdir');
    mkdirSync(d);
    expect(() => openOutputFile(d)).toThrow(UsageError);
    expect(() => openOutputFile(d)).toThrow(`${d}: is a directory, expected an output file`);
    expect(readdirSync(d)).toEqual([]);
    expect(temps(dir)).toEqual([]);
    expect(() => openOutputFile(join(dir, 'nodir', 'x.json'))).toThrow(
      `${join(dir, 'nodir', 'x.json')}: no such directory: ${join(dir, 'nodir')}`,
    );
    expect(liveTemporaryFiles()).toEqual([]);
  });

  test('-o naming an input (also via a symlink, or the file on stdin) is exit 2 before reading, for replay, compare and every command with --output', () => {
    const input = join(dir, 'input.csv');
    writeFileSync(input, 't,op,addr,size\n0,mmap,0x7f0000000000,2M\n');
    const link = join(dir, 'input-link.csv');
    symlinkSync(input, link);
    for (const args of [
      ['replay', input, '-o', input],
      ['replay', link, '-o', input],
      ['compare', input, '-o', link, '-k', '6.17,6.18'],
    ]) {
      const r = svmsim(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--output .*input(-link)?\.csv: is the input .*; refusing to overwrite it/);
    }
    const viaStdin = spawnSync('bash', ['-c', `node bin/svmsim.js replay - -o '${input}' < '${input}'`], {
      encoding: 'utf8',
    });
    expect(viaStdin.status).toBe(2);
    expect(viaStdin.stderr).toMatch(/is the input \(standard input\)/);
    // gen's pattern is not a path: a file named like it may be the output.
    writeFileSync(join(dir, 'streaming'), 'old');
    expect(
      spawnSync('node', [join(process.cwd(), 'bin/svmsim.js'), 'gen', 'streaming', '-n', '5', '-o', 'streaming'], {
        cwd: dir,
      }).status,
    ).toBe(0);
    expect(readFileSync(input, 'utf8')).toBe('t,op,addr,size\n0,mmap,0x7f0000000000,2M\n');
  });
});

/** runCli with the real process I/O for output files (node-io), stdout captured. */
async function runCliReal(argv: string[]) {
  const { main } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    readText: async (p) => readFileSync(p, 'utf8'),
    writeFileAtomic: async (p, t) => {
      const o = openOutputFile(p);
      o.write(t);
      await o.close();
    },
    openOutput: openOutputFile,
    colorLevel: 0,
  });
  return { code, stdout, stderr };
}

describe('pipes, full disks and signals', () => {
  test('`diff A B | head -c 10` keeps the verdict: exit 1 when different (was 0), 0 when equal', () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect(svmsim(['replay', T, '--format', 'json', '-o', a]).status).toBe(0);
    expect(svmsim(['replay', 'traces/02-cpu-gpu-pingpong.json', '--format', 'json', '-o', b]).status).toBe(0);
    for (const f of ['json', 'text']) {
      const r = spawnSync(
        'bash',
        ['-c', `set -o pipefail; node bin/svmsim.js diff '${a}' '${b}' -f ${f} | head -c 10 >/dev/null`],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toBe('');
    }
    expect(
      spawnSync('bash', ['-c', `set -o pipefail; node bin/svmsim.js diff '${a}' '${a}' | head -c 10 >/dev/null`])
        .status,
    ).toBe(0);
    // A directory as a result names it (was a message without the path).
    const d = svmsim(['diff', a, dir]);
    expect(d.status).toBe(2);
    expect(d.stderr).toBe(`svmsim: ${dir}: is a directory, expected a file\n`);
  });

  test('`replay -f json | head -1` stops at the closed pipe: it never reaches a bad last line (it would exit 2 if it read on)', () => {
    const trace = bigTrace('late-bad.csv', 120000, '999999999,gpu_read,nope,\n');
    const r = spawnSync(
      'bash',
      ['-c', `set -o pipefail; node bin/svmsim.js replay '${trace}' -f json | head -1 >/dev/null`],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const gen = spawnSync(
      'bash',
      ['-c', 'set -o pipefail; node bin/svmsim.js gen mixed -n 100000000 | head -1 >/dev/null'],
      { encoding: 'utf8' },
    );
    expect(gen.status).toBe(0);
  });

  test('stdout on a full device (> /dev/full) is exit 2 with one line, no stack (was an uncaught ENOSPC, exit 1)', () => {
    const fd = openSync('/dev/full', 'w');
    const r = spawnSync('node', ['bin/svmsim.js', 'replay', T], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('svmsim: standard output: no space left on device\n');
  });

  test('Ctrl-C (SIGINT) and SIGTERM during `replay -o` / `gen -o` / `import -o` leave no temporary file and no partial output', async () => {
    const trace = bigTrace('long.csv', 400000);
    const smi = join(dir, 'long-smi.txt');
    writeFileSync(
      smi,
      Array.from(
        { length: 400000 },
        (_, i) => `7 ${1000000 + i * 1000} -4338 @${(0x7f0000000 + i).toString(16)}(1) R\n`,
      ).join(''),
    );
    for (const [args, sig] of [
      [['import', smi, '--from', 'kfd-smi', '-o', join(dir, 'sig.jsonl')], 'SIGINT'],
      [['replay', trace, '--format', 'json', '-o', join(dir, 'sig.json')], 'SIGINT'],
      [['gen', 'mixed', '-n', '100000000', '-o', join(dir, 'sig.csv')], 'SIGTERM'],
    ] as const) {
      const child = spawn('node', ['bin/svmsim.js', ...args], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.on('exit', (code, signal) => resolve(signal ?? code)),
      );
      while (temps(dir).length === 0) await new Promise((r) => setTimeout(r, 20)); // the output has started
      child.kill(sig);
      expect(await exited).toBe(sig);
      expect(temps(dir)).toEqual([]);
      expect(existsSync(args[args.length - 1])).toBe(false);
    }
  });

  test('binary stdin (< /dev/zero) is refused at once (was endless); a FIFO or process substitution is read as a stream (was "empty trace")', () => {
    const zero = openSync('/dev/zero', 'r');
    const r = spawnSync('node', ['bin/svmsim.js', 'replay', '-'], { stdio: [zero, 'pipe', 'pipe'], encoding: 'utf8' });
    closeSync(zero);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('svmsim: <stdin>:1: binary data (NUL byte) in a text trace\n');
    const ref = svmsim(['replay', 'traces/12-need64k.csv', '--format', 'debugfs']);
    for (const cmd of [
      'node bin/svmsim.js replay <(cat traces/12-need64k.csv) --format debugfs',
      'node bin/svmsim.js replay <(gzip -c traces/12-need64k.csv) --format debugfs',
      'node bin/svmsim.js replay /dev/stdin --format debugfs < traces/12-need64k.csv',
    ]) {
      const p = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
      expect(p.status, p.stderr).toBe(0);
      expect(p.stdout).toBe(ref.stdout);
    }
  });
});

describe('in-process harness keeps the verdict too', () => {
  test('a command whose stdout reports closed stops with exit 0 and no message', async () => {
    const { main } = await import('../../src/cli/main.js');
    let writes = 0;
    let stderr = '';
    const code = await main(
      ['replay', bigTrace('closed.csv', 60000, '999999999,gpu_read,nope,\n'), '--format', 'json'],
      {
        stdout: () => {
          writes++;
          return false;
        },
        stderr: (s) => void (stderr += s),
        readText: async (p) => readFileSync(p, 'utf8'),
        writeFileAtomic: async () => {},
        openOutput: openOutputFile,
        colorLevel: 0,
      },
    );
    expect(code).toBe(0);
    expect(writes).toBe(1);
    expect(stderr).toBe('');
    expect((await runCli(['replay', T, '--format', 'debugfs'])).code).toBe(0);
  });
});
