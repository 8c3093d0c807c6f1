/**
 * The viewer's page in a real browser, as a user meets it: the real server
 * (startViewer), real Zipkin spans posted to it, and Chromium clicking,
 * typing and reading. Every test also fails on a console error or warning, an
 * uncaught exception or a Content-Security-Policy violation.
 *
 * The traces: A (gateway → users → billing, users failing, five sequential
 * "select order" calls to postgres, a wait with nothing traced), and B (a
 * short health check, 30 s older). Some tests post more (live, XSS).
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../../lib/types.js';
import { startViewer, type Viewer } from '../../lib/viewer/server.js';
import { eventually, launchBrowser, watchedPage, type WatchedPage } from '../helpers/browser.js';

// The callbacks given to page.evaluate run in the browser, but this project's
// tsconfig has no DOM library (lib/ must not lean on it): they name what they use here.
declare const window: { scrollY: number; scrollTo(x: number, y: number): void };
declare const location: { hash: string };
declare const document: { activeElement: HTMLElement | null; documentElement: { scrollHeight: number } };
declare function getComputedStyle(node: unknown): { color: string; backgroundColor: string; stroke: string };
type HTMLElement = { dataset: Record<string, string | undefined>; closest(selector: string): HTMLElement | null };
type HTMLOptionElement = { value: string };

const MS = 1000;
const A = '4bf92f3577b34da6a3ce929d0e0e4736';
const B = 'b0b0b0b0b0b0b0b0';
// Ids as the store keeps them: a 128-bit trace id whose high half is zero becomes 16 digits, so the short ones are 16 already.
const key = (n: string) => n.padStart(16, '0');
const ep = (serviceName: string) => ({ serviceName, ipv4: '127.0.0.1' });

/** Trace A at t0 (epoch µs), and trace B 30 s before it. */
function fixture(t0: number): ZipkinSpan[] {
  const spans: ZipkinSpan[] = [
    { traceId: A, id: key('a1'), name: 'get /users/{id}', kind: 'SERVER', timestamp: t0, duration: 120 * MS, localEndpoint: ep('gateway'), tags: { 'http.method': 'GET', 'http.path': '/users/42', 'http.status_code': '500' } },
    { traceId: A, id: key('e1'), parentId: key('a1'), name: 'log request', timestamp: t0 + 1 * MS, duration: 4 * MS, localEndpoint: ep('gateway') },
    { traceId: A, id: key('a2'), parentId: key('a1'), name: 'get /users/{id}', kind: 'CLIENT', timestamp: t0 + 2 * MS, duration: 110 * MS, localEndpoint: ep('gateway'), remoteEndpoint: { serviceName: 'users' } },
    {
      traceId: A, id: key('a3'), parentId: key('a2'), name: 'get /users/{id}', kind: 'SERVER', timestamp: t0 + 3 * MS, duration: 108 * MS, localEndpoint: ep('users'),
      tags: { error: 'user 42: billing refused', 'http.status_code': '500' }, annotations: [{ timestamp: t0 + 4 * MS, value: 'cache.miss' }],
    },
  ];
  // The N+1: one query per order, one after another.
  for (let i = 0; i < 5; i++) {
    spans.push({ traceId: A, id: key(`b${i}`), parentId: key('a3'), name: 'select order', kind: 'CLIENT', timestamp: t0 + (5 + 11 * i) * MS, duration: 10 * MS, localEndpoint: ep('users'), remoteEndpoint: { serviceName: 'postgres' }, tags: { 'sql.query': 'select * from orders where id = ?' } });
  }
  // 59 ms to 85 ms: users waits on nothing it traced.
  spans.push(
    { traceId: A, id: key('c1'), parentId: key('a3'), name: 'post /charge', kind: 'CLIENT', timestamp: t0 + 85 * MS, duration: 20 * MS, localEndpoint: ep('users'), remoteEndpoint: { serviceName: 'billing' } },
    { traceId: A, id: key('c2'), parentId: key('c1'), name: 'post /charge', kind: 'SERVER', timestamp: t0 + 86 * MS, duration: 18 * MS, localEndpoint: ep('billing'), tags: { 'payment.provider': 'acme' } },
    { traceId: B, id: key('d1'), name: 'get /health', kind: 'SERVER', timestamp: t0 - 30_000 * MS, duration: 3 * MS, localEndpoint: ep('gateway'), tags: { 'http.status_code': '200' } },
    { traceId: B, id: key('d2'), parentId: key('d1'), name: 'check cache', timestamp: t0 - 30_000 * MS + 500, duration: 1 * MS, localEndpoint: ep('gateway') },
  );
  return spans;
}

/** A's rows in waterfall order (depth first, siblings by start), with their depth. */
const A_ROWS: [string, number, string, string][] = [
  [key('a1'), 0, 'gateway', 'get /users/{id}'],
  [key('e1'), 1, 'gateway', 'log request'],
  [key('a2'), 1, 'gateway', 'get /users/{id}'],
  [key('a3'), 2, 'users', 'get /users/{id}'],
  ...[0, 1, 2, 3, 4].map((i): [string, number, string, string] => [key(`b${i}`), 3, 'users', 'select order']),
  [key('c1'), 3, 'users', 'post /charge'],
  [key('c2'), 4, 'billing', 'post /charge'],
];

const ERROR_RED = 'rgb(212, 60, 60)';

let viewer: Viewer;
let browser: Browser;
let t0: number;
let w: WatchedPage;
let page: Page;
/** Console messages a test expects (a 400 it provokes on purpose); anything else fails it. */
let expected: RegExp[] = [];

async function post(spans: ZipkinSpan[]): Promise<void> {
  const res = await fetch(`${viewer.url}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spans) });
  expect(res.status).toBe(202);
}

const row = (k: string) => page.locator(`.row[data-key="${k}"]`);
const listedIds = () => page.locator('#results .trace-item').evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.traceId));

async function open(hash: string): Promise<void> {
  await page.goto(`${viewer.url}/${hash}`);
}

/** Waits for the list to show exactly these traces (of the ones this spec made), in this order. */
async function listShows(ids: string[], among: string[] = [A, B]): Promise<void> {
  await eventually(async () => expect((await listedIds()).filter((id) => among.includes(id!))).toEqual(ids));
}

beforeAll(async () => {
  viewer = await startViewer({ port: 0 });
  t0 = (Date.now() - 5000) * 1000;
  await post(fixture(t0));
  browser = await launchBrowser();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
});

beforeEach(async () => {
  w = await watchedPage(browser);
  page = w.page;
  expected = [];
});

afterEach(async () => {
  await w.context.close();
  expect(w.problems.filter((p) => !expected.some((e) => e.test(p)))).toEqual([]);
});

describe('the viewer page', { timeout: 15_000 }, () => {
  it('lists the traces newest first, each with its root, duration, spans, errors and services', async () => {
    await open('#/');
    await listShows([A, B]);
    const first = page.locator(`#results .trace-item[data-trace-id="${A}"]`);
    expect(await first.locator('.root .svc').innerText()).toBe('gateway');
    expect(await first.locator('.root .name').innerText()).toBe('get /users/{id}');
    expect(await first.locator('.dur').innerText()).toBe('120ms');
    expect(await first.locator('.count').innerText()).toBe('11 spans');
    expect(await first.locator('.errors').innerText()).toBe('1 error');
    expect(await first.locator('.services .chip').allTextContents()).toEqual(['users×7', 'gateway×3', 'billing×1']);
    const second = page.locator(`#results .trace-item[data-trace-id="${B}"]`);
    expect(await second.locator('.root .name').innerText()).toBe('get /health');
    expect(await second.locator('.errors').innerText()).toBe('');
    // A trace with an error is marked in red at its edge.
    expect(await first.evaluate((node) => getComputedStyle(node.querySelector('.errors')!).color)).toBe(ERROR_RED);
  });

  it('search narrows the list by service, min duration and tag, keeps it in the address, and back goes back', async () => {
    await open('#/');
    await listShows([A, B]);
    // Billing is only in A.
    await page.selectOption('select[name=serviceName]', 'billing');
    await listShows([A]);
    expect(new URL(page.url()).hash).toBe('#/?serviceName=billing');

    await page.selectOption('select[name=serviceName]', '');
    await listShows([A, B]);
    await page.fill('input[name=minDuration]', '50ms');
    await page.press('input[name=minDuration]', 'Enter');
    await listShows([A]);
    expect(new URL(page.url()).hash).toBe('#/?minDuration=50000');

    await page.fill('input[name=minDuration]', '');
    // The tag field suggests keys, then a key's values.
    await page.focus('input[name=annotationQuery]');
    await eventually(async () => expect(await page.locator('#annotation-suggestions option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toContain('http.status_code'));
    await page.fill('input[name=annotationQuery]', 'http.status_code=');
    await eventually(async () => expect(await page.locator('#annotation-suggestions option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(expect.arrayContaining(['http.status_code=200', 'http.status_code=500'])));
    await page.fill('input[name=annotationQuery]', 'http.status_code=200');
    await page.click('button[type=submit]');
    await listShows([B]);
    expect(new URL(page.url()).hash).toBe('#/?annotationQuery=http.status_code%3D200');

    // Back: the min-duration search again, its field filled in.
    await page.goBack();
    await listShows([A]);
    expect(await page.inputValue('input[name=minDuration]')).toBe('50ms');
    expect(await page.inputValue('input[name=annotationQuery]')).toBe('');
    await page.goForward();
    await listShows([B]);

    // A search link opens with its form filled: gateway, at least 10 ms (B lasts 3 ms).
    await open('#/?serviceName=gateway&minDuration=10000');
    await listShows([A]);
    expect(await page.inputValue('select[name=serviceName]')).toBe('gateway');
    expect(await page.inputValue('input[name=minDuration]')).toBe('10ms');
  });

  it('draws a trace as a waterfall: rows in order and indented, service colours, errors red, critical path, self time, hints', async () => {
    await open(`#/trace/${A}`);
    await page.locator('.row').first().waitFor();
    expect(await page.locator('h1').innerText()).toContain('gateway');

    // Order and what each row says.
    const rows = await page.locator('.row').evaluateAll((nodes) => nodes.map((n) => [(n as HTMLElement).dataset.key, n.querySelector('.svc')!.textContent, n.querySelector('.span-name')!.textContent]));
    expect(rows).toEqual(A_ROWS.map(([k, , svc, name]) => [k, svc, name]));

    // Indentation: where each row's service dot sits grows with its depth, 16 px a level.
    const x = async (k: string) => (await row(k).locator('.dot').boundingBox())!.x;
    const x0 = await x(key('a1'));
    for (const [k, depth] of A_ROWS) expect(Math.round((await x(k)) - x0)).toBe(depth * 16);

    // Each service its own colour, the same on every one of its rows and in the legend.
    const barColor = (k: string) => row(k).locator('.bar').evaluate((bar) => getComputedStyle(bar).backgroundColor);
    const gateway = await barColor(key('a1'));
    expect(await barColor(key('a2'))).toBe(gateway);
    expect(await barColor(key('b0'))).not.toBe(gateway);
    expect(await barColor(key('c2'))).not.toBe(await barColor(key('b0')));
    expect(await page.locator('.legend li').allTextContents()).toEqual(['users7', 'gateway3', 'billing1']);
    const legendDot = await page.locator('.legend li', { hasText: 'billing' }).locator('.dot').evaluate((d) => getComputedStyle(d).backgroundColor);
    expect(legendDot).toBe(await barColor(key('c2')));

    // The failing span: a red bar, red text and an "error" badge; the others are not red.
    expect(await barColor(key('a3'))).toBe(ERROR_RED);
    expect(await row(key('a3')).locator('.span-name').evaluate((n) => getComputedStyle(n).color)).toBe(ERROR_RED);
    expect(await row(key('a3')).locator('.badge').innerText()).toMatch(/error/i);
    for (const [k] of A_ROWS.filter(([k]) => k !== key('a3'))) expect(await barColor(k)).not.toBe(ERROR_RED);

    // Its annotation, a mark on its bar.
    expect(await row(key('a3')).locator('.bar .mark').getAttribute('title')).toContain('cache.miss');

    // Self time: a3 lasts 108 ms, its children cover 70 ms.
    expect(await row(key('a3')).locator('.self').innerText()).toBe('38ms');
    expect(await row(key('a1')).locator('.self').innerText()).toBe('9ms');
    expect(await row(key('c2')).locator('.self').innerText()).toBe('18ms');
    expect(await row(key('a3')).locator('.dur').innerText()).toBe('108ms');

    // The time axis: a scale from 0 to the trace's 120 ms.
    expect(await page.locator('.wf-head .tick').allInnerTexts()).toEqual(['0', '20ms', '40ms', '60ms', '80ms', '100ms', '120ms']);

    // The critical path is marked (the logging span, done in parallel, is not on it); the toggle hides the marks.
    expect(await row(key('a3')).locator('.crit-mark').isVisible()).toBe(true);
    expect(await row(key('c2')).locator('.crit-mark').isVisible()).toBe(true);
    expect(await row(key('e1')).locator('.crit-mark').count()).toBe(0);
    await page.uncheck('#critical-toggle');
    expect(await row(key('a3')).locator('.crit-mark').isVisible()).toBe(false);
    await page.check('#critical-toggle');
    expect(await row(key('a3')).locator('.crit-mark').isVisible()).toBe(true);

    // The hints, as sentences above the waterfall; a click highlights their rows.
    const hints = page.locator('.hints .hint');
    expect(await hints.locator('.hint-text').allInnerTexts()).toEqual([
      "5 × 'select order' under 'get /users/{id}' one after another: 50.0 ms; an N+1 query? one batched call may do",
      "'get /users/{id}' waits 26.0 ms on nothing it traced, between 'select order' and 'post /charge'",
    ]);
    const rowBackground = (k: string) => row(k).evaluate((n) => getComputedStyle(n).backgroundColor);
    const plain = await rowBackground(key('b0'));
    await hints.first().click();
    const highlighted = await page.locator('.row.hinted').evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.key));
    expect(highlighted).toEqual([0, 1, 2, 3, 4].map((i) => key(`b${i}`)));
    expect(await rowBackground(key('b0'))).not.toBe(plain);
    expect(await rowBackground(key('c1'))).toBe(plain);
    // The gap: the rows either side, and the stretch of users' bar where nothing ran.
    await hints.nth(1).click();
    expect(await page.locator('.row.hinted').evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.key))).toEqual([key('a3'), key('b4'), key('c1')]);
    expect(await row(key('a3')).locator('.gap-mark').isVisible()).toBe(true);
  });

  it('a click on a row shows its tags and annotations and names it in the address; Enter closes and opens its subtree', async () => {
    await open(`#/trace/${A}`);
    await row(key('a3')).click();
    const detail = page.locator('.detail');
    await detail.waitFor();
    const text = await detail.innerText();
    expect(text).toContain('Error: user 42: billing refused');
    expect(await detail.locator('.tags tr').allInnerTexts()).toEqual(['error\tuser 42: billing refused', 'http.status_code\t500']);
    expect(await detail.locator('.annotations tr').allInnerTexts()).toEqual(['+4ms\tcache.miss']);
    expect(text).toContain('00000000000000a2'); // its parent's id
    expect(new URL(page.url()).hash).toBe(`#/trace/${A}/${key('a3')}`);

    // Keyboard: the clicked row has the focus; Enter closes its subtree, Enter again opens it.
    const under = A_ROWS.slice(4).map(([k]) => k);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.key)).toBe(key('a3'));
    await page.keyboard.press('Enter');
    for (const k of under) expect(await row(k).isVisible()).toBe(false);
    expect(await row(key('a3')).locator('.hidden-count').innerText()).toBe('+7');
    expect(await row(key('a3')).getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    for (const k of under) expect(await row(k).isVisible()).toBe(true);
    // Arrows walk the rows; the twisty closes with the mouse.
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.key)).toBe(key('b0'));
    await row(key('c1')).locator('.twisty').click();
    expect(await row(key('c2')).isVisible()).toBe(false);
    expect(await row(key('b4')).isVisible()).toBe(true);
  });

  it('a deep link opens the trace with that span selected and in view; back returns to the list', async () => {
    await open('#/');
    await listShows([A, B]);
    await page.click(`#results .trace-item[data-trace-id="${B}"] a`);
    await row(key('d1')).waitFor();
    await page.goBack();
    await listShows([A, B]);

    // A small window, so the span is below the fold unless the page scrolls to it.
    await page.setViewportSize({ width: 1280, height: 420 });
    await open(`#/trace/${A}/${key('c2')}`);
    await page.locator('.detail').waitFor();
    expect(await row(key('c2')).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.row[aria-selected="true"]').count()).toBe(1);
    expect(await page.locator('.detail .tags').innerText()).toContain('payment.provider\tacme');
    const box = (await row(key('c2')).boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(420);

    // The same trace, another span, by the address (as back/forward would): selected without a reload.
    await page.evaluate(() => ((window as unknown as { __samePage: boolean }).__samePage = true));
    await page.evaluate((hash) => (location.hash = hash), `#/trace/${A}/${key('e1')}`);
    await eventually(async () => expect(await row(key('e1')).getAttribute('aria-selected')).toBe('true'));
    await page.goBack();
    await eventually(async () => expect(await row(key('c2')).getAttribute('aria-selected')).toBe('true'));
    expect(await page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
  });

  it('live: a trace posted while the list is open appears at the top without a reload, focus and scroll kept', async () => {
    await open('#/');
    await listShows([A, B]);
    await page.evaluate(() => ((window as unknown as { __samePage: boolean }).__samePage = true));
    await page.waitForSelector('#live.on');
    // A short window, scrolled down to B: the row the user looks at must not move when a trace arrives above it.
    await page.setViewportSize({ width: 1280, height: 360 });
    const link = page.locator(`#results .trace-item[data-trace-id="${B}"] a`);
    await link.focus();
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const top = (await link.boundingBox())!.y;
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);

    const C = 'c0c0c0c0c0c0c0c0';
    await post([{ traceId: C, id: key('f1'), name: 'nightly report', kind: 'SERVER', timestamp: Date.now() * 1000, duration: 7 * MS, localEndpoint: ep('cron') }]);
    await listShows([C, A, B], [A, B, C]);
    expect(await page.locator(`#results .trace-item[data-trace-id="${C}"] .root`).textContent()).toBe('cronnightly report');
    expect(await page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
    expect(await page.evaluate(() => (document.activeElement?.closest('.trace-item') as HTMLElement | null)?.dataset.traceId)).toBe(B);
    expect(Math.abs((await link.boundingBox())!.y - top)).toBeLessThanOrEqual(1);
    // The new service is offered in the form too.
    await eventually(async () => expect(await page.locator('select[name=serviceName] option').allInnerTexts()).toContain('cron'));

    // A search it does not match stays as it is.
    await open('#/?serviceName=billing');
    await listShows([A], [A, B, C]);
    await page.waitForSelector('#live.on');
    const D = 'd0d0d0d0d0d0d0d0';
    await post([{ traceId: D, id: key('f2'), name: 'nightly report', kind: 'SERVER', timestamp: Date.now() * 1000, duration: 7 * MS, localEndpoint: ep('cron') }]);
    // Then one it does: it appears (and the other still does not).
    const E = 'e0e0e0e0e0e0e0e0';
    await post([{ traceId: E, id: key('f3'), name: 'refund', kind: 'SERVER', timestamp: Date.now() * 1000, duration: 2 * MS, localEndpoint: ep('billing') }]);
    await listShows([E, A], [A, B, C, D, E]);
  });

  it('live: an open trace gains the spans that arrive late, keeping the selected span', async () => {
    const L = 'f00df00df00df00d';
    const now = Date.now() * 1000;
    await post([{ traceId: L, id: key('71'), name: 'checkout', kind: 'SERVER', timestamp: now, duration: 30 * MS, localEndpoint: ep('shop') }]);
    await open(`#/trace/${L}/${key('71')}`);
    await page.locator('.detail').waitFor();
    await page.waitForSelector('#live.on');
    await page.evaluate(() => ((window as unknown as { __samePage: boolean }).__samePage = true));
    await post([{ traceId: L, id: key('72'), parentId: key('71'), name: 'reserve stock', timestamp: now + 2 * MS, duration: 20 * MS, localEndpoint: ep('stock') }]);
    await row(key('72')).waitFor();
    expect(await page.locator('.row .span-name').allInnerTexts()).toEqual(['checkout', 'reserve stock']);
    expect(await row(key('71')).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.legend li').allTextContents()).toEqual(expect.arrayContaining(['shop1', 'stock1']));
    expect(await page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
  });

  it('downloads the trace as Zipkin JSON, the same spans the API gives', async () => {
    await open(`#/trace/${A}`);
    await row(key('a1')).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.download')]);
    expect(download.suggestedFilename()).toBe(`trace-${A}.json`);
    const saved = JSON.parse(await readFile((await download.path())!, 'utf8'));
    const api = await (await fetch(`${viewer.url}/api/v2/trace/${A}`)).json();
    expect(saved).toEqual(api);
    expect(saved).toHaveLength(11);
  });

  it('opens an uploaded Zipkin JSON file as a trace marked "uploaded, not stored"', async () => {
    const U = 'a0a0a0a0a0a0a0a0';
    const now = Date.now() * 1000;
    const spans: ZipkinSpan[] = [
      { traceId: U, id: key('91'), name: 'import batch', kind: 'SERVER', timestamp: now, duration: 40 * MS, localEndpoint: ep('importer') },
      { traceId: U, id: key('92'), parentId: key('91'), name: 'parse csv', timestamp: now + 1 * MS, duration: 30 * MS, localEndpoint: ep('importer'), tags: { rows: '1200' } },
    ];
    await open('#/');
    await listShows([A, B]);
    await page.setInputFiles('#upload', { name: 'trace.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(spans)) });
    await row(key('92')).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/uploaded/${U}`);
    expect(await page.locator('h1 .badge').innerText()).toMatch(/uploaded, not stored/i);
    expect(await page.locator('.row .span-name').allInnerTexts()).toEqual(['import batch', 'parse csv']);
    // No hints here: no hint box, and no stray words where it would be.
    expect(await page.locator('.hints').count()).toBe(0);
    expect(await page.locator('#view-trace').innerText()).not.toMatch(/\b(null|undefined|NaN)\b/);
    await row(key('92')).click();
    expect(await page.locator('.detail .tags').innerText()).toBe('rows\t1200');
    // Not stored: the server does not know it.
    expect((await fetch(`${viewer.url}/api/v2/trace/${U}`)).status).toBe(404);
    // Downloading it gives the file back.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.download')]);
    expect(JSON.parse(await readFile((await download.path())!, 'utf8'))).toEqual(spans);

    // A file that is not a trace: the server's reason, on the page.
    expected = [/status of 400/];
    await page.setInputFiles('#upload', { name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"not": "spans"}') });
    await page.locator('#toast').waitFor();
    expect(await page.locator('#toast').innerText()).toMatch(/^notes\.json: ./);
    expect(new URL(page.url()).hash).toBe(`#/uploaded/${U}/${key('92')}`);
  });

  it('shows the service dependency graph: services left to right, calls and errors on the edges, errors red, a chosen time window', async () => {
    await open('#/dependencies');
    const table = page.locator('#deps-table tbody tr');
    await table.first().waitFor();
    const edges = await table.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(edges).toEqual(expect.arrayContaining([
      ['gateway', 'users', '1', '1'],
      ['users', 'postgres', '5', '0'],
      ['users', 'billing', '1', '0'],
    ]));
    expect(await page.locator('#deps-table tr.has-error .errors').evaluate((td) => getComputedStyle(td).color)).toBe(ERROR_RED);

    // The drawing: a box per service, sources on the left, sinks on the right.
    const nodeX = (name: string) => page.locator(`svg .node[data-service="${name}"] .node-box`).evaluate((r) => Number(r.getAttribute('x')));
    expect(await nodeX('gateway')).toBeLessThan(await nodeX('users'));
    expect(await nodeX('users')).toBeLessThan(await nodeX('postgres'));
    expect(await nodeX('billing')).toBe(await nodeX('postgres'));
    const edge = (parent: string, child: string) => page.locator(`svg path.edge[data-parent="${parent}"][data-child="${child}"]`);
    expect(await edge('gateway', 'users').evaluate((p) => getComputedStyle(p).stroke)).toBe(ERROR_RED);
    expect(await edge('users', 'postgres').evaluate((p) => getComputedStyle(p).stroke)).not.toBe(ERROR_RED);
    expect(await page.locator('svg text.edge-label[data-parent="users"][data-child="postgres"]').textContent()).toBe('5');
    expect(await page.locator('svg text.edge-label[data-parent="gateway"][data-child="users"]').textContent()).toBe('1 · 1 err');

    // The window: ending two days ago, a day long, there were no calls.
    await page.fill('#deps-form input[name=endTs]', new Date(Date.now() - 2 * 86_400_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19));
    await page.click('#deps-form button[type=submit]');
    await page.getByText('No calls between services in this window.').waitFor();
    expect(await table.count()).toBe(0);
    expect(new URL(page.url()).hash).toMatch(/^#\/dependencies\?endTs=\d+$/);
    await page.goBack();
    await table.first().waitFor();
  });

  it('shows span data as text: a name or a tag that is markup runs nothing', async () => {
    const X = 'bad0bad0bad0bad0';
    const name = '<img src=x onerror=window.__xss=1>';
    const tag = '<script>window.__xss=2</script>';
    await post([{
      traceId: X, id: key('66'), name, kind: 'SERVER', timestamp: Date.now() * 1000, duration: 5 * MS, localEndpoint: ep('<b>mallory</b>'),
      tags: { note: tag, [`<i>key</i>`]: '"><svg onload=window.__xss=3>' }, annotations: [{ timestamp: Date.now() * 1000 + 1, value: '<iframe src=javascript:window.__xss=4>' }],
    }]);
    await open('#/');
    const item = page.locator(`#results .trace-item[data-trace-id="${X}"]`);
    await item.waitFor();
    expect(await item.locator('.root .name').innerText()).toBe(name);
    expect(await item.locator('.root .svc').innerText()).toBe('<b>mallory</b>');
    await item.locator('a').click();
    await row(key('66')).click();
    expect(await row(key('66')).locator('.span-name').innerText()).toBe(name);
    const tags = await page.locator('.detail .tags tr').allInnerTexts();
    expect(tags).toEqual(['<i>key</i>\t"><svg onload=window.__xss=3>', `note\t${tag}`]);
    expect(await page.locator('.detail .annotations td').innerText()).toBe('<iframe src=javascript:window.__xss=4>');
    expect(await page.locator('img, script:not([src]), svg[onload], iframe, b, i').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });
});
