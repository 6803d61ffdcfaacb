#!/usr/bin/env node
/**
 * Builds the optional native backend (native/build/Release/realfake_native.node) at install time: `npm ci`
 * runs the root package's `prepare` script, which runs this first. Never fails the install: without
 * oneDNN's headers (Debian: libdnnl-dev), a C++ compiler or make, it says why it skipped and realfake runs
 * on its wasm backend. REALFAKE_NATIVE_BUILD=0 skips the build on purpose (e.g. to test the wasm path).
 *
 * It uses npm's own bundled node-gyp and points it at the running Node's headers (the install prefix holds
 * include/node), so nothing is downloaded.
 *
 * The JPEG decoder (native/src/jpeg_decode.cc: PIL's own decode, for the faithful nearest path) is built in when
 * libjpeg-turbo's headers are there (Debian: libjpeg62-turbo-dev); without them it is left out, with the reason,
 * and realfake decodes JPEGs with sharp. REALFAKE_NATIVE_JPEG=0 leaves it out on purpose.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const say = (line) => process.stdout.write(`realfake native backend: ${line}\n`);

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  return candidates.find((file) => file && fs.existsSync(file));
}

function nodeHeaders() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function missing() {
  if (process.env.REALFAKE_NATIVE_BUILD === '0') return 'skipped (REALFAKE_NATIVE_BUILD=0)';
  const header = ['/usr/include/dnnl.hpp', '/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/dnnl.hpp'].find(
    (f) => fs.existsSync(f),
  );
  if (!header) return "oneDNN headers not found (install Debian's libdnnl-dev)";
  for (const tool of ['c++', 'make']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not found (install g++ and make)`;
  }
  if (!nodeGyp()) return "npm's bundled node-gyp not found";
  if (!nodeHeaders())
    return `Node's headers not found under ${path.resolve(path.dirname(process.execPath), '..', 'include', 'node')}`;
  return undefined;
}

/** Why the JPEG decoder is left out, or undefined when it is built in. */
function jpegMissing() {
  if (process.env.REALFAKE_NATIVE_JPEG === '0') return 'left out (REALFAKE_NATIVE_JPEG=0)';
  const header = ['/usr/include/jpeglib.h', '/usr/local/include/jpeglib.h'].find((f) => fs.existsSync(f));
  if (!header) return "left out: libjpeg-turbo headers not found (install Debian's libjpeg62-turbo-dev)";
  return undefined;
}

function main() {
  const reason = missing();
  if (reason) {
    say(`${reason}; realfake will train on wasm`);
    return;
  }
  const jpeg = jpegMissing();
  const started = Date.now();
  const run = spawnSync(process.execPath, [nodeGyp(), 'rebuild', `--nodedir=${nodeHeaders()}`, '--jobs=max'], {
    cwd: here,
    encoding: 'utf8',
    // gyp reads its variables from GYP_DEFINES (binding.gyp's with_jpeg).
    env: { ...process.env, npm_config_nodedir: nodeHeaders(), GYP_DEFINES: `with_jpeg=${jpeg ? 0 : 1}` },
  });
  if (run.status !== 0) {
    const log = path.join(here, 'build-error.log');
    fs.writeFileSync(log, `${run.stdout}\n${run.stderr}`);
    say(`build failed (details in ${path.relative(process.cwd(), log)}); realfake will train on wasm`);
    return;
  }
  fs.rmSync(path.join(here, 'build-error.log'), { force: true });
  const parts = jpeg ? 'oneDNN kernels' : 'oneDNN kernels, libjpeg-turbo JPEG decoder';
  say(
    `built in ${((Date.now() - started) / 1000).toFixed(0)} s (${parts}, ${path.join('native', 'build', 'Release', 'realfake_native.node')})`,
  );
  if (jpeg) say(`JPEG decoder ${jpeg}; realfake will decode JPEGs with sharp`);
}

main();
