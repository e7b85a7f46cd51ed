import { openTrace } from '../src/trace/read.js';
import { eventPuller } from '../src/trace/stream.js';
import { replay, buildPlatform } from '../src/replay/replay.js';
import { createReporter } from '../src/report/reporter.js';
const [mode, file] = process.argv.slice(2);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t0 = cpu();
const h = openTrace(file, file, undefined);
if (mode === 'parse') {
  const next = eventPuller(h.events, true);
  let n = 0; let s = 0;
  for (let e = next(); e !== undefined; e = next()) { n++; s += e.core.npages; }
  console.log('parse', n, s, (cpu() - t0).toFixed(0), 'ms');
} else {
  let out = '';
  const rep = createReporter({ format: 'debugfs', gt: 0 } as never, (s: string) => { out += s; });
  replay(h.events, buildPlatform(h.platform, {}), rep);
  console.log('replay', out.length, (cpu() - t0).toFixed(0), 'ms');
}
