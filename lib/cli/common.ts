/**
 * What every subcommand shares: exit codes (0 ok, 1 failure with a one-line reason, 2 usage error)
 * and number parsing for flags.
 */
import { InvalidArgumentError } from 'commander';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

export function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`not an integer: ${value}`);
  return n;
}

export function parseNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || value.trim() === '') throw new InvalidArgumentError(`not a number: ${value}`);
  return n;
}

/** Runs a subcommand's action, turning thrown errors into a one-line message and the right exit code. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`realfake: ${message.split('\n')[0]}\n`);
      if (process.env.REALFAKE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    }
  };
}
