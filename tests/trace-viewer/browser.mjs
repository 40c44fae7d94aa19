// Shared helpers of the browser tests: Debian's Chromium (never a downloaded browser) driven by
// playwright-core, and a static file server on 127.0.0.1 (no other network).
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.VCPUSIM_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run tools/scripts/setup.sh --tests`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage'],
  });
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
                '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png',
                '.woff2': 'font/woff2', '.ico': 'image/x-icon', '.txt': 'text/plain' };

// Serves url prefix -> directory or file; returns { url, close }.
export function serve(routes) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split(/[?#]/)[0]);
    for (const [prefix, target] of Object.entries(routes)) {
      if (!url.startsWith(prefix)) continue;
      let file = target;
      if (fs.existsSync(target) && fs.statSync(target).isDirectory())
        file = path.join(target, path.normalize(url.slice(prefix.length)).replace(/^(\.\.[/\\])+/, ''));
      if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) break;
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404);
    res.end('not found');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`,
                close: () => new Promise((r) => server.close(r)) });
    });
  });
}

// Fails the whole process after `ms` whatever happens (bounded time in ctest).
export function deadline(ms) {
  setTimeout(() => { console.error(`timed out after ${ms} ms`); process.exit(1); }, ms).unref();
}

// Opens a self-contained HTML file (report, diff) and checks, through `check(ok, what)`, that it
// fetched nothing besides itself and threw no script error; returns { page, url }.
export async function openSelfContained(browser, html, check) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const url = pathToFileURL(html).href;
  const foreign = [];
  page.on('request', (r) => { if (r.url() !== url && !r.url().startsWith('data:')) foreign.push(r.url()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  check(foreign.length === 0, `no fetch besides the page itself (${JSON.stringify(foreign)})`);
  check(errors.length === 0, `no script error (${errors.join('; ')})`);
  return { page, url };
}
