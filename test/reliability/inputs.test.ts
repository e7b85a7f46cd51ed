/**
 * Hostile inputs (issue 15): each case a user could name, run in-process through the CLI —
 * exit 2 with `file:line` and one clear line, never exit 3, a stack trace, a hang or a silent
 * misreading. The process-level cases (pipes, devices, signals) are in outputs.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../cli-harness.js';
import { duplicateKey, MAX_LINE_BYTES, parseSize, parseTrace, show, sniffFormat } from '../../src/trace/index.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-hostile-'));
const file = (name: string, text: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const T = 'traces/01-first-touch-2m.json';
const MMAP = '{"op":"mmap","addr":"0x7f0000000000","size":"2M"}';

/** Exit 2, one line on stderr (plus nothing else), no stack, matching `re`. */
async function refused(argv: string[], re: RegExp, stdin?: string) {
  const r = await runCli(argv, { stdin });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(re);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error|Invalid input/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr.length).toBeLessThan(600);
  return r;
}

describe('messages: one clear line each', () => {
  test('hz, boolean knobs, JSON true/null: "expected ..., found ...", never "Invalid input"', async () => {
    await refused(
      ['replay', T, '--hz', '7'],
      /option '--hz <hz>' argument '7' is invalid\. Allowed choices are 100, 250, 300, 1000\./,
    );
    await refused(
      ['replay', T, '--set', 'hz=7'],
      /field "hz": expected a kernel HZ: one of 100, 250, 300, 1000, found "7"/,
    );
    await refused(
      ['replay', T, '--set', 'dgfx=maybe'],
      /field "dgfx": expected a boolean \(true, false, 1, 0, yes or no\), found "maybe"/,
    );
    await refused(
      ['replay', file('hz.jsonl', `{"svmsim":1,"platform":{"hz":true}}\n${MMAP}\n`)],
      /hz\.jsonl:1: field "platform\.hz": expected a kernel HZ.*found true/,
    );
    await refused(
      ['replay', file('null.jsonl', '{"op":"mmap","addr":null,"size":4096}\n')],
      /null\.jsonl:1: field "addr": expected an address .*found null/,
    );
    await refused(
      ['replay', file('true.jsonl', '{"op":"mmap","addr":"0x1000","size":true}\n')],
      /true\.jsonl:1: field "size": expected a size .*found true/,
    );
  });

  test('a bad array value is shown by its first elements, not echoed whole (was a 400 KB line)', async () => {
    const big = `{"op":"mmap","addr":[${Array.from({ length: 100000 }, (_, i) => i).join(',')}],"size":4096}\n`;
    await refused(['replay', file('arr.jsonl', big)], /arr\.jsonl:1: field "addr": .*found \[0,1,2,3,\.\.\.\]$/m);
    expect(show('x'.repeat(1000)).length).toBeLessThanOrEqual(62);
  });

  test('JSON nested 100,000 levels deep: exit 2 with file:line:column before parsing (was a stack overflow, exit 3), in replay, check and compare', async () => {
    const d = 100000;
    const deep = file('deep.jsonl', `{"op":"mmap","addr":${'['.repeat(d)}${']'.repeat(d)},"size":4096}\n`);
    const deepDoc = file(
      'deep.json',
      `{"svmsim":1,\n"platform":${'{"a":'.repeat(d)}1${'}'.repeat(d)},"events":[${MMAP}]}`,
    );
    for (const cmd of ['replay', 'compare']) {
      await refused([cmd, deep], /deep\.jsonl:1:84: JSON nested deeper than 64 levels \(a trace needs 3\)/);
      await refused([cmd, deepDoc], /deep\.json:2:\d+: JSON nested deeper than 64 levels/);
      await refused(
        [cmd, '-', '--input-format', 'jsonl'],
        /<stdin>:1:84: JSON nested deeper than 64 levels/,
        readFileSync(deep, 'utf8'),
      );
    }
    const c = await runCli(['check', deep]);
    expect(c.code).toBe(2);
    expect(c.stdout).toMatch(/deep\.jsonl:1:84: error: JSON nested deeper than 64 levels/);
    // Below the limit, a nested value is shown by its first levels.
    await refused(
      ['replay', file('nested.jsonl', `{"op":"mmap","addr":${'['.repeat(50)}${']'.repeat(50)},"size":4096}\n`)],
      /nested\.jsonl:1: field "addr": .*found \[\[\[\.\.\.\]\]\]/,
    );
  });

  test('file-system errors are named, never a raw code: ENOTDIR, ELOOP, ENAMETOOLONG, EISDIR (diff a.json /tmp names /tmp)', async () => {
    await refused(
      ['replay', join(T, 'x.csv')],
      /01-first-touch-2m\.json\/x\.csv: a component of the path is not a directory/,
    );
    const loop = join(dir, 'loop');
    const { symlinkSync } = await import('node:fs');
    symlinkSync(loop, loop);
    await refused(['replay', loop], /loop: too many levels of symbolic links/);
    await refused(['replay', join(dir, 'n'.repeat(300))], /: file name too long/);
    await refused(['replay', dir], /: is a directory, expected a file/);
    const result = file('a.json', (await runCli(['replay', T, '--format', 'json'])).stdout);
    const d = await runCli(['diff', result, dir]);
    expect(d.code).toBe(2);
    expect(d.stderr).toBe(`svmsim: ${dir}: is a directory, expected a file\n`);
  });
});

/** A JSON result without its "trace" part (the input's name and sha256 differ by construction). */
const noTrace = (json: string) => json.replace(/\n {2}"trace": \{[^}]*\},/, '');

describe('encodings are detected and read correctly', () => {
  test('a JSON document whose "events" key starts after 64 KiB (stdin, unknown extension) is JSON, not JSONL', async () => {
    const doc = `{\n  "svmsim": 1,\n  "comment": "${'x'.repeat(70000)}",\n  "events": [\n    ${MMAP},\n    {"op":"gpu_read","addr":"0x7f0000000000"}\n  ]\n}\n`;
    expect(sniffFormat(doc)).toBe('json');
    const viaStdin = await runCli(['replay', '-', '--format', 'json', '--no-events'], { stdin: doc });
    expect(viaStdin.code, viaStdin.stderr).toBe(0);
    expect(JSON.parse(viaStdin.stdout).ranges).toHaveLength(1);
    const viaFile = await runCli(['replay', file('late-events.trace', doc), '--format', 'json', '--no-events']);
    expect(noTrace(viaFile.stdout)).toBe(noTrace(viaStdin.stdout));
    // JSONL with a damaged first line is still JSONL (the error is on line 1, as a JSONL error).
    expect(sniffFormat(`{"op":"mmap",\n${MMAP}\n${MMAP}\n`)).toBe('jsonl');
  });

  test('a BOM is accepted in JSONL as in CSV and JSON (file and stdin); a JSONL header in any key order', async () => {
    const bom = '\ufeff';
    const ref = await runCli([
      'replay',
      file('plain.jsonl', `{"svmsim":1,"platform":{"vram":"4G"}}\n${MMAP}\n`),
      '--format',
      'json',
      '--no-events',
    ]);
    expect(ref.code).toBe(0);
    for (const text of [
      `${bom}{"svmsim":1,"platform":{"vram":"4G"}}\n${MMAP}\n`,
      `{"platform":{"vram":"4G"},"svmsim":1}\n${MMAP}\n`,
    ]) {
      const f = await runCli(['replay', file('v.jsonl', text), '--format', 'json', '--no-events']);
      expect(f.code, f.stderr).toBe(0);
      expect(noTrace(f.stdout)).toBe(noTrace(ref.stdout));
      const s = await runCli(['replay', '-', '--format', 'json', '--no-events'], { stdin: text });
      expect(noTrace(s.stdout)).toBe(noTrace(ref.stdout));
    }
    // the header was read: its 4G of VRAM is the platform's
    expect(JSON.parse(ref.stdout).platform.vram).toBe(4 * 2 ** 30);
  });

  test('gzip (also multi-member) and zstd traces are read directly, from files and stdin; damaged ones are exit 2', async () => {
    const text = readFileSync('traces/hmm/migrate.jsonl', 'utf8');
    const ref = await runCli(['replay', 'traces/hmm/migrate.jsonl', '--format', 'json']);
    const half = text.indexOf('\n', text.length >> 1) + 1;
    const gz = Buffer.concat([gzipSync(text.slice(0, half)), gzipSync(text.slice(half))]);
    for (const p of [file('m.jsonl.gz', gz), 'test/fixtures/migrate.jsonl.zst', file('m.trace', gz)]) {
      const r = await runCli(['replay', p, '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(noTrace(r.stdout)).toBe(noTrace(ref.stdout));
    }
    await refused(
      ['replay', file('cut.jsonl.gz', gz.subarray(0, 200))],
      /cut\.jsonl\.gz: gzip data is damaged or truncated/,
    );
    await refused(
      ['replay', file('t.csv.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]))],
      /t\.csv\.xz:1: xz-compressed data, expected a text trace; decompress it first, e.g. `xzcat FILE \| svmsim replay -`/,
    );
  });

  test('binary input is refused at once, naming what it is', async () => {
    await refused(['replay', file('zero.bin', Buffer.alloc(100000))], /zero\.bin:1: binary data \(NUL byte\)/);
    await refused(['replay', file('ctl.csv', Buffer.alloc(5000, 1))], /ctl\.csv:1: binary data \(5000 control bytes/);
  });

  test(`a line longer than ${MAX_LINE_BYTES >> 20} MiB is refused with its line number, in every encoding and from stdin`, async () => {
    const digits = '7'.repeat(MAX_LINE_BYTES + 10);
    const csv = `t,op,addr,size\n0,mmap,0x1000,${digits}\n`;
    const jsonl = `${MMAP}\n{"op":"mmap","addr":"0x1000","size":"${digits}"}\n`;
    await refused(['replay', file('long.csv', csv)], /long\.csv:2: line longer than 1 MiB/);
    await refused(['replay', file('long.jsonl', jsonl)], /long\.jsonl:2: line longer than 1 MiB/);
    await refused(['replay', '-', '--input-format', 'csv'], /<stdin>:2: line longer than 1 MiB/, csv);
    const c = await runCli(['check', file('long2.csv', csv)]);
    expect(c.code).toBe(2);
    expect(c.stdout).toMatch(/long2\.csv:2: error: line longer than 1 MiB/);
    // A long digit string below the line limit is refused without converting it.
    expect(() => parseSize('9'.repeat(500000))).toThrow(/below 2\^64/);
  });
});

describe('platform knobs: given twice is an error everywhere; names never reach the prototype', () => {
  test('twice across #! platform lines, in one line, as a knob and its alias, in one JSON object, in a JSON document', async () => {
    await refused(
      ['replay', file('tw1.csv', '#! platform vram=1G\n#! platform vram=2G\nop,addr,size\nmmap,0x1000,4096\n')],
      /tw1\.csv:2: field "platform": platform knob "vram" is given twice/,
    );
    await refused(
      ['replay', file('tw2.csv', '#! platform vram=1G vram=2G\nop,addr,size\nmmap,0x1000,4096\n')],
      /tw2\.csv:1: .*"vram" is given twice/,
    );
    await refused(
      ['replay', file('tw3.csv', '#! platform vram=1G vram_capacity=2G\nop,addr,size\nmmap,0x1000,4096\n')],
      /tw3\.csv:1: platform knob "vram" is given twice \(also as "vram_capacity"\)/,
    );
    await refused(
      ['replay', file('tw4.jsonl', `{"svmsim":1,"platform":{"vram":"1G","vram":"2G"}}\n${MMAP}\n`)],
      /tw4\.jsonl:1:37: key "vram" is given twice in one object/,
    );
    await refused(
      ['replay', file('tw5.json', `{"svmsim":1,"platform":{"vram":"1G",\n"vram":"2G"},"events":[${MMAP}]}`)],
      /tw5\.json:2:1: key "vram" is given twice in one object/,
    );
    // Event objects too (JSON.parse would keep the last "size").
    await refused(
      ['replay', file('tw6.jsonl', `${MMAP}\n{"op":"cpu_write","addr":"0x7f0000000000","size":"4K","size":"1G"}\n`)],
      /tw6\.jsonl:2:55: key "size" is given twice in one object/,
    );
    expect(
      (
        await runCli([
          'replay',
          file('ok6.jsonl', `{"op":"mmap","addr":"0x7f0000000000","size":"2M","comment":"a\\":b"}\n`),
        ])
      ).code,
    ).toBe(0);
    expect(duplicateKey('{"a":{"b":1,"c":{"b":2}},"d":[{"b":1},{"b":1}]}')).toBeUndefined();
    expect(duplicateKey('{"a":1,"b":{"x":1},"a\\u0000":2,"\\u0061":3}')?.key).toBe('a');
  });

  test('twice on the command line: repeated --set, --vram with --set vram=, alias; compare --set vram=1M --vram 4M,8M', async () => {
    await refused(
      ['replay', T, '--set', 'vram=1G', '--set', 'vram=2G'],
      /--set vram=2G: platform knob "vram" is already given \(--set vram=1G\)/,
    );
    await refused(
      ['replay', T, '--vram', '1G', '--set', 'vram=2G'],
      /--set vram=2G: platform knob "vram" is already given \(--vram 1G\)/,
    );
    await refused(
      ['replay', T, '--vram', '1G', '--set', 'vram_capacity=2G'],
      /"vram" is given twice \(also as "vram_capacity"\)/,
    );
    await refused(
      ['compare', T, '--set', 'vram=1M', '--vram', '4M,8M'],
      /platform knob "vram" is given twice \(--vram 4M,8M and --set vram=1M\); give all its values in one list/,
    );
    await refused(['compare', T, '-k', '6.17', '--set', 'version=6.18'], /platform knob "kernel" is given twice/);
  });

  test('constructor, valueOf, __proto__, toString: named as unknown knobs in --set, headers and #! platform', async () => {
    for (const k of ['constructor', 'valueOf', '__proto__', 'toString', 'hasOwnProperty']) {
      await refused(['replay', T, '--set', `${k}=1`], new RegExp(`unknown platform knob "${k}"`));
      await refused(['compare', T, '--set', `${k}=1,2`], new RegExp(`unknown platform knob "${k}"`));
      await refused(
        ['replay', file('p.csv', `#! platform ${k}=1\nop,addr,size\nmmap,0x1000,4096\n`)],
        new RegExp(`p\\.csv:1: unknown platform knob "${k}"`),
      );
      await refused(
        ['replay', file('p.jsonl', `{"svmsim":1,"platform":{"${k}":{"vram":"1G"}}}\n${MMAP}\n`)],
        new RegExp(`p\\.jsonl:1: unknown platform knob "${k}"`),
      );
    }
  });

  test('--vram 1.5K, 5K are refused with the granularity (were rounded down to 0), 1 and 4097 as sizes without a unit (issue 14); 4K and 2M work', async () => {
    for (const v of ['1.5K', '5K', '6143.5K'])
      await refused(['replay', T, '--vram', v], /field "vram": expected a VRAM size in whole 4K pages/);
    for (const v of ['1', '4097', '6143'])
      await refused(
        ['replay', T, '--vram', v],
        /option '--vram <size>' argument '\d+' is invalid\. Expected a size with a unit/,
      );
    await refused(['gen', 'streaming', '--vram', '1.5K'], /expected a VRAM size in whole 4K pages/);
    for (const v of ['4K', '2M', '8K']) expect((await runCli(['replay', T, '--vram', v, '--summary'])).code).toBe(0);
  });
});

describe('sizes and addresses the model cannot represent', () => {
  test('mmap 0 +128T; cpu_write 0 +128T: -ENOMEM for the mmap, the 128T access refused up front (was exit 3, Map maximum size)', async () => {
    await refused(
      ['replay', file('s1.csv', 'op,addr,size\nmmap,0x0,128T\ncpu_write,0x0,128T\n')],
      /s1\.csv:3: field "size": expected at most 64G for one cpu_write \(the model keeps state for every touched page; split the access\), found "128T"/,
    );
    await refused(
      ['replay', file('s2.csv', 'op,addr,size\nmmap,0x0,127T\ngpu_read,0x0,0x8000000000000000\n')],
      /s2\.csv:3: field "size": expected at most 64G for one gpu_read/,
    );
    await refused(
      ['replay', file('s3.jsonl', '{"op":"xe_prefetch","addr":"0x0","size":"1T"}\n')],
      /s3\.jsonl:1: field "size": expected at most 64G for one xe_prefetch/,
    );
    const r = await runCli([
      'replay',
      file('s4.csv', 'op,addr,size\nmmap,0x0,128T\nmmap,0x0,127T\nmunmap,0x0,127T\n'),
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const ev = JSON.parse(r.stdout).events;
    expect(ev[0].errno).toBe('ENOMEM');
    expect(ev[1].outcome).toBe('ok');
  });

  test('mmap above the user address space is -ENOMEM (TASK_SIZE = 2^(va_bits-1) - 4K, as __get_unmapped_area)', async () => {
    const trace =
      'op,addr,size\nmmap,0xfffffffffe000000,32M\ncpu_write,0xfffffffffe000000,32M\nmmap,0x7fffffffe000,4K\nmmap,0x7ffffffff000,4K\n';
    const r = await runCli(['replay', file('top.csv', trace), '--format', 'json']);
    const ev = JSON.parse(r.stdout).events;
    // 48-bit VA: TASK_SIZE = 0x7ffffffff000; the last page below 2^47 is never mappable.
    expect(ev.map((e: { outcome: string; errno?: string }) => e.errno ?? e.outcome)).toEqual([
      'ENOMEM',
      'SIGSEGV',
      'ok',
      'ENOMEM',
    ]);
    expect(ev[0].decisions[0]).toMatchObject({ code: 'mmap_above_task_size', taskSize: 0x7ffffffff });
    const five = await runCli(['replay', file('top57.csv', '#! platform va_bits=57\n' + trace), '--format', 'json']);
    expect(
      JSON.parse(five.stdout).events.map((e: { outcome: string; errno?: string }) => e.errno ?? e.outcome),
    ).toEqual(['ENOMEM', 'SIGSEGV', 'ok', 'ok']);
  });

  test('gen --base 0xffffffffffe00000 --size 4M is refused (addresses would pass 2^64)', async () => {
    await refused(
      ['gen', 'streaming', '--base', '0xffffffffffe00000', '--size', '4M'],
      /--base 0xffffffffffe00000 --size 4M: the trace's addresses would pass 2\^64/,
    );
    const ok = await runCli(['gen', 'streaming', '--base', '0xfffffffff0000000', '--size', '4M', '-n', '10']);
    expect(ok.code).toBe(0);
    expect(parseTrace(ok.stdout, { file: 'gen', format: 'csv' }).events.length).toBeGreaterThan(0);
  });
});
