/**
 * DOC: bpftrace capture script
 *
 * `svmsim capture --script` prints a bpftrace program that records, for one process on a stock
 * kernel (no CONFIG_DRM_XE_DEBUG_VM needed), what svmsim needs to rebuild the workload and to
 * check the model's decisions:
 *
 * - the process's memory syscalls (`syscalls` tracepoints): mmap with its returned address,
 *   munmap, mprotect, madvise, mremap;
 * - the Xe SVM fault handler `xe_svm_handle_pagefault(vm, vma, gt|tile, fault_addr, atomic)`
 *   (kprobe: address and atomic flag; kretprobe: return value);
 * - `drm_gpusvm_range_find_or_insert()` (kretprobe: the range it returned, or the error);
 * - `drm_gpusvm_range_get_pages()` and `drm_gpusvm_range_remove()` (the range);
 * - migration: 6.15/6.16 `drm_gpusvm_migrate_to_devmem(gpusvm, range, ...)`,
 *   `drm_gpusvm_migrate_to_ram(vmf)`, `drm_gpusvm_evict_to_ram(devmem)`; from 6.17
 *   `drm_pagemap_populate_mm(dpagemap, start, end, mm, ...)` (what `xe_svm_alloc_vram()` calls
 *   right after printing ALLOCATE VRAM), `drm_pagemap_migrate_to_devmem(devmem, mm, start, end,
 *   ...)`, `drm_pagemap_migrate_to_ram(vmf)`, `drm_pagemap_evict_to_ram(devmem)`.
 *
 * The fault handler and the gpusvm helpers run in kernel workers, not in the traced process:
 * they are filtered by the process's `mm` (learnt from its own syscalls, the Xe ioctls
 * included), read through the drivers' BTF types. Every line is one JSON object with a
 * CLOCK_MONOTONIC nanosecond timestamp `ts`; the first line names the capture format and kernel.
 * The line grammar is documented in docs/capture.md and read by src/import/bpftrace.ts.
 */

import { KERNEL_VERSIONS, kernelAtLeast, type KernelVersion } from '../core/platform.js';

/** Version of the capture line format (the header's `v`). */
const CAPTURE_FORMAT_VERSION = 1;

export interface ScriptOptions {
  kernel: KernelVersion;
  /** Baked-in pid; absent: the script takes the pid as its first argument ($1). */
  pid?: number;
}

/** The functions probed on a kernel version (also listed by `svmsim capture --probes`). */
export function probedFunctions(kernel: KernelVersion): string[] {
  const pagemap = kernelAtLeast(kernel, '6.17');
  return [
    'xe_svm_handle_pagefault',
    'drm_gpusvm_range_find_or_insert',
    'drm_gpusvm_range_get_pages',
    'drm_gpusvm_range_remove',
    ...(pagemap
      ? [
          'drm_pagemap_populate_mm',
          'drm_pagemap_migrate_to_devmem',
          'drm_pagemap_migrate_to_ram',
          'drm_pagemap_evict_to_ram',
        ]
      : ['drm_gpusvm_migrate_to_devmem', 'drm_gpusvm_migrate_to_ram', 'drm_gpusvm_evict_to_ram']),
  ];
}

const q = (s: string) => `\\"${s}\\"`;

/** printf of one JSON line: fixed fields then `extra` (already escaped for the format string). */
function line(ev: string, extra: string, args: string): string {
  return `  printf("{${q('ts')}:%llu,${q('ev')}:${q(ev)},${q('tid')}:%d${extra}}\\n", nsecs, tid${args});`;
}

/** The bpftrace program for a kernel version. */
export function bpftraceScript(o: ScriptOptions): string {
  if (!(KERNEL_VERSIONS as readonly string[]).includes(o.kernel)) throw new Error(`unknown kernel ${o.kernel}`);
  const pagemap = kernelAtLeast(o.kernel, '6.17');
  const pid = o.pid !== undefined ? String(o.pid) : '$1';
  const me = `pid == ${pid}`;
  const hx = q('0x%lx');
  const hexRange = `,${q('start')}:${hx},${q('end')}:${hx}`;
  const rangeArgs = (r: string) => `, ${r}->itree.start, ${r}->itree.last + 1`;
  const out: string[] = [];
  const probe = (head: string, body: string[]) => out.push(head, '{', ...body, '}', '');

  out.push(
    `// svmsim capture script for Linux ${o.kernel} (${pagemap ? 'drm_pagemap' : 'drm_gpusvm'} migration).`,
    `// Run as root: bpftrace THIS_FILE${o.pid === undefined ? ' PID' : ''} > capture.jsonl`,
    '// then: svmsim import capture.jsonl -o trace.jsonl',
    '',
  );
  probe('BEGIN', [
    `  printf("{${q('svmsim_capture')}:${q('bpftrace')},${q('v')}:${CAPTURE_FORMAT_VERSION},${q('kernel')}:${q(o.kernel)},${q('pid')}:%d,${q('ts')}:%llu}\\n", ${pid}, nsecs);`,
  ]);

  // --- the process's memory syscalls; every one also (re)learns its mm -------------------------
  probe(`tracepoint:syscalls:sys_enter_ioctl /${me}/`, ['  @mm = (uint64)curtask->mm;']);
  probe(`tracepoint:syscalls:sys_enter_mmap /${me}/`, [
    '  @mm = (uint64)curtask->mm;',
    '  @mmap_len[tid] = args->len; @mmap_prot[tid] = args->prot; @mmap_flags[tid] = args->flags; @mmap_fd[tid] = (int64)args->fd;',
  ]);
  probe(`tracepoint:syscalls:sys_exit_mmap /${me} && @mmap_len[tid]/`, [
    line(
      'mmap',
      `,${q('ret')}:%ld,${q('addr')}:${hx},${q('len')}:${hx},${q('prot')}:%lu,${q('flags')}:%lu,${q('fd')}:%ld`,
      ', args->ret, args->ret, @mmap_len[tid], @mmap_prot[tid], @mmap_flags[tid], @mmap_fd[tid]',
    ),
    '  delete(@mmap_len[tid]); delete(@mmap_prot[tid]); delete(@mmap_flags[tid]); delete(@mmap_fd[tid]);',
  ]);
  probe(`tracepoint:syscalls:sys_enter_munmap /${me}/`, [
    '  @mm = (uint64)curtask->mm;',
    line('munmap', `,${q('addr')}:${hx},${q('len')}:${hx}`, ', args->addr, args->len'),
  ]);
  probe(`tracepoint:syscalls:sys_enter_mprotect /${me}/`, [
    '  @mm = (uint64)curtask->mm;',
    line('mprotect', `,${q('addr')}:${hx},${q('len')}:${hx},${q('prot')}:%lu`, ', args->start, args->len, args->prot'),
  ]);
  probe(`tracepoint:syscalls:sys_enter_madvise /${me}/`, [
    '  @mm = (uint64)curtask->mm;',
    line(
      'madvise',
      `,${q('addr')}:${hx},${q('len')}:${hx},${q('advice')}:%d`,
      ', args->start, args->len_in, args->behavior',
    ),
  ]);
  probe(`tracepoint:syscalls:sys_enter_mremap /${me}/`, [
    '  @mm = (uint64)curtask->mm;',
    '  @mremap_addr[tid] = args->addr; @mremap_old[tid] = args->old_len; @mremap_new[tid] = args->new_len;',
  ]);
  probe(`tracepoint:syscalls:sys_exit_mremap /${me} && @mremap_old[tid]/`, [
    line(
      'mremap',
      `,${q('ret')}:%ld,${q('new_addr')}:${hx},${q('addr')}:${hx},${q('old_len')}:${hx},${q('new_len')}:${hx}`,
      ', args->ret, args->ret, @mremap_addr[tid], @mremap_old[tid], @mremap_new[tid]',
    ),
    '  delete(@mremap_addr[tid]); delete(@mremap_old[tid]); delete(@mremap_new[tid]);',
  ]);

  // --- the Xe fault handler (GT page-fault worker) ----------------------------------------------
  probe('kprobe:xe_svm_handle_pagefault /@mm != 0 && (uint64)((struct xe_vm *)arg0)->svm.gpusvm.mm == @mm/', [
    '  @infault[tid] = 1;',
    line('fault', `,${q('addr')}:${hx},${q('atomic')}:%d`, ', arg3, (uint8)arg4'),
  ]);
  probe('kretprobe:xe_svm_handle_pagefault /@infault[tid]/', [
    line('fault_ret', `,${q('ret')}:%d`, ', (int32)retval'),
    '  delete(@infault[tid]);',
  ]);

  // --- drm_gpusvm ranges -----------------------------------------------------------------------
  probe('kretprobe:drm_gpusvm_range_find_or_insert /@infault[tid]/', [
    '  if (retval > 0xfffffffffffff000) {',
    `  ${line('range', `,${q('err')}:%d`, ', (int32)retval')}`,
    '  } else {',
    '    $r = (struct drm_gpusvm_range *)retval;',
    `  ${line('range', hexRange, rangeArgs('$r'))}`,
    '  }',
  ]);
  const gpusvmRange = (fn: string, ev: string) =>
    probe(`kprobe:${fn} /@mm != 0 && (uint64)((struct drm_gpusvm *)arg0)->mm == @mm/`, [
      '  $r = (struct drm_gpusvm_range *)arg1;',
      line(ev, hexRange, rangeArgs('$r')),
    ]);
  gpusvmRange('drm_gpusvm_range_get_pages', 'get_pages');
  gpusvmRange('drm_gpusvm_range_remove', 'range_remove');

  // --- migration -------------------------------------------------------------------------------
  if (pagemap) {
    probe('kprobe:drm_pagemap_populate_mm /@mm != 0 && (uint64)arg3 == @mm/', [
      line('alloc_vram', hexRange, ', arg1, arg2'),
    ]);
    probe('kprobe:drm_pagemap_migrate_to_devmem /@mm != 0 && (uint64)arg1 == @mm/', [
      '  @inmig[tid] = 1;',
      line('migrate_to_vram', hexRange, ', arg2, arg3'),
    ]);
    probe('kretprobe:drm_pagemap_migrate_to_devmem /@inmig[tid]/', [
      line('migrate_to_vram_ret', `,${q('ret')}:%d`, ', (int32)retval'),
      '  delete(@inmig[tid]);',
    ]);
  } else {
    gpusvmRange('drm_gpusvm_migrate_to_devmem', 'migrate_to_vram');
    probe('kretprobe:drm_gpusvm_migrate_to_devmem /@infault[tid]/', [
      line('migrate_to_vram_ret', `,${q('ret')}:%d`, ', (int32)retval'),
    ]);
  }
  const prefix = pagemap ? 'drm_pagemap' : 'drm_gpusvm';
  const devmem = pagemap ? 'struct drm_pagemap_devmem' : 'struct drm_gpusvm_devmem';
  probe(`kprobe:${prefix}_migrate_to_ram /${me}/`, [
    '  $vmf = (struct vm_fault *)arg0;',
    line('cpu_fault', `,${q('addr')}:${hx},${q('write')}:%d`, ', $vmf->address, ($vmf->flags & 1) ? 1 : 0'),
  ]);
  probe(`kprobe:${prefix}_evict_to_ram /@mm != 0 && (uint64)((${devmem} *)arg0)->mm == @mm/`, [
    line('evict', `,${q('size')}:${hx}`, `, ((${devmem} *)arg0)->size`),
  ]);
  // Maps left non-empty are printed by bpftrace at exit: clear them so the output stays JSON lines.
  const maps = [
    '@mm',
    '@infault',
    '@mmap_len',
    '@mmap_prot',
    '@mmap_flags',
    '@mmap_fd',
    '@mremap_addr',
    '@mremap_old',
    '@mremap_new',
    ...(pagemap ? ['@inmig'] : []),
  ];
  probe('END', [`  ${maps.map((m) => `clear(${m});`).join(' ')}`]);
  return out.join('\n');
}
