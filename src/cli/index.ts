/**
 * Process entry point of the bundled CLI (dist/svmsim.js).
 */
import { main } from './main.js';
import { nodeIo } from './node-io.js';

main(process.argv.slice(2), nodeIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`svmsim: internal error: ${String(err)}\n`);
    process.exitCode = 3;
  },
);
