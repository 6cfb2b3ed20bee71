// How fast the page encrypts a large file, and in how much memory: a file on disk picked in
// bench.html's file input and encrypted by `benchEncryptFile()` (encryptFile: the Web Worker
// and the wasm envelope, as a contribution is encrypted) in headless Chromium, on web/dist
// served from a local HTTP server.
//
//   npm run build && node bench/encrypt.mjs [MiB, default 200] [runs, default 3]
//
// Prints the throughput of each run and the memory of Chromium's processes, sampled every
// 50 ms from /proc: the renderer (the page, its worker, their JavaScript heaps and the wasm
// memory) and the browser process (which keeps Blob bytes, in memory or on disk). Figures go
// to docs/benchmarks.md.
import { createServer } from 'node:http';
import { readFileSync, readdirSync, existsSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.DIST || join(here, '..', 'dist');
const mib = Number(process.argv[2] || 200);
const runs = Number(process.argv[3] || 3);
if (!existsSync(join(dist, 'bench.html'))) throw new Error('web/dist/bench.html is missing: run npm run build');

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };
const server = createServer((req, res) => {
  const path = join(dist, new URL(req.url, 'http://x').pathname);
  if (!path.startsWith(dist) || !existsSync(path)) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'Content-Type': types[extname(path)] || 'application/octet-stream' });
  res.end(readFileSync(path));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/bench.html`;

// The file: `mib` MiB of non-repetitive bytes (xorshift), written 1 MiB at a time.
const file = join(tmpdir(), `datacoop-bench-${process.pid}.bin`);
{
  const fd = openSync(file, 'w');
  const part = Buffer.alloc(1 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < mib; i++) {
    for (let j = 0; j < part.length; j += 4) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      part.writeUInt32LE(x, j);
    }
    writeSync(fd, part);
  }
  closeSync(fd);
}

// Resident memory (KiB) of Chromium's processes, by --type (the browser process has none).
function chromiumRss () {
  const rss = { renderer: 0, browser: 0, other: 0 };
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd, status;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (!cmd.includes('chromium')) continue;
      status = readFileSync(`/proc/${pid}/status`, 'latin1');
    } catch { continue; }
    const kib = Number((status.match(/VmRSS:\s+(\d+)/) || [])[1] || 0);
    const type = (cmd.match(/--type=([a-z-]+)/) || [])[1];
    if (!type) rss.browser += kib; else if (type === 'renderer') rss.renderer += kib; else rss.other += kib;
  }
  return rss;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
  await page.setInputFiles('#file', file);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const heap = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize').value;
  };
  const MB = 1024 * 1024;
  for (let run = 1; run <= runs; run++) {
    const before = chromiumRss();
    const heapBefore = await heap();
    let peak = { ...before }, heapPeak = heapBefore;
    const sampler = setInterval(async () => {
      const now = chromiumRss();
      for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], now[k]);
      try { heapPeak = Math.max(heapPeak, await heap()); } catch {}
    }, 50);
    const { seconds, bytes } = await page.evaluate(() => window.benchEncryptFile());
    clearInterval(sampler);
    console.log(`run ${run}: ${mib} MiB encrypted in ${seconds.toFixed(2)} s = ${(mib / seconds).toFixed(0)} MiB/s ` +
      `(${bytes} bytes out); renderer RSS ${(before.renderer / 1024).toFixed(0)} -> peak ${(peak.renderer / 1024).toFixed(0)} MiB, ` +
      `page JS heap ${(heapBefore / MB).toFixed(1)} -> peak ${(heapPeak / MB).toFixed(1)} MiB, ` +
      `browser process RSS ${(before.browser / 1024).toFixed(0)} -> peak ${(peak.browser / 1024).toFixed(0)} MiB`);
  }
} finally {
  await browser.close();
  server.close();
  rmSync(file, { force: true });
}
