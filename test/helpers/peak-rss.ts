/**
 * Preloaded into a child process (node --require dist/test/helpers/peak-rss.js ...): on exit, writes the
 * process's peak resident set size in bytes (all threads) to the file named by REALFAKE_PEAK_RSS_FILE.
 */
import * as fs from 'fs';

const out = process.env.REALFAKE_PEAK_RSS_FILE;
if (out) process.on('exit', () => fs.writeFileSync(out, String(process.resourceUsage().maxRSS * 1024)));
