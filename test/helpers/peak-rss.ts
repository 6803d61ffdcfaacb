/**
 * Peak resident set size of this process. Preloaded into a child process (node --require
 * dist/test/helpers/peak-rss.js ...), it writes that peak in bytes (all threads) to the file named by
 * REALFAKE_PEAK_RSS_FILE on exit.
 *
 * Linux: VmHWM from /proc/self/status, the high-water mark of this program's own memory. Not getrusage's
 * ru_maxrss (process.resourceUsage().maxRSS): that survives fork and exec, so a child started by a process that
 * once held 900 MB reports at least 900 MB whatever it uses itself (measured: the decode-memory bench read 917 MB
 * inside `npm run bench`, after its training benches, and 430 MB when run alone).
 */
import * as fs from 'fs';

export function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage below
  }
  return process.resourceUsage().maxRSS * 1024;
}

const out = process.env.REALFAKE_PEAK_RSS_FILE;
if (out) process.on('exit', () => fs.writeFileSync(out, String(peakRssBytes())));
