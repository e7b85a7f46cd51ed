/**
 * Process entry point of the bundled CLI (dist/svmsim.js). `svmsim --version` answers without
 * loading anything else; every other command loads the CLI, which loads what the command needs.
 * The same file is the entry of `svmsim test`'s worker threads.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { VERSION } from './version.js';

const argv = process.argv.slice(2);
if (!isMainThread && parentPort !== null && (workerData as { svmsimTestWorker?: boolean } | null)?.svmsimTestWorker) {
  // A worker thread of `svmsim test`: replays the traces it is sent.
  const { testWorker } = await import('./test.js');
  testWorker(parentPort);
} else if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(VERSION + '\n');
} else {
  const [{ main }, { nodeIo }] = await Promise.all([import('./main.js'), import('./node-io.js')]);
  main(argv, nodeIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`svmsim: internal error: ${String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
