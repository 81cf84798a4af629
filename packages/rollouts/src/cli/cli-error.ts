/** A failure the CLI reports in one line; exit code 2 for bad input or usage, else 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
