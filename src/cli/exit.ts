/** Exit codes of interfaces.md, and the error that carries one to main(). */
export const Exit = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  PARTIAL: 3,
} as const;

export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'CliExit';
  }
}

/** A usage error: what was wrong and where to read more; exits 2. */
export function usageError(message: string, command = ''): CliExit {
  return new CliExit(Exit.USAGE, `error: ${message}\n(run 'vigil ${command ? `${command} ` : ''}--help' for usage)`);
}
