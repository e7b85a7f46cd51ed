// Loaded with `node --import` by scripts/bench.mjs: on exit, append this process's CPU time (also
// user and system apart) and peak RSS (threads included) as one JSON line to $SVMSIM_BENCH_RUSAGE.
import { appendFileSync } from 'node:fs';

const out = process.env.SVMSIM_BENCH_RUSAGE;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    appendFileSync(
      out,
      JSON.stringify({
        cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
        userMs: u.userCPUTime / 1000,
        sysMs: u.systemCPUTime / 1000,
        rssMb: u.maxRSS / 1024,
      }) + '\n',
    );
  });
}
