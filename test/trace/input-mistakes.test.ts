/**
 * Trace-side mistakes a new user makes (issue 14 §4), run through the CLI as a user would: each is
 * exit 2 with `file:line` and what was expected, in every encoding, never silently accepted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseAddr } from '../../src/trace/index.js';
import { runCli } from '../cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-mistakes-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** Exit 2 with one line on stderr matching `re`, no stack trace. */
async function refused(argv: string[], re: RegExp, stdin?: string) {
  const r = await runCli(argv, { stdin });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(re);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
}

const MMAP_CSV = 't,op,addr,size\n0,mmap,0x7f0000000000,2M\n';

describe('an address string without 0x is an error (parseAddr)', () => {
  test('hex letters and no 0x: "7f00000000ab" names the 0x spelling, in CSV, JSONL and a JSON document', async () => {
    const hint =
      /field "addr": expected an address in hex with 0x \(did you mean "0x7f00000000ab"\?\), found "7f00000000ab"/;
    await refused(
      ['replay', file('a.csv', `${MMAP_CSV}1,gpu_read,7f00000000ab,\n`)],
      new RegExp(`a\\.csv:3: ${hint.source}`),
    );
    await refused(
      [
        'replay',
        file('a.jsonl', '{"op":"mmap","addr":"0x7f0000000000","size":"2M"}\n{"op":"gpu_read","addr":"7f00000000ab"}\n'),
      ],
      new RegExp(`a\\.jsonl:2: ${hint.source}`),
    );
    await refused(
      ['replay', file('a.json', '{"svmsim":1,"events":[\n{"op":"mmap","addr":"7f00000000ab","size":"2M"}\n]}')],
      new RegExp(`a\\.json:2: ${hint.source}`),
    );
  });

  test('only digits, meant as hex: "7000000000" is refused with the 0x spelling and the documented decimal form (a JSON number)', async () => {
    await refused(
      ['replay', file('d.csv', 't,op,addr,size\n0,mmap,7000000000,2M\n')],
      /d\.csv:2: field "addr": expected an address in hex with 0x \(did you mean "0x7000000000"\?; a decimal address is written as a JSON number, never a string\), found "7000000000"/,
    );
    await refused(
      ['replay', '-', '--input-format', 'jsonl'],
      /<stdin>:1: field "addr": expected an address in hex with 0x \(did you mean "0x7000000000"\?/,
      '{"op":"mmap","addr":"7000000000","size":"2M"}\n',
    );
    // The documented decimal form: a JSON number is decimal.
    const ok = await runCli([
      'replay',
      file('n.jsonl', '{"op":"mmap","addr":7000000000,"size":"2M"}\n'),
      '--format',
      'json',
      '--no-events',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).ranges).toEqual([]);
    expect(parseAddr(7000000000)).toBe(7000000000n);
    expect(parseAddr('0x7000000000')).toBe(0x7000000000n);
    expect(parseAddr(' 0X7f00000000AB ')).toBe(0x7f00000000abn);
    expect(() => parseAddr('7000000000')).toThrow(/in hex with 0x/);
    expect(() => parseAddr('0')).toThrow(/did you mean "0x0"/);
    // Not an address at all: the general message.
    expect(() => parseAddr('zz')).toThrow(/^an address \(hex 0x\.\.\., or a JSON integer\) below 2\^64$/);
  });
});

describe('a CSV "#!" line after the header row is an error, not ignored', () => {
  test('#! platform and #! expect after the header: exit 2 at their line (file and stdin)', async () => {
    const late = `${MMAP_CSV}#! platform vram=4G\n1,gpu_read,0x7f0000001000,\n`;
    await refused(
      ['replay', file('late.csv', late)],
      /late\.csv:3: "#!" lines \(platform, expect\) must come before the header row/,
    );
    await refused(
      ['replay', '-', '--input-format', 'csv'],
      /<stdin>:3: "#!" lines \(platform, expect\) must come before the header row/,
      late,
    );
    await refused(['replay', file('late2.csv', `${MMAP_CSV}#!expect {}\n`)], /late2\.csv:3: "#!" lines/);
    // Before the header it is read.
    const ok = await runCli([
      'replay',
      file('early.csv', `#! platform vram=4G\n${MMAP_CSV}`),
      '--format',
      'json',
      '--no-events',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).platform.vram).toBe(4 * 2 ** 30);
  });
});

describe('an unknown op or enum value says "did you mean"', () => {
  test('gpu_reed: did you mean gpu_read (CSV, JSONL); CPU_READ: cpu_read; an enum typo names the value', async () => {
    await refused(
      ['replay', file('op.csv', `${MMAP_CSV}1,gpu_reed,0x7f0000001000,\n`)],
      /op\.csv:3: field "op": expected "op" to be one of mmap, .*, found "gpu_reed": did you mean gpu_read\?$/m,
    );
    await refused(
      ['replay', file('op.jsonl', '{"op":"CPU_READ","addr":"0x1000"}\n')],
      /op\.jsonl:1: field "op": .*found "CPU_READ": did you mean cpu_read\?$/m,
    );
    await refused(
      ['replay', file('prot.csv', 't,op,addr,size,prot\n0,mmap,0x7f0000000000,2M,rwx\n')],
      /prot\.csv:2: field "prot": expected one of r, rw, none, found "rwx": did you mean rw\?$/m,
    );
    // Nothing close: no suggestion.
    await refused(
      ['replay', file('far.csv', `${MMAP_CSV}1,frobnicate,0x7f0000001000,\n`)],
      /far\.csv:3: field "op": .*found "frobnicate"$/m,
    );
  });
});
