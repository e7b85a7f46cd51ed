/**
 * `svmsim capture --script`: the bpftrace program per kernel version. The probed functions follow
 * the kernel sources (drm_gpusvm_* migration in 6.15/6.16, drm_pagemap_* from 6.17); when the
 * Debian bpftrace is installed, each script must get through bpftrace's parser (`bpftrace -d`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bpftraceScript, probedFunctions } from '../../src/capture/bpftrace-script.js';
import { KERNEL_VERSIONS } from '../../src/core/platform.js';

function hasBpftrace(): boolean {
  try {
    execFileSync('bpftrace', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Semantic errors bpftrace raises here only because the machine lacks the Xe stack (no BTF for
 * struct xe_vm, drm_gpusvm, ...: the casts through those types then fail too) or tracefs.
 */
const ENVIRONMENT_ERRORS =
  /Unknown struct\/union: 'struct (xe_vm|drm_gpusvm|drm_gpusvm_range|drm_gpusvm_devmem|drm_pagemap_devmem)'|Cannot cast from "none" type|Casts are not supported for type: "none"|tracepoint not found: syscalls:|couldn't set RLIMIT_MEMLOCK/;

describe('capture script (xe_svm_handle_pagefault, drm_gpusvm_range_find_or_insert, migrations)', () => {
  test('migration probes follow the version: drm_gpusvm_* up to 6.16, drm_pagemap_* from 6.17', () => {
    expect(probedFunctions('6.16')).toContain('drm_gpusvm_migrate_to_devmem');
    expect(probedFunctions('6.16')).not.toContain('drm_pagemap_migrate_to_devmem');
    expect(probedFunctions('6.17')).toContain('drm_pagemap_migrate_to_devmem');
    expect(probedFunctions('6.17')).toContain('drm_pagemap_populate_mm');
    expect(probedFunctions('6.18')).not.toContain('drm_gpusvm_migrate_to_ram');
    for (const k of KERNEL_VERSIONS) {
      const s = bpftraceScript({ kernel: k });
      for (const fn of probedFunctions(k)) expect(s).toMatch(new RegExp(`probe:${fn} `));
      // xe_svm_handle_pagefault(vm, vma, gt|tile, fault_addr, atomic): address arg3, atomic arg4.
      expect(s).toContain('nsecs, tid, arg3, (uint8)arg4');
    }
    // drm_pagemap_migrate_to_devmem(devmem, mm, start, end, ...): mm arg1, bounds arg2/arg3.
    expect(bpftraceScript({ kernel: '6.18' })).toContain(
      'kprobe:drm_pagemap_migrate_to_devmem /@mm != 0 && (uint64)arg1 == @mm/',
    );
  });

  test('the pid is baked in with --pid, else the first argument', () => {
    expect(bpftraceScript({ kernel: '6.18', pid: 4242 })).toContain('/pid == 4242/');
    expect(bpftraceScript({ kernel: '6.18' })).toContain('/pid == $1/');
  });

  test.skipIf(!hasBpftrace())(
    'every version parses with the installed bpftrace (bpftrace -d)',
    { timeout: 120_000 },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'svmsim-bt-'));
      const run = (name: string, text: string) => {
        const file = join(dir, name);
        writeFileSync(file, text);
        const r = spawnSync('bpftrace', ['-d', file, '1'], { encoding: 'utf8', timeout: 60_000 });
        return `${r.stdout}\n${r.stderr}`;
      };
      for (const k of KERNEL_VERSIONS) {
        const script = bpftraceScript({ kernel: k });
        const whole = run(`capture-${k}.bt`, script);
        expect(whole, `${k}: syntax`).not.toMatch(/syntax error/);
        // Past the parser, the only errors allowed are those of a machine without xe / tracefs.
        for (const l of whole.split('\n').filter((x) => /ERROR/.test(x)))
          expect(l, `${k}: ${l}`).toMatch(ENVIRONMENT_ERRORS);
        // Without tracefs bpftrace stops at the first tracepoint before printing the AST: the
        // kprobe part alone must reach "AST after: parser" (then stop on the missing xe BTF).
        const kprobes = script.replace(/^tracepoint:[^\n]*\n\{\n(?:.*\n)*?\}\n/gm, '');
        expect(kprobes).not.toContain('tracepoint:');
        const ast = run(`kprobes-${k}.bt`, kprobes);
        expect(ast, `${k}: parser`).toContain('AST after: parser');
        for (const l of ast.split('\n').filter((x) => /ERROR/.test(x)))
          expect(l, `${k}: ${l}`).toMatch(ENVIRONMENT_ERRORS);
      }
    },
  );
});
