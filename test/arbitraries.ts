/**
 * fast-check arbitraries shared by the property tests: random valid events over a small address
 * space (8 MiB at 0x7f0000000000) and random platforms of every kernel profile.
 */
import fc from 'fast-check';
import type { CoreEvent } from '../src/core/events.js';
import { defaultPlatform, KERNEL_VERSIONS, type Platform } from '../src/core/platform.js';
import { ev } from './helpers.js';

const BASE = 0x7f0000000000n;
const REGION_PAGES = 2048; // 8 MiB

const page = fc.integer({ min: 0, max: REGION_PAGES - 1 });
const pages = fc.constantFrom(1, 2, 16, 17, 256, 512, 600, 1024);
const addrOf = (p: number, off = 0) => BASE + BigInt(p) * 4096n + BigInt(off);

export const eventArb: fc.Arbitrary<CoreEvent> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        p: page,
        n: pages,
        prot: fc.constantFrom('rw', 'rw', 'rw', 'r', 'none'),
        kind: fc.constantFrom('anon', 'anon', 'anon', 'shared', 'file', 'hugetlb'),
      })
      .map(({ p, n, prot, kind }) => {
        const hp = kind === 'hugetlb' ? Math.floor(p / 512) * 512 : p;
        const hn = kind === 'hugetlb' ? 512 * Math.max(1, Math.round(n / 512)) : n;
        return ev('mmap', addrOf(hp), BigInt(hn) * 4096n, { prot, kind });
      }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ p: page, n: pages }).map(({ p, n }) => ev('munmap', addrOf(p), BigInt(n) * 4096n)),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ p: page, n: pages, prot: fc.constantFrom('r', 'rw', 'none') })
      .map(({ p, n, prot }) => ev('mprotect', addrOf(p), BigInt(n) * 4096n, { prot })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ p: page, n: pages }).map(({ p, n }) => ev('madvise', addrOf(p), BigInt(n) * 4096n)),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({ p: page, n: fc.integer({ min: 1, max: 40 }), w: fc.boolean(), off: fc.integer({ min: 0, max: 4095 }) })
      .map(({ p, n, w, off }) => ev(w ? 'cpu_write' : 'cpu_read', addrOf(p, off), BigInt(n) * 1000n)),
  },
  {
    weight: 6,
    arbitrary: fc
      .record({ p: page, n: fc.integer({ min: 1, max: 8 }), k: fc.constantFrom('gpu_read', 'gpu_write', 'gpu_atomic') })
      .map(({ p, n, k }) => ev(k as 'gpu_read', addrOf(p), BigInt(n) * 4096n)),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ p: page, access: fc.constantFrom('read', 'write', 'atomic') })
      .map(({ p, access }) => ev('gpu_fault', addrOf(p), 0n, { access })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ p: page, n: pages, region: fc.constantFrom('smem', 'vram', 'advised') })
      .map(({ p, n, region }) => ev('xe_prefetch', addrOf(p), BigInt(n) * 4096n, { region })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        p: page,
        n: pages,
        a: fc.oneof(
          fc.record({ preferred: fc.constantFrom('device', 'system') }),
          fc.record({ atomic: fc.constantFrom('undefined', 'device', 'global', 'cpu') }),
        ),
      })
      .map(({ p, n, a }) => ev('xe_madvise', addrOf(p), BigInt(n) * 4096n, a)),
  },
);

export const platformArb: fc.Arbitrary<Platform> = fc
  .record({
    kernel: fc.constantFrom(...KERNEL_VERSIONS),
    dgfx: fc.boolean(),
    vramPages: fc.constantFrom(16, 512, 700, 1024, 2048),
    need64k: fc.boolean(),
    notifierMb: fc.constantFrom(1, 2, 4, 512),
    gc: fc.constantFrom('eager' as const, 'lazy' as const),
    deviceAtomicsOnSmem: fc.boolean(),
    vmaMerge: fc.boolean(),
  })
  .map((r) => ({
    ...defaultPlatform(r.kernel),
    dgfx: r.dgfx,
    vramBytes: BigInt(r.vramPages) * 4096n,
    need64k: r.need64k,
    notifierBytes: BigInt(r.notifierMb) << 20n,
    gc: r.gc,
    deviceAtomicsOnSmem: r.deviceAtomicsOnSmem,
    vmaMerge: r.vmaMerge,
  }));
