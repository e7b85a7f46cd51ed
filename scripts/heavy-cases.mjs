// Heavy hostile inputs (issue 15): too slow or too big for every CI run, run by `npm run
// test:heavy` (test/reliability/heavy.test.ts asserts the exit codes and messages) and by
// `npm run bench` (which records the timings and peak RSS). Each case is a bash command line
// run from the repository root, timed with GNU time when it is installed (its setup, which makes
// input files, is not timed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const S = 'node bin/svmsim.js';

/** @type {{ name: string, setup?: (dir: string) => string, cmd: (dir: string) => string, exit: number, stderr: RegExp }[]} */
export const HEAVY_CASES = [
  {
    name: 'a 560 MB single line through a pipe',
    cmd: () => `head -c 587202560 /dev/zero | tr '\\0' 7 | ${S} replay -`,
    exit: 2,
    stderr: /^svmsim: <stdin>:1: line longer than 1 MiB/,
  },
  {
    name: 'a 100 MB line through a pipe (JSONL)',
    cmd: () =>
      `(printf '{"op":"mmap","addr":"0x1000","size":"'; head -c 100000000 /dev/zero | tr '\\0' 7; printf '"}\\n') | ${S} replay - --input-format jsonl`,
    exit: 2,
    stderr: /^svmsim: <stdin>:1: line longer than 1 MiB/,
  },
  {
    name: 'a 100 MB digit string as size (CSV file)',
    setup: (d) =>
      `(printf 't,op,addr,size\\n0,mmap,0x1000,'; head -c 100000000 /dev/zero | tr '\\0' 9; echo) > ${d}/digits.csv`,
    cmd: (d) => `${S} replay ${d}/digits.csv`,
    exit: 2,
    stderr: /digits\.csv:2: line longer than 1 MiB/,
  },
  {
    name: 'replay - < /dev/zero',
    cmd: () => `${S} replay - < /dev/zero`,
    exit: 2,
    stderr: /^svmsim: <stdin>:1: binary data \(NUL byte\)/,
  },
  {
    name: 'JSON document nested 5,000,000 levels deep',
    setup: (d) =>
      `node -e "process.stdout.write('{\\"svmsim\\":1,\\"events\\":[{\\"op\\":\\"mmap\\",\\"addr\\":' + '['.repeat(5e6) + ']'.repeat(5e6) + ',\\"size\\":4096}]}')" > ${d}/deep.json`,
    cmd: (d) => `${S} replay ${d}/deep.json`,
    exit: 2,
    stderr: /deep\.json:1:\d+: JSON nested deeper than 64 levels/,
  },
  {
    name: 'mmap 0 +128T; cpu_write 0 +128T',
    cmd: () => `printf 'op,addr,size\\nmmap,0x0,128T\\ncpu_write,0x0,128T\\n' | ${S} replay - --input-format csv`,
    exit: 2,
    stderr: /<stdin>:3: field "size": expected at most 64G for one cpu_write/,
  },
  {
    name: 'gpu_read of 2^63 bytes',
    cmd: () =>
      `printf 'op,addr,size\\nmmap,0x0,127T\\ngpu_read,0x0,0x8000000000000000\\n' | ${S} replay - --input-format csv`,
    exit: 2,
    stderr: /<stdin>:3: field "size": expected at most 64G for one gpu_read/,
  },
  {
    name: '41 CPU writes of 64G each (2.6 TiB touched), then munmap 127T',
    cmd: () =>
      `(printf 'op,addr,size\\nmmap,0x0,127T\\n'; for i in $(seq 0 40); do printf 'cpu_write,0x%x,64G\\n' $((i * 0x1000000000)); done; printf 'munmap,0x0,127T\\n') | ${S} replay - --input-format csv --format debugfs > /dev/null`,
    exit: 0,
    stderr: /^$/,
  },
  {
    name: '41 GPU reads of 64G each (2.6 TiB faulted) with a 200 MB heap',
    cmd: () =>
      `(printf 'op,addr,size\\nmmap,0x0,127T\\n'; for i in $(seq 0 40); do printf 'gpu_read,0x%x,64G\\n' $((i * 0x1000000000)); done) | NODE_OPTIONS=--max-old-space-size=200 ${S} replay - --input-format csv --format debugfs > /dev/null`,
    exit: 2,
    stderr: /^svmsim: the model state outgrew \d+ MB of the \d+ MB heap/,
  },
  {
    name: '20M events piped from gen into replay',
    cmd: () => `set -o pipefail; ${S} gen mixed -n 20000000 | ${S} replay - --format debugfs > /dev/null`,
    exit: 0,
    stderr: /^$/,
  },
  {
    name: 'replay of 2M events -f json | head -1',
    setup: (d) => `${S} gen mixed -n 2000000 -o ${d}/2m.csv`,
    cmd: (d) => `set -o pipefail; ${S} replay ${d}/2m.csv -f json | head -1 > /dev/null`,
    exit: 0,
    stderr: /^$/,
  },
];

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Run one case: exit code, stderr (without the timing line), seconds and peak RSS in MB (of the last command of the pipeline, or undefined without GNU time). */
export function runHeavyCase(c, dir = mkdtempSync(join(tmpdir(), 'svmsim-heavy-'))) {
  const marker = '@@time';
  if (c.setup) spawnSync('bash', ['-c', c.setup(dir)], { stdio: 'ignore' }); // not timed
  // Time the whole command line; %M is the largest RSS of the timed process tree's biggest member.
  const quoted = `'${c.cmd(dir).replace(/'/g, `'\\''`)}'`;
  const script = GNU_TIME ? `${GNU_TIME} -f '${marker} %e %M' bash -c ${quoted}` : c.cmd(dir);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let stderr = r.stderr ?? '';
  let seconds = wall;
  let rssMb;
  const m = new RegExp(`${marker} ([0-9.]+) ([0-9]+)\\n?$`).exec(stderr);
  if (m) {
    stderr = stderr.slice(0, m.index);
    seconds = Number(m[1]);
    rssMb = Number(m[2]) / 1024;
  }
  stderr = stderr.replace(/^Command exited with non-zero status \d+\n/m, '');
  return { exit: r.status, stderr, seconds, rssMb };
}

/** Markdown table rows of every case (for bench/results.md and docs/reliability.md). */
export function heavyTable(results) {
  const rows = ['| case | exit | time | peak RSS |', '|---|---|---|---|'];
  for (const { c, r } of results)
    rows.push(
      `| ${c.name} | ${r.exit} | ${r.seconds.toFixed(1)} s | ${r.rssMb === undefined ? 'n/a' : `${r.rssMb.toFixed(0)} MB`} |`,
    );
  return rows.join('\n');
}
