/**
 * DOC: Model invariants (the simulator's WARN_ON)
 *
 * A broken invariant is never a modelled kernel outcome: it is a bug in svmsim. The CLI maps
 * ModelInvariantError to exit code 3 ("internal error").
 */

export class ModelInvariantError extends Error {
  override readonly name = 'ModelInvariantError';
  /** Index of the event being replayed when the invariant broke, when known. */
  seq?: number;
}
