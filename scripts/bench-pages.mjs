// The page as a member meets it: what the browser downloads and how long until `/` is hydrated
// (body[data-hydrated] set by the app), in a fresh Chromium context each time (cold cache),
// unthrottled and under emulated Fast 4G (CDP: 9 Mbit/s down, 40 ms RTT), median of 7.
// Usage: node scripts/bench-pages.mjs http://127.0.0.1:PORT  (run by scripts/bench.sh)
import { createRequire } from 'module';
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const base = process.argv[2];
const runs = 7;
const fast4g = { offline: false, latency: 40, downloadThroughput: (9e6 / 8), uploadThroughput: (9e6 / 8) };

async function once(browser, conditions) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (conditions) await cdp.send('Network.emulateNetworkConditions', conditions);
  let transferred = 0;
  const encodings = new Set();
  cdp.on('Network.loadingFinished', (e) => { transferred += e.encodedDataLength; });
  cdp.on('Network.responseReceived', (e) => {
    if (/\.wasm$/.test(e.response.url)) encodings.add(e.response.headers['content-encoding'] ?? 'identity');
  });
  await page.goto(base + '/');
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true', null, { polling: 'raf' });
  const hydratedMs = await page.evaluate(() => performance.now());
  await context.close();
  return { hydratedMs, transferred, encodings: [...encodings].join(',') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  await once(browser); // warm the server and the disk cache, not the browser's
  for (const [name, conditions, target] of [['no throttling', undefined, 100], ['Fast 4G (9 Mbit/s, 40 ms RTT)', fast4g, 400]]) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await once(browser, conditions));
    const ms = results.map((r) => r.hydratedMs);
    console.log(`/ hydrated, ${name}, median of ${runs}: ${median(ms).toFixed(0)} ms (min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)})  (target <= ${target} ms)`);
    if (!conditions) {
      console.log(`what the browser downloads for / (page + wasm + js + css, as sent; wasm ${results[0].encodings}): ${(median(results.map((r) => r.transferred)) / 1024).toFixed(0)} KB  (target <= 80 KB)`);
    }
  }
} finally {
  await browser.close();
}
