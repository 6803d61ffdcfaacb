/**
 * What every subcommand shares: exit codes (0 ok, 1 failure with a one-line reason, 2 usage error, 130 stopped by
 * Ctrl-C)
 * and number parsing for flags.
 */
import { InvalidArgumentError } from 'commander';
import { INTERRUPTED_EXIT_CODE, InterruptedError } from '../interrupt';

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
      process.exitCode = err instanceof InterruptedError ? INTERRUPTED_EXIT_CODE : err instanceof UsageError ? 2 : 1;
    }
  };
}

/**
 * A file name made safe for one line of text output: backslash, tab, newline and other control characters
 * become C-style escapes (\n, \t, \\, \x1b), so a name can never split a line or forge another one.
 */
export function escapeControls(text: string): string {
  const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  // Matching control characters is the point here.
  // eslint-disable-next-line no-control-regex
  const controls = /[\\\x00-\x1f\x7f]/g;
  return text.replace(controls, (ch) => named[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
