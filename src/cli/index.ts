/**
 * Process entry point of the bundled CLI (dist/svmsim.js).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { main } from './main.js';
import { nodeIo } from './node-io.js';
import { testWorker } from './test.js';

if (!isMainThread && parentPort !== null && (workerData as { svmsimTestWorker?: boolean } | null)?.svmsimTestWorker) {
  // A worker thread of `svmsim test`: replays the traces it is sent.
  testWorker(parentPort);
} else {
  main(process.argv.slice(2), nodeIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`svmsim: internal error: ${String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
