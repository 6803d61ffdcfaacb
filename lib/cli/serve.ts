/** `realfake serve`: the page and the HTTP API over a trained run (logic in lib/serve/server.ts). */
import { Command } from 'commander';
import { initBackend } from '../backend/backend';
import { onInterrupt } from '../interrupt';
import { EngineChoice } from '../infer/onnx-engine';
import { latestRun, openRun } from '../runs/runs';
import { runVerdictPolicy } from '../infer/run-policy';
import { createServer, SERVE_DEFAULTS } from '../serve/server';
import { readApiKey } from '../serve/api-key';
import { RATE_LIMIT_DEFAULTS } from '../serve/rate-limit';
import { TIMEOUT_DEFAULTS } from '../serve/timeouts';
import { action, parseInteger, parseNumber, UsageError } from './common';
import { calibratedOption, engineOption, policyOverrides, thresholdOption, withPolicyUsage } from './options';

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

interface ServeFlags {
  run?: string;
  host: string;
  port: number;
  engine: EngineChoice;
  maxMb: number;
  maxMegapixels: number;
  concurrency: number;
  queue: number;
  rateLimit: number;
  apiKeyFile?: string;
  requestTimeout: number;
  trustProxy?: boolean | string;
  threshold?: string;
  calibrated?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the page (GET /) and the JSON API (/api/v1/predict, /api/v1/openapi.json) for a trained run; loopback only unless --host says otherwise',
    )
    .option('--run <dir>', 'run folder with a trained model (default: the newest under outputs/runs)')
    .option('--host <host>', 'interface to listen on (0.0.0.0 exposes the server to the network)', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', parseInteger, 8080)
    .option('--max-mb <n>', 'largest upload, MB', parseNumber, SERVE_DEFAULTS.maxBytes / 1024 / 1024)
    .option('--max-megapixels <n>', 'largest image, megapixels', parseNumber, SERVE_DEFAULTS.maxPixels / 1e6)
    .option('--concurrency <n>', 'inferences at once', parseInteger, SERVE_DEFAULTS.concurrency)
    .option('--queue <n>', 'inferences waiting before 503 Retry-After', parseInteger, SERVE_DEFAULTS.maxQueued)
    .option(
      '--rate-limit <n>',
      'API requests per minute per client IP (0 = no limit)',
      parseInteger,
      RATE_LIMIT_DEFAULTS.max,
    )
    .option('--api-key-file <file>', 'require this key (first line of the file; else env REALFAKE_API_KEY) on /api')
    .option(
      '--request-timeout <s>',
      'seconds a client has to send a whole request, upload included (0 = none)',
      parseNumber,
      TIMEOUT_DEFAULTS.requestMs / 1000,
    )
    .option(
      '--trust-proxy [addresses]',
      "trust X-Forwarded-For from a reverse proxy (all, or the proxies' addresses, comma-separated) for per-client limits",
    )
    .addOption(
      thresholdOption('call "Fake" when pFake >= p; "picked": the threshold `realfake analyze` picked on validation'),
    )
    .addOption(
      calibratedOption(
        "temperature-scale pFake with the temperature `realfake analyze` fitted on validation (default: the model card's)",
      ),
    )
    .addOption(engineOption())
    .action(
      action(async (flags: ServeFlags) => {
        const runDir = flags.run ?? latestRun();
        if (!runDir)
          throw new UsageError('no trained run found under outputs/runs (train one with npm start, or pass --run DIR)');
        const policy = policyOverrides(flags);
        // Resolved once here so a missing threshold.json or calibration.json is a usage error before listening.
        withPolicyUsage(() => runVerdictPolicy(runDir, openRun(runDir).config.threshold, policy));
        const apiKey = readApiKey(flags.apiKeyFile);
        await initBackend();
        const note = (line: string) => process.stderr.write(line + '\n');
        // Listens while the model loads, so /ready can say 503 until it is warmed up.
        const server = await createServer({
          runDir,
          engine: flags.engine,
          policy,
          maxBytes: Math.round(flags.maxMb * 1024 * 1024),
          maxPixels: Math.round(flags.maxMegapixels * 1e6),
          concurrency: flags.concurrency,
          maxQueued: flags.queue,
          onNote: note,
          rateLimit: flags.rateLimit > 0 ? { ...RATE_LIMIT_DEFAULTS, max: flags.rateLimit } : undefined,
          apiKey,
          timeouts: { requestMs: Math.round(flags.requestTimeout * 1000) },
          trustProxy: flags.trustProxy === 'all' ? true : flags.trustProxy,
          waitForModel: false,
        });
        const address = await server.app.listen({ host: flags.host, port: flags.port });
        if (!LOOPBACK.includes(flags.host) && apiKey === undefined)
          note(`warning: listening on ${flags.host}, reachable from other machines, and /api needs no key`);
        note('loading and warming up the model (GET /ready answers 503 until then)');
        await server.ready.catch(async (err) => {
          await server.close();
          throw err;
        });
        process.stdout.write(
          `realfake serve: ${runDir} at ${address}/ (API ${address}/api/v1/openapi.json); Ctrl-C or SIGTERM stops\n`,
        );
        // Graceful, through lib/interrupt.ts: the first SIGINT/SIGTERM stops accepting, lets requests in flight
        // finish and releases the model (exit 0); a second one quits at once.
        await new Promise<void>((resolve) => {
          const unregister = onInterrupt(() => {
            note('finishing requests in flight, then stopping');
            server.close().then(
              () => (unregister(), resolve()),
              (err) => {
                note(`error while stopping: ${(err as Error).message}`);
                unregister();
                resolve();
              },
            );
          });
        });
      }),
    );
}
