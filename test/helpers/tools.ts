/**
 * The one place a test decides to skip for a missing tool (Chromium, NumPy, Pillow, Jupyter, onnxruntime,
 * scikit-learn ...). Locally a missing tool skips with the reason; with REALFAKE_REQUIRE_ALL=1 (set by .ci/run)
 * the test fails instead, so CI can never pass by skipping.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';

export function requireAll(): boolean {
  return process.env.REALFAKE_REQUIRE_ALL === '1';
}

const reported = new Set<string>();

/**
 * For a test's `{ skip }` option: `reason` when a tool is missing (false when present). Under
 * REALFAKE_REQUIRE_ALL=1 a missing tool also registers a failing test named after it, once per reason.
 */
export function toolSkip(reason: string | false | undefined): string | false {
  if (!reason) return false;
  if (requireAll() && !reported.has(reason)) {
    reported.add(reason);
    test(`required tool is present (REALFAKE_REQUIRE_ALL=1): ${reason}`, () => {
      assert.fail(`REALFAKE_REQUIRE_ALL=1 forbids skipping: ${reason}`);
    });
  }
  return reason;
}

/**
 * Inside a running test: skips it for `reason` (returns true, so `if (skipForMissingTool(t, why)) return;`),
 * or fails it under REALFAKE_REQUIRE_ALL=1. Returns false when there is no reason.
 */
export function skipForMissingTool(t: TestContext, reason: string | false | undefined): boolean {
  if (!reason) return false;
  if (requireAll()) assert.fail(`REALFAKE_REQUIRE_ALL=1 forbids skipping: ${reason}`);
  t.skip(reason);
  return true;
}
