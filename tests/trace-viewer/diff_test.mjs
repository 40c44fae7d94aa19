// The diff page (vcpusim report --diff) renders in headless Debian Chromium: both timelines drawn,
// the divergence marked on each, one zoom for both, and no fetch besides the page itself.
// Usage: node diff_test.mjs VCPUSIM_BINARY SCENARIO.json [--screenshot OUT.png]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, deadline, openSelfContained } from './browser.mjs';

deadline(150000);
const [binary, scenario, flag, shotOut] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcpusim-diff-'));
const min = path.join(dir, 'min.json'), passing = path.join(dir, 'min.passing.json');
const html = path.join(dir, 'diff.html');
const run = (args, ok = [0]) => {
  try {
    execFileSync(binary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    if (!ok.includes(e.status)) throw e;
  }
};
run(['explore', scenario, '--first', '--schedules', '200', '-q', '-o', dir], [1]);
run(['shrink', path.join(dir, 'failure-1.replay.json'), '-o', min, '-q']);
run(['report', '--diff', passing, min, '-o', html]);

let failed = 0, passed = 0;
const check = (ok, what) => { console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`); ok ? passed++ : failed++; };
const browser = await launch();
try {
  const { page, url } = await openSelfContained(browser, html, check);
  for (const side of ['passing', 'failing']) {
    const box = await page.locator(`#${side}-timeline`).boundingBox();
    check(box && box.height > 50 && box.width > 500, `${side} timeline drawn (${JSON.stringify(box)})`);
    check(await page.locator(`#${side}-chart line.divergence-mark`).count() === 1, `${side} timeline marks the divergence`);
    check(await page.locator(`#${side}-axis text`).count() > 0, `${side} time axis drawn`);
  }
  // One legend for both timelines, its swatches visible; the divergence said in words.
  const legend = await page.locator('#legend').boundingBox();
  check(legend && legend.height > 20, `legend drawn (${JSON.stringify(legend)})`);
  const swatches = await page.locator('#legend i').count();
  check(swatches >= 4, `legend has its colour swatches (${swatches})`);
  check(await page.locator('#legend', { hasText: 'first divergence' }).count() === 1, 'legend names the divergence mark');
  const words = await page.locator('#divergence-words').textContent();
  check(/^First divergence\. At [0-9.]+(ms|us|ns), the (failing|passing) run: .*; the (passing|failing) run (did not|instead)/.test(words),
        `divergence in words (${words})`);
  check(!/\(\d+, \d+\)/.test(words), 'no raw record in the sentence');
  const cause = await page.locator('#cause').textContent();
  check(/only in the failing run|default draw/.test(cause), `the cause is named (${cause})`);
  // One zoom for both: zooming to the divergence narrows both charts alike, to a quarter of the
  // span before it and 1.5 times the span from it to the failure after it (the page's rule),
  // unless that covers the whole run (a failure long after the divergence).
  const before = await page.getAttribute('#failing-chart', 'viewBox');
  const d = await page.evaluate(() => {
    const t = +document.body.dataset.divergence, svg = document.getElementById('failing-timeline');
    return { t, until: +document.body.dataset.until, t0: +svg.dataset.begin, t1: +svg.dataset.end };
  });
  const span = Math.max(2000, (d.until - d.t) * 1.5);
  const narrows = d.t - span / 4 > d.t0 || d.t + span < d.t1;
  await page.locator('#zoom-divergence').click();
  const p = await page.getAttribute('#passing-chart', 'viewBox');
  const f = await page.getAttribute('#failing-chart', 'viewBox');
  if (narrows)
    check(f !== before && +f.split(' ')[2] < +before.split(' ')[2], `zoom to the divergence narrows the view (${before} -> ${f})`);
  else
    check(f === before, `zoom to a divergence whose failure comes at the end keeps the whole run (${before} -> ${f})`);
  check(p === f, `both timelines share the time axis (${p} vs ${f})`);
  if (flag === '--screenshot' && shotOut) await page.screenshot({ path: shotOut, fullPage: true });
} finally {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
