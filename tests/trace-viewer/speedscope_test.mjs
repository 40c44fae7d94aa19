// Acceptance: speedscope (an independent Trace Event Format consumer) loaded in headless Debian
// Chromium imports a vcpusim trace with the expected lane names, and rejects a broken trace.
// Usage: node speedscope_test.mjs VCPUSIM_BINARY SCENARIO.json
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, serve, deadline } from './browser.mjs';

deadline(150000);
const here = path.dirname(fileURLToPath(import.meta.url));
const [binary, scenario] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcpusim-speedscope-'));
const trace = path.join(dir, 'trace.json');
try {
  execFileSync(binary, ['run', '-q', scenario, '--set', 'duration="40ms"', '--trace', trace],
               { stdio: 'inherit' });
} catch (e) {
  if (e.status !== 1) throw e;  // 1: expectations not met in the shortened run; the trace is there
}
// Deliberately broken: the events are cut off in the middle of the array.
const text = fs.readFileSync(trace, 'utf8');
fs.writeFileSync(path.join(dir, 'broken.json'), text.slice(0, Math.floor(text.length / 2)));

const server = await serve({ '/speedscope/': path.join(here, 'node_modules/speedscope/dist/release'),
                             '/data/': dir });
const browser = await launch();
let failed = 0;
const check = (ok, what) => { console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`); if (!ok) failed++; };
try {
  const page = await browser.newPage();
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
      check(false, `no request outside localhost (${r.url()})`);
  });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${server.url}/speedscope/index.html#profileURL=${encodeURIComponent('/data/trace.json')}`);
  // The toolbar shows "<profile name> (k/N)"; 'n' moves to the next profile (one per lane).
  await page.waitForFunction(() => /\(\d+\/\d+\)/.test(document.body.innerText), null, { timeout: 60000 });
  const names = [];
  let total = 0;
  for (let i = 0; i < 16; i++) {
    const m = await page.evaluate(() => {
      const t = document.body.innerText;
      const r = /([^\n]*?)\s*\((\d+)\/(\d+)\)/.exec(t);
      return r ? [r[1].trim(), +r[2], +r[3]] : null;
    });
    if (!m) break;
    total = m[2];
    if (!names.includes(m[0])) names.push(m[0]);
    if (names.length >= total) break;
    await page.keyboard.press('n');
    await page.waitForTimeout(150);
  }
  console.log('speedscope profiles:', JSON.stringify(names));
  const want = ['Host pCPUs (pid 1), pCPU0 (tid 10000)', 'Host pCPUs (pid 1), pCPU1 (tid 10001)',
                'VM vCPUs (pid 2), vCPU0 (tid 20000)', 'VM vCPUs (pid 2), vCPU1 (tid 20001)'];
  check(total === want.length, `speedscope imported ${want.length} lanes (got ${total})`);
  for (const w of want) check(names.some((n) => n.endsWith(w)), `lane "${w}" present`);
  check(!(await page.evaluate(() => document.body.innerText.includes('Something went wrong'))),
        'the good trace imports without an error');

  const bad = await browser.newPage();
  const dialogs = [];
  bad.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await bad.goto(`${server.url}/speedscope/index.html#profileURL=${encodeURIComponent('/data/broken.json')}`);
  await bad.waitForFunction(() => /Something went wrong|\(\d+\/\d+\)/.test(document.body.innerText) ||
                                  !document.body.innerText.includes('Loading'), null, { timeout: 60000 });
  await bad.waitForTimeout(500);
  const badText = await bad.evaluate(() => document.body.innerText);
  console.log('broken trace:', JSON.stringify(dialogs), badText.includes('Something went wrong') ? '(error page)' : '');
  check((badText.includes('Something went wrong') || dialogs.some((d) => d.includes('Unrecognized format'))) &&
        !/\(\d+\/\d+\)/.test(badText), 'the broken trace is rejected');
} finally {
  await browser.close();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`${4 + 2 - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
