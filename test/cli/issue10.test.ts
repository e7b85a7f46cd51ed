/**
 * CLI behaviour of issue 10: the two `check` findings, the 6.18.y profile on the command line,
 * 1 MiB notifiers, and the multi-process output (pid on events and ranges, per_pid).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-i10-'));

describe('svmsim check findings', () => {
  test('an unaligned munmap is reported at the address written (0x7f0000000010), not the aligned one', async () => {
    const p = join(dir, 'unaligned.csv');
    writeFileSync(p, 't,op,addr,size\n0,mmap,0x7f0000000000,0x200000\n1,munmap,0x7f0000000010,0x1000\n');
    const r = await runCli(['check', p]);
    expect(r.stdout).toMatch(/unaligned\.csv:3: warning: munmap at 0x7f0000000010: address not page aligned/);
  });

  test('--kernel 6.17 warns only of xe_prefetch region=advised (added in 6.18); --kernel 6.16 also of xe_prefetch itself (added in 6.17)', async () => {
    const p = join(dir, 'advised.jsonl');
    writeFileSync(
      p,
      '{"op":"mmap","addr":"0x7f0000000000","size":"2M"}\n{"op":"xe_prefetch","addr":"0x7f0000000000","size":"2M","region":"advised"}\n{"op":"xe_prefetch","addr":"0x7f0000000000","size":"2M"}\n',
    );
    const r = await runCli(['check', p, '--kernel', '6.17']);
    expect(r.stdout).toMatch(
      /advised\.jsonl:2: warning: xe_prefetch region=advised: kernel lacks it \(added in 6\.18\)/,
    );
    expect(r.stdout).not.toMatch(/advised\.jsonl:3:/);
    const old = await runCli(['check', p, '--kernel', '6.16']);
    expect(old.stdout).toMatch(/advised\.jsonl:3: warning: xe_prefetch: kernel lacks it \(added in 6\.17\)/);
  });
});

describe('profiles and knobs on the command line', () => {
  test('--kernel 6.18.y turns on its four knobs (json platform); compare --kernel 6.18,6.18.y gives a column for each', async () => {
    const r = await runCli([
      'replay',
      'traces/05-mapping-kinds.json',
      '--kernel',
      '6.18.y',
      '--format',
      'json',
      '--no-events',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.kernel).toBe('6.18.y');
    expect(j.platform).toMatchObject({
      fault_exit_returns_zero: true,
      pref_system_owner_null: true,
      devmem_only_fail_to_get_pages: true,
      madvise_autoreset_gate: true,
      livelock_bound: 64,
    });
    const c = await runCli(['compare', 'traces/05-mapping-kinds.json', '--kernel', '6.18,6.18.y', '--format', 'csv']);
    expect(c.code).toBe(0);
    expect(c.stdout.split('\n')[0]).toMatch(/6\.18,6\.18\.y/);
  });

  test('notifier_size 1M is accepted (largest range 64K), 512K is not', async () => {
    const ok = await runCli([
      'replay',
      'traces/01-first-touch-2m.json',
      '--set',
      'notifier_size=1M',
      '--format',
      'json',
      '--no-events',
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).ranges.map((x: { size: string }) => x.size)).toEqual(['0x1000', '0x10000', '0x10000']); // no 2M range fits a 1M notifier
    const bad = await runCli(['replay', 'traces/01-first-touch-2m.json', '--set', 'notifier_size=512K']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/power-of-two size of at least 1M/);
  });
});

describe('several processes', () => {
  test('json: events and ranges carry their pid, per_pid counts evictions suffered and caused; a single-process trace has no pid and no per_pid', async () => {
    const r = await runCli(['replay', 'traces/15-two-process-vram.jsonl', '--format', 'json']);
    const j = JSON.parse(r.stdout);
    expect(j.events[0].pid).toBe(1);
    expect(j.events[1].pid).toBe(1);
    expect(j.events[2].pid).toBe(2);
    expect(j.ranges.map((x: { pid: number }) => x.pid)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(
      j.per_pid.map((p: { pid: number; evictions_suffered: number; evictions_caused: number }) => [
        p.pid,
        p.evictions_suffered,
        p.evictions_caused,
      ]),
    ).toEqual([
      [1, 4, 4],
      [2, 4, 4],
    ]);
    const one = await runCli(['replay', 'traces/01-first-touch-2m.json', '--format', 'json']);
    const k = JSON.parse(one.stdout);
    expect(k.per_pid).toBeUndefined();
    expect(k.events[0].pid).toBeUndefined();
    expect(k.ranges[0].pid).toBeUndefined();
  });

  test("--by-range keeps one history per (pid, range); a cross-process eviction lands in the victim's history", async () => {
    const p = join(dir, 'evict.jsonl');
    writeFileSync(
      p,
      [
        '{"svmsim":1,"platform":{"vram":"2M"}}',
        '{"pid":1,"op":"mmap","addr":"0x7f0000000000","size":"2M"}',
        '{"pid":1,"op":"gpu_read","addr":"0x7f0000000000"}',
        '{"pid":2,"op":"mmap","addr":"0x7f0000000000","size":"2M"}',
        '{"pid":2,"op":"gpu_read","addr":"0x7f0000000000"}',
      ].join('\n') + '\n',
    );
    const r = await runCli(['replay', p, '--by-range']);
    const hist = r.stdout.split(/\n(?=pid \d+ range)/);
    const h1 = hist.find((h) => h.startsWith('pid 1 range'))!;
    const h2 = hist.find((h) => h.startsWith('pid 2 range'))!;
    expect(h1).toMatch(/#3 gpu_read pid 2 \(line 5\) read fault: TTM evicts BO#1 .* of pid 1/);
    expect(h1).toMatch(/NOTIFIER MIGRATE .*zapped 1 range, TLB invalidation/);
    expect(h2).not.toMatch(/TTM evicts/);
    expect(h2).toMatch(/MIGRATE TO VRAM BO#2/);
  });
});
