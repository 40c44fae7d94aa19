// Acceptance: report.html renders in headless Debian Chromium: the timeline region is not blank,
// the violation rows are there and link to their moment, and the page fetches nothing.
// Usage: node report_test.mjs VCPUSIM_BINARY SCENARIO.json [--screenshot OUT.png]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, deadline, openSelfContained } from './browser.mjs';

deadline(150000);
const [binary, scenario, flag, shotOut] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcpusim-report-'));
const result = path.join(dir, 'result.json'), trace = path.join(dir, 'trace.json');
const html = path.join(dir, 'report.html');
try {
  execFileSync(binary, ['run', '-q', scenario, '--set', 'duration="100ms"', '--json', result,
                        '--trace', trace], { stdio: 'inherit' });
} catch (e) {
  if (e.status !== 1) throw e;
}
execFileSync(binary, ['report', result, '--trace', trace, '-o', html], { stdio: 'inherit' });

let failed = 0, passed = 0;
const check = (ok, what) => { console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`); ok ? passed++ : failed++; };
const browser = await launch();
try {
  const { page, url } = await openSelfContained(browser, html, check);
  const rows = await page.locator('tr.violation').count();
  check(rows > 0, `violation rows present (${rows})`);

  const box = page.locator('#timeline');
  const shot = await box.screenshot();
  if (flag === '--screenshot' && shotOut) {
    await page.screenshot({ path: shotOut, fullPage: false });
  }
  // Count the coloured (non-white, non-grey) pixels of the timeline screenshot in a canvas.
  const coloured = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, gg, bb] = [d[i], d[i + 1], d[i + 2]];
      if (Math.max(r, gg, bb) - Math.min(r, gg, bb) > 40) n++;
    }
    return { n, total: c.width * c.height };
  }, shot.toString('base64'));
  check(coloured.n > coloured.total * 0.05,
        `timeline region is not blank (${coloured.n} of ${coloured.total} pixels coloured)`);

  // The legend: one swatch per vCPU a pCPU runs, in the colour its pCPU slices are drawn with.
  const pcpuFills = await page.evaluate(() => {
    const out = {};
    for (const r of document.querySelectorAll('#chart rect')) {
      const t = r.querySelector('title'), m = t && /^pCPU\d+: (vCPU\d+)$/.exec(t.textContent);
      if (m) (out[m[1]] = out[m[1]] || new Set()).add(r.getAttribute('fill'));
    }
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v]]));
  });
  const vcpus = Object.keys(pcpuFills);
  check(vcpus.length >= 2 && vcpus.every((k) => pcpuFills[k].length === 1),
        `each vCPU drawn in one colour on the pCPU lanes (${JSON.stringify(pcpuFills)})`);
  check(new Set(vcpus.map((k) => pcpuFills[k][0])).size === vcpus.length, 'vCPUs in different colours');
  for (const k of vcpus) {
    const swatch = page.locator('#legend span', { hasText: new RegExp(`^${k}$`) }).locator('i');
    const colour = await swatch.evaluate((el) => getComputedStyle(el).backgroundColor).catch(() => '');
    const hex = pcpuFills[k][0], rgb = `rgb(${parseInt(hex.slice(1, 3), 16)}, ${parseInt(hex.slice(3, 5), 16)}, ${parseInt(hex.slice(5, 7), 16)})`;
    check(colour === rgb, `legend swatch of ${k} is its lane colour (${colour} vs ${rgb})`);
  }
  // A notable event's link zooms the timeline to its moment and highlights its row.
  const notable = await page.locator('tr.notable').count();
  check(notable > 0, `notable events listed (${notable})`);
  const whole = await page.getAttribute('#chart', 'viewBox');
  await page.locator('tr.notable a').first().click();
  const focused = await page.getAttribute('#chart', 'viewBox');
  check(+focused.split(' ')[2] < +whole.split(' ')[2] / 10, `notable link zooms the timeline (${whole} -> ${focused})`);
  check(await page.locator('tr.notable.current').count() === 1, 'the linked notable row is highlighted');
  await page.locator('#zoom-reset').click();
  // A violation's link moves the timeline to its moment (the chart's viewBox narrows).
  const before = await page.getAttribute('#chart', 'viewBox');
  await page.locator('tr.violation a').first().click();
  const after = await page.getAttribute('#chart', 'viewBox');
  const width = (vb) => +vb.split(' ')[2];
  check(width(after) < width(before) / 10, `violation link zooms the timeline (${before} -> ${after})`);
  const current = await page.locator('tr.violation.current').count();
  check(current === 1, 'the linked violation row is highlighted');
  // Wheel zoom and drag pan change the view.
  const bb = await box.boundingBox();
  await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2);
  await page.mouse.wheel(0, 400);
  const zoomed = await page.getAttribute('#chart', 'viewBox');
  check(zoomed !== after, 'mouse wheel zooms');
  await page.mouse.down();
  await page.mouse.move(bb.x + bb.width / 2 - 200, bb.y + bb.height / 2);
  await page.mouse.up();
  check((await page.getAttribute('#chart', 'viewBox')) !== zoomed, 'dragging pans');

  // Opening report.html#t=NS (a violation's link) lands on the timeline, zoomed to that moment,
  // with the whole viewport drawn: its top half is the heading, legend and lanes, not blank.
  const first = JSON.parse(fs.readFileSync(result, 'utf8')).violations[0].time_ns;
  const jump = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await jump.goto(`${url}#t=${first}`, { waitUntil: 'load', timeout: 60000 });
  const vb = (await jump.getAttribute('#chart', 'viewBox')).split(' ').map(Number);
  const [b0, scale] = [+(await jump.getAttribute('#timeline', 'data-begin')),
                       +(await jump.getAttribute('#timeline', 'data-scale'))];
  const centre = b0 + (vb[0] + vb[2] / 2) / scale;
  check(Math.abs(centre - first) < vb[2] / scale / 4 && vb[2] < 1e6 / 100,
        `#t=${first} zooms the timeline to the violation (viewBox ${vb.join(' ')})`);
  const heading = await jump.locator('#timeline-heading').boundingBox();
  check(heading && heading.y > -5 && heading.y < 100, `the jump shows the timeline heading at the top (y ${heading && heading.y})`);
  const viewport = await jump.screenshot();
  if (flag === '--screenshot' && shotOut) fs.writeFileSync(shotOut.replace(/\.png$/, '-jump.png'), viewport);
  const top = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height / 2;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 230 || d[i + 1] < 230 || d[i + 2] < 230) n++;
    return { n, total: c.width * c.height };
  }, viewport.toString('base64'));
  check(top.n > top.total * 0.08, `top half of the viewport after the jump is drawn (${top.n} of ${top.total} pixels not white)`);
  // The mechanism's lanes are in the picture: reads, seqcount writes, the timekeeping update.
  for (const lane of ['vCPU1 reads', 'seqcount writes', 'timekeeping'])
    check(await jump.locator('#timeline text', { hasText: lane }).count() > 0, `lane "${lane}" drawn`);
  check(await jump.locator('line.read-mark').count() > 0, 'the reads around the violation are marked');
} finally {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
