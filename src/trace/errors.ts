/**
 * DOC: Bad input
 *
 * TraceInputError: a problem in a trace, with the file, the 1-based line, the field when there is
 * one, and what was expected. In a module of its own (no schemas) so that the CLI can map errors
 * to exit codes without loading the trace readers.
 */

export class TraceInputError extends Error {
  override readonly name = 'TraceInputError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    readonly field?: string,
    readonly column?: number,
  ) {
    super(
      `${file}${line > 0 ? `:${line}` : ''}${column !== undefined ? `:${column}` : ''}: ${field !== undefined ? `field "${field}": ` : ''}${detail}`,
    );
  }
}
