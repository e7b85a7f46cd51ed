/**
 * DOC: Replay failures
 *
 * ModelMemoryError: the model's state outgrew the heap, the trace touches more distinct memory
 * than this machine can model. Bad input (exit 2), not a bug. In a module of its own so that the
 * CLI maps it to an exit code without loading the simulator.
 */

export class ModelMemoryError extends Error {
  override readonly name = 'ModelMemoryError';
}
