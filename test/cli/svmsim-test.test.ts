/**
 * svmsim test: expect blocks in every encoding (passing, failing, malformed), --update in place,
 * JUnit XML parsed back, worker threads, and the readers' fast paths agreeing on expect blocks.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openTrace, parseTrace } from '../../src/trace/index.js';
import { runCli } from '../cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-test-'));

// One trace: mmap 4M, the CPU fills the second half, the GPU reads both halves.
// By the kernel rules (reference E1/E2): two 2M faults (svm_2M_pagefault_count 2), each range
// migrates (svm_2M_migrate_count 2); only the filled half has pages to copy: 512 pages = 2048 KiB;
// both ranges end in VRAM: 4M used; event #1 (first touch) is a fault, not a hit.
const PASS = {
  stats: { gt0: { svm_2M_pagefault_count: 2, svm_2M_migrate_count: 2, svm_device_copy_kb: 2048 } },
  vram_used: '4M',
  events: { '1': { outcome: 'ok', codes: ['fault', 'range', 'migrate_to_vram', 'bind'] } },
  ranges: [
    { start: '0x7f0000000000', end: '0x7f0000200000', location: 'vram', valid: true },
    { start: '0x7f0000200000', end: '0x7f0000400000', location: 'vram', valid: true },
  ],
  thrashing: false,
};
const FAIL = { stats: { gt0: { svm_2M_pagefault_count: 3 } }, events: { '1': { outcome: 'hit' } } };
const EVENTS = [
  { op: 'mmap', addr: '0x7f0000000000', size: '4M' },
  { op: 'gpu_read', t: '10us', addr: '0x7f0000001000' },
  { op: 'cpu_write', t: '20us', addr: '0x7f0000200000', size: '2M' },
  { op: 'gpu_read', t: '30us', addr: '0x7f0000200000' },
];

function encode(fmt: 'json' | 'jsonl' | 'csv', exp: unknown): string {
  if (fmt === 'json')
    return JSON.stringify({ svmsim: 1, comment: 'expect test', expect: exp, events: EVENTS }, null, 2) + '\n';
  if (fmt === 'jsonl')
    return (
      ['# a comment', JSON.stringify({ svmsim: 1, expect: exp }), ...EVENTS.map((e) => JSON.stringify(e))].join('\n') +
      '\n'
    );
  return (
    [
      '# a comment',
      `#! expect ${JSON.stringify(exp)}`,
      't,op,addr,size',
      ...EVENTS.map((e) => `${e.t ?? 0},${e.op},${e.addr},${e.size ?? ''}`),
    ].join('\n') + '\n'
  );
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('svmsim test, in every encoding', () => {
  for (const fmt of ['json', 'jsonl', 'csv'] as const) {
    test(`${fmt}: passing expectations → PASS, exit 0`, async () => {
      const p = write(`pass.${fmt}`, encode(fmt, PASS));
      const r = await runCli(['test', p]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^PASS  ${p.replace(/[.]/g, '\\.')}  8 checks, \\d+ ms$`, 'm'));
      expect(r.stdout).toMatch(/1 passed, 0 failed \(1 trace\)/);
    });

    test(`${fmt}: failing expectations → FAIL with expectation, actual and the event that last changed it, exit 1`, async () => {
      const p = write(`fail.${fmt}`, encode(fmt, FAIL));
      const r = await runCli(['test', p]);
      expect(r.code).toBe(1);
      const evLine = fmt === 'json' ? null : fmt === 'jsonl' ? 6 : 7; // the second gpu_read
      expect(r.stdout).toContain('expect.stats.gt0.svm_2M_pagefault_count');
      expect(r.stdout).toContain('  expected: 3\n');
      expect(r.stdout).toContain('  actual:   2\n');
      expect(r.stdout).toMatch(
        new RegExp(`last changed by event #3 \\(${p.replace(/[.]/g, '\\.')}:${evLine ?? '\\d+'} gpu_read\\)`),
      );
      expect(r.stdout).toMatch(/expect\.events\.1\.outcome[^\n]*\n\s+expected: hit\n\s+actual: {3}ok/);
    });

    test(`${fmt}: malformed expectations → exit 2 with file:line`, async () => {
      for (const [exp, msg] of [
        [{ stat: {} }, /field "expect": unknown key "stat"; expected stats, ranges/],
        [
          { stats: { gt0: { svm_pagefault_count: 'three' } } },
          /field "expect\.stats\.gt0\.svm_pagefault_count": expected number, found "three"/,
        ],
        [
          { stats: { gt0: { no_such_counter: 1 } } },
          /field "expect\.stats\.gt0\.no_such_counter": kernel 6\.18 has no counter "no_such_counter"/,
        ],
        [
          { events: { '1': { outcome: 'fine' } } },
          /field "expect\.events\.1\.outcome": expected one of ok, hit, error/,
        ],
        [{ vram_used: '2Q' }, /field "expect\.vram_used"/],
        [[1, 2], /field "expect": expected an object/],
      ] as const) {
        const p = write(`bad.${fmt}`, encode(fmt, exp));
        const r = await runCli(['test', p]);
        expect(r.code, JSON.stringify(exp)).toBe(2);
        expect(r.stdout).toMatch(new RegExp(`ERROR ${p.replace(/[.]/g, '\\.')}`));
        expect(r.stdout).toMatch(msg);
        expect(r.stdout).toMatch(new RegExp(`${p.replace(/[.]/g, '\\.')}:\\d+:`));
      }
    });

    test(`${fmt}: --update writes the actual values in place, keeping the rest of the file`, async () => {
      const text = encode(fmt, FAIL);
      const p = write(`update.${fmt}`, text);
      const u = await runCli(['test', p, '--update']);
      expect(u.code).toBe(0);
      expect(u.stdout).toContain('updated 2 values');
      const after = u.files.get(p)!;
      // Only the two values changed.
      expect(after).toBe(
        text.replace(/("svm_2M_pagefault_count":\s*)3/, '$12').replace(/("outcome":\s*)"hit"/, '$1"ok"'),
      );
      writeFileSync(p, after);
      expect((await runCli(['test', p])).code).toBe(0);
    });
  }

  test('ranges and vram_used are updated with the actual list and size', async () => {
    const text = encode('json', { ranges: [], vram_used: '1M' });
    const p = write('update-ranges.json', text);
    const u = await runCli(['test', p, '--update']);
    const after = u.files.get(p)!;
    writeFileSync(p, after);
    expect((await runCli(['test', p])).code).toBe(0);
    expect(after).toContain('"vram_used": "4M"');
    expect(after).toContain('{"start": "0x7f0000000000", "end": "0x7f0000200000", "location": "vram", "valid": true}');
  });

  test('CSV: "#!" lines after the header row, and a second expect line, are bad input in both CSV readers', async () => {
    const late =
      ['t,op,addr,size', '0,mmap,0x7f0000000000,4M', '#! expect {"vram_used": 0}', '1,gpu_read,0x7f0000000000,'].join(
        '\n',
      ) + '\n';
    const twice =
      ['#! expect {"vram_used": 0}', '#! expect {"vram_used": 0}', 't,op,addr,size', '0,mmap,0x7f0000000000,4M'].join(
        '\n',
      ) + '\n';
    for (const [text, msg] of [
      [late, /:3: "#!" lines \(platform, expect\) must come before the header row/],
      [twice, /:2: field "expect": a second "#! expect" line \(the first is line 1\)/],
    ] as const) {
      const p = write('late.csv', text);
      const fromFile = await runCli(['replay', p]);
      const fromText = await runCli(['replay', '-', '--input-format', 'csv'], { stdin: text });
      expect(fromFile.code).toBe(2);
      expect(fromText.code).toBe(2);
      expect(fromFile.stderr).toMatch(msg);
      expect(fromText.stderr).toMatch(msg);
    }
  });

  test('the byte-level CSV reader, the line reader and the JSON/JSONL readers give the same expect block', () => {
    const blocks = (['json', 'jsonl', 'csv'] as const).map((fmt) => {
      const text = encode(fmt, PASS);
      const p = write(`same.${fmt}`, text);
      const file = openTrace(p, p, fmt).expect!.value;
      const mem = parseTrace(text, { file: p, format: fmt }).expect!.value;
      expect(mem).toEqual(file);
      return file;
    });
    expect(blocks[1]).toEqual(blocks[0]);
    expect(blocks[2]).toEqual(blocks[0]);
  });

  test('expect blocks do not change the replay (the events are skipped past them)', async () => {
    for (const fmt of ['json', 'jsonl', 'csv'] as const) {
      const a = await runCli(['replay', write(`r1.${fmt}`, encode(fmt, PASS)), '--format', 'debugfs']);
      const b = await runCli(['replay', write(`r2.${fmt}`, encode(fmt, FAIL)), '--format', 'debugfs']);
      expect(a.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
    }
  });
});

/** A small strict XML reader: elements, attributes, text; throws on anything malformed. */
type El = { name: string; attrs: Record<string, string>; children: El[]; text: string };
function parseXml(s: string): El {
  let i = 0;
  const ent = (t: string) =>
    t.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
  const ws = () => {
    while (/\s/.test(s[i] ?? '')) i++;
  };
  if (s.startsWith('<?xml')) i = s.indexOf('?>') + 2;
  const el = (): El => {
    ws();
    if (s[i] !== '<') throw new Error(`expected < at ${i}`);
    const m = /^<([A-Za-z_][\w.-]*)/.exec(s.slice(i));
    if (!m) throw new Error(`bad tag at ${i}`);
    i += m[0].length;
    const e: El = { name: m[1], attrs: {}, children: [], text: '' };
    for (;;) {
      ws();
      if (s.startsWith('/>', i)) {
        i += 2;
        return e;
      }
      if (s[i] === '>') {
        i++;
        break;
      }
      const a = /^([A-Za-z_][\w.-]*)="([^"<]*)"/.exec(s.slice(i));
      if (!a) throw new Error(`bad attribute at ${i}: ${s.slice(i, i + 40)}`);
      if (a[1] in e.attrs) throw new Error(`duplicate attribute ${a[1]}`);
      e.attrs[a[1]] = ent(a[2]);
      i += a[0].length;
    }
    for (;;) {
      const lt = s.indexOf('<', i);
      if (lt < 0) throw new Error('unterminated element');
      const text = s.slice(i, lt);
      if (/&(?!(lt|gt|quot|apos|amp);)/.test(text)) throw new Error('bad entity');
      e.text += ent(text);
      i = lt;
      if (s.startsWith(`</${e.name}>`, i)) {
        i += e.name.length + 3;
        return e;
      }
      e.children.push(el());
    }
  };
  const root = el();
  ws();
  if (i !== s.length) throw new Error('content after the root element');
  return root;
}

describe('svmsim test --reporter junit', () => {
  test('JUnit XML parsed back: one testcase per trace with failure / error / skipped and the counts', async () => {
    const d = join(dir, 'suite');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'a-pass.jsonl'), encode('jsonl', PASS));
    writeFileSync(join(d, 'sub', 'b-fail <&>.csv'), encode('csv', FAIL));
    writeFileSync(join(d, 'c-bad.json'), encode('json', { nope: 1 }));
    writeFileSync(join(d, 'd-none.csv'), 't,op,addr,size\n0,mmap,0x7f0000000000,4K\n');
    writeFileSync(join(d, 'notes.txt'), 'not a trace');
    const out = join(dir, 'junit.xml');
    const r = await runCli(['test', d, '--reporter', 'junit', '--output', out]);
    expect(r.code).toBe(2);
    const x = parseXml(r.files.get(out)!);
    expect(x.name).toBe('testsuites');
    expect(x.attrs).toMatchObject({ tests: '4', failures: '1', errors: '1', skipped: '1' });
    const suite = x.children[0];
    expect(suite.name).toBe('testsuite');
    const cases = suite.children;
    expect(cases.map((c) => c.attrs.name)).toEqual([
      join(d, 'a-pass.jsonl'),
      join(d, 'c-bad.json'),
      join(d, 'd-none.csv'),
      join(d, 'sub', 'b-fail <&>.csv'),
    ]);
    for (const c of cases) expect(Number(c.attrs.time)).toBeGreaterThanOrEqual(0);
    expect(cases[0].children).toEqual([]);
    expect(cases[1].children[0].name).toBe('error');
    expect(cases[1].children[0].attrs.message).toMatch(/unknown key "nope"/);
    expect(cases[2].children[0].name).toBe('skipped');
    const f = cases[3].children[0];
    expect(f.name).toBe('failure');
    expect(f.attrs.message).toBe(
      '2 expectations failed: expect.stats.gt0.svm_2M_pagefault_count, expect.events.1.outcome',
    );
    expect(f.text).toContain('expected: 3\n  actual:   2');
  });

  test('--reporter junit without --output is a usage error', async () => {
    const r = await runCli(['test', write('x.jsonl', encode('jsonl', PASS)), '--reporter', 'junit']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--reporter junit needs --output FILE/);
  });

  test('the installed command runs traces on worker threads with the same report', () => {
    const d = join(dir, 'threads');
    mkdirSync(d, { recursive: true });
    for (let i = 0; i < 6; i++) writeFileSync(join(d, `t${i}.jsonl`), encode('jsonl', i === 3 ? FAIL : PASS));
    const threads = spawnSync('node', ['bin/svmsim.js', 'test', d, '--jobs', '3'], { encoding: 'utf8' });
    const one = spawnSync('node', ['bin/svmsim.js', 'test', d, '--jobs', '1'], { encoding: 'utf8' });
    expect(threads.status).toBe(1);
    const strip = (s: string) => s.replace(/\d+ ms/g, 'N ms');
    expect(strip(threads.stdout)).toBe(strip(one.stdout));
    expect(threads.stdout).toMatch(/5 passed, 1 failed \(6 traces\)/);
  }, 60_000);
});
