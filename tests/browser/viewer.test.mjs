// The archive viewer in a real browser: Debian's Chromium driven by playwright-core, against
// a local API that archived a ticket through the signed closed-ticket webhook. Started by
// scripts/browser-test.sh, which sets VIEWER_URL and starts the servers.
//
// The steps build on each other (sign in, find, open, read, download), so they run in order
// on one page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import {
  CLIENT_ID, DOCUMENT, FILES_DIR, IMAGE, TICKET_ID, closedDelivery, expected,
} from './ticket.mjs';

const BASE = process.env.VIEWER_URL;
const TOKEN = process.env.API_TOKEN || 'local-dev-token-0123456789abcdef';
const SECRET = process.env.GLASSIX_API_SECRET || 'test-api-secret';
const SCREENSHOT = process.env.SCREENSHOT;
const TIME_ZONE = 'Asia/Jerusalem';
const LOCALE = 'en-GB';
const TITLE = 'Ticket archive';
const STEP = 15_000;

assert.ok(BASE, 'VIEWER_URL is not set: run scripts/browser-test.sh');

let browser;
let context;
let page;
const pageErrors = [];
const transactionPages = [];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function rest(method, route, body) {
  const response = await fetch(`${BASE}${route}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

before(async () => {
  // Given: the ticket closed in Glassix, delivered signed, queued, then archived and scrambled
  // by the local API's archive queue poller.
  const delivery = closedDelivery();
  const signature = `sha1=${createHmac('sha1', SECRET).update(delivery).digest('hex')}`;
  const archived = await fetch(`${BASE}/webhooks/glassix/ticket-state-change`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature': signature },
    body: delivery,
  });
  const summary = await archived.json();
  assert.equal(archived.status, 200, JSON.stringify(summary));
  assert.equal(summary.results[0].outcome, 'processed', JSON.stringify(summary));
  for (let tries = 0; ; tries += 1) {
    const ticket = await rest('GET', `/tickets/${TICKET_ID}`);
    if (ticket.status === 200 && ticket.body.scrambledAt) break;
    assert.ok(tries < 150, `not archived within 30 s: ${JSON.stringify(ticket)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // An older ticket of the same client, and clients whose identifiers share less of the prefix.
  const older = await rest('POST', `/clients/${CLIENT_ID}/tickets`, {
    ticketId: TICKET_ID + 1, clientName: 'Dana Cohen', ticketOpeningDate: '2023-05-01T09:00:00Z',
    protocolType: 'Mail', tags: ['Delivery'], closedAt: '2023-05-02T10:00:00Z',
    transactions: [{ id: 1, dateTime: '2023-05-01T09:00:00Z', type: 'Message', text: 'Where is my parcel?', senderType: 'Client' }],
  });
  assert.equal(older.status, 201, JSON.stringify(older.body));
  for (const identifier of ['972549800000', '972500000001', 'dana@example.com']) {
    assert.equal((await rest('POST', '/clients', { identifier })).status, 201);
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({
    viewport: { width: 1000, height: 700 },
    locale: LOCALE,
    timezoneId: TIME_ZONE,
    acceptDownloads: true,
  });
  context.setDefaultTimeout(STEP);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    if (request.url().includes(`/tickets/${TICKET_ID}/transactions?`)) transactionPages.push(request.url());
  });
});

after(async () => {
  await browser?.close();
});

test('the viewer is served with its security headers, small', async () => {
  const response = await fetch(`${BASE}/`);
  const html = await response.text();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('cache-control'), 'no-cache');
  const policy = response.headers.get('content-security-policy');
  assert.match(policy, /default-src 'self'/);
  assert.match(policy, /script-src 'self';/);
  assert.match(policy, /style-src 'self';/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.doesNotMatch(policy, /unsafe/);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer');

  let gzipped = gzipSync(html).length;
  const assets = [...html.matchAll(/"(\/viewer\/[^"]+)"/g)].map((m) => m[1]);
  assert.equal(assets.length, 3, 'script, stylesheet and icon');
  for (const asset of assets) {
    const file = await fetch(`${BASE}${asset}`);
    assert.equal(file.status, 200, asset);
    assert.equal(file.headers.get('cache-control'), 'public, max-age=31536000, immutable', asset);
    assert.match(file.headers.get('content-security-policy'), /frame-ancestors 'none'/, asset);
    gzipped += gzipSync(Buffer.from(await file.arrayBuffer())).length;
  }
  console.log(`viewer: ${gzipped} bytes gzipped in total`);
  assert.ok(gzipped <= 100 * 1024, `${gzipped} bytes gzipped`);
});

test('a wrong token is refused and the reader stays at sign-in', async () => {
  await page.goto(`${BASE}/`);
  await page.fill('#token', 'wrong-token-0123456789abcdef-0123456789');
  await page.press('#token', 'Enter');
  await page.locator('#sign-in-message', { hasText: 'refused' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.locator('#prefix').count(), 0);
});

test('signed in, the client is found by identifier prefix, with the keyboard', async () => {
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await page.locator('#prefix').waitFor();
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'the token is not kept past the tab');

  await page.focus('#prefix');
  await page.keyboard.type('9725498');
  await page.keyboard.press('Enter');
  // The unfiltered first page also lists 972549800000: wait for the filtered page itself.
  await page.waitForFunction(() => document.querySelectorAll('.clients li').length === 2);
  assert.deepEqual(await page.locator('.clients .identifier').allTextContents(), ['972549800000', CLIENT_ID]);

  await page.fill('#prefix', CLIENT_ID.slice(0, 9));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('.clients li').length === 1);
  const row = page.locator('.clients li');
  assert.equal(await row.locator('.identifier').textContent(), CLIENT_ID);
  assert.equal(await row.locator('.count').textContent(), '2 tickets');

  // Tab to the result and open it with Enter.
  for (let i = 0; i < 5 && !(await page.evaluate(() => document.activeElement.matches('.clients a'))); i += 1) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Enter');
  await page.locator('.tickets').waitFor();
});

test("the client's tickets are listed newest first with channel, dates and tags", async () => {
  const rows = page.locator('.tickets > li');
  assert.deepEqual(await rows.locator('.title').allTextContents(), [`Ticket ${TICKET_ID}`, `Ticket ${TICKET_ID + 1}`]);
  const newest = rows.first();
  assert.equal(await newest.locator('.channel').textContent(), 'WhatsApp');
  assert.deepEqual(await newest.locator('.tags li').allTextContents(), ['Refund', 'Billing']);
  assert.match(await newest.locator('.dates').textContent(), /Opened 10 Mar 2024.*Closed 10 Mar 2024/);
  assert.match(await newest.textContent(), /Scrambled in Glassix/);
  assert.doesNotMatch(await rows.nth(1).textContent(), /Scrambled/);
});

test('the ticket reads as a transcript: roles, order, direction, local times, the scramble', async () => {
  await page.locator('.tickets a').first().click();
  await page.locator('.transcript > li').first().waitFor();
  assert.match(await page.locator('.banner.scrambled').textContent(), /Scrambled in Glassix on .*only copy/);

  const items = page.locator('.transcript > li');
  const shown = await items.evaluateAll((list) => list.map((li) => ({
    id: Number(li.dataset.id),
    role: li.dataset.role,
    label: li.querySelector('.role').textContent,
    text: li.querySelector('.text')?.textContent ?? null,
    dir: li.querySelector('.text')?.getAttribute('dir') ?? null,
    direction: li.querySelector('.text') ? getComputedStyle(li.querySelector('.text')).direction : null,
  })));
  const wanted = expected();
  assert.equal(shown.length, 100, 'the first page');
  for (const [index, item] of shown.entries()) {
    const want = wanted[index];
    assert.equal(item.id, want.id, `transaction ${index} in order`);
    assert.equal(item.role, want.role, `transaction ${want.id} from the right side`);
    if (want.mail) continue; // shown in its frame; see the hostile e-mail test
    assert.equal(item.text, want.text, `transaction ${want.id} text`);
    assert.equal(item.dir, 'auto');
    assert.equal(item.direction, want.dir, `transaction ${want.id} direction`);
  }
  assert.equal(shown[2].label, 'Internal note');
  const styles = await page.evaluate(() => ['client', 'agent', 'note'].map((role) => {
    const style = getComputedStyle(document.querySelector(`.tx.${role}`));
    return `${style.backgroundColor} ${style.borderStyle} ${style.alignSelf}`;
  }));
  assert.equal(new Set(styles).size, 3, `client, agent and note look different: ${styles}`);

  // Times in the reader's zone (Jerusalem is UTC+2 in March 2024), with the date.
  const first = wanted[0];
  const local = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short', timeZone: TIME_ZONE })
    .format(new Date(Date.UTC(2024, 2, 10, 8, 15)));
  assert.equal(local, '10 Mar 2024, 10:15');
  assert.equal(await page.locator(`#tx-${first.id} .meta time`).textContent(), local);
});

test('an image attachment renders inline', async () => {
  const image = page.locator(`#tx-${IMAGE.transaction} img.attachment-image`);
  await page.waitForFunction((selector) => document.querySelector(selector)?.naturalWidth > 0,
    `#tx-${IMAGE.transaction} img.attachment-image`);
  assert.equal(await image.evaluate((img) => img.naturalWidth), 320);
  assert.equal(await image.getAttribute('alt'), IMAGE.name);
  assert.match(await image.getAttribute('src'), /^blob:/);

  if (SCREENSHOT) {
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    const png = await page.screenshot({ type: 'png' });
    writeFileSync(SCREENSHOT, png);
    assert.ok(png.length < 150 * 1024, `screenshot of ${png.length} bytes`);
  }
});

test('the hostile archived e-mail is shown in a sandbox and changes nothing', async () => {
  const frameElement = page.locator(`#tx-${expected()[3].id} iframe.mail`);
  await frameElement.scrollIntoViewIfNeeded();
  assert.equal(await frameElement.getAttribute('sandbox'), '', 'no allow-scripts, no allow-same-origin');
  const frame = await (await frameElement.elementHandle()).contentFrame();
  await frame.locator('#mail-marker').waitFor();
  assert.match(await frame.locator('#mail-marker').textContent(), /Invoice A-1042/);
  await page.waitForTimeout(500); // an onerror handler would have run by now
  assert.equal(await page.locator('#mail-marker').count(), 0, 'the mail is not in the page');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.title(), TITLE);
  assert.equal(await frame.evaluate(() => window.pwned).catch(() => undefined), undefined);
});

test('a file attachment downloads byte-exact', async () => {
  const button = page.locator(`#tx-${DOCUMENT.transaction} button.download`);
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  assert.equal(download.suggestedFilename(), DOCUMENT.name);
  const saved = readFileSync(await download.path());
  assert.equal(sha256(saved), sha256(readFileSync(path.join(FILES_DIR, DOCUMENT.file))));
});

test('scrolling loads the rest of the transactions page by page, in order', async () => {
  const total = expected().length;
  for (let i = 0; i < 20 && (await page.locator('.transcript > li').count()) < total; i += 1) {
    await page.mouse.wheel(0, 20_000);
    await page.waitForTimeout(250);
  }
  await page.locator('.progress', { hasText: `All ${total} transactions shown` }).waitFor();
  const ids = await page.locator('.transcript > li').evaluateAll((list) => list.map((li) => Number(li.dataset.id)));
  assert.deepEqual(ids, expected().map((t) => t.id));
  assert.ok(transactionPages.length >= 1, 'the rest came from GET /tickets/{id}/transactions');
  assert.ok(transactionPages.every((url) => /[?&]cursor=/.test(url)), 'each page follows a cursor');
  const last = expected().at(-1);
  assert.equal(await page.locator(`#tx-${last.id} .text`).textContent(), last.text);
});

test('"Download as JSON" saves the whole ticket', async () => {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download as JSON' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `ticket-${TICKET_ID}.json`);
  const ticket = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(ticket.ticketId, TICKET_ID);
  assert.deepEqual(ticket.transactions.map((t) => t.id), expected().map((t) => t.id));
  assert.ok(ticket.scrambledAt);
});

test('printed, the transcript stays and the controls go', async () => {
  await page.emulateMedia({ media: 'print' });
  const display = (selector) => page.locator(selector).first().evaluate((el) => getComputedStyle(el).display);
  assert.equal(await display('.toolbar'), 'none');
  assert.equal(await display('header.bar'), 'none');
  assert.notEqual(await display('.transcript'), 'none');
  assert.notEqual(await display('.tx.note'), 'none');
  assert.match(await page.locator('.tx.note').first().evaluate((el) => getComputedStyle(el).borderStyle), /dashed/);
  await page.emulateMedia({ media: 'screen' });
});

test('readable on a phone: nothing wider than the screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
  await page.setViewportSize({ width: 1000, height: 700 });
});

test('a token refused later sends the reader back to sign-in with a message', async () => {
  await page.evaluate(() => sessionStorage.setItem('ctm-viewer-token', 'revoked-token-0123456789abcdef-012345'));
  await page.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  await page.locator('#sign-in-message', { hasText: 'refused' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
});

// ---- scoped tokens: what each token's reader sees ----------------------------------------
// scripts/browser-test.sh gives the local API named tokens: the one above (admin, every scope),
// a read-only viewer, an auditor (read and audit) and an auditor without read.

const READ_TOKEN = process.env.READ_TOKEN;
const AUDIT_TOKEN = process.env.AUDIT_TOKEN;
const AUDIT_ONLY_TOKEN = process.env.AUDIT_ONLY_TOKEN;
const localTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short', timeZone: TIME_ZONE });

/** A new tab (its own sessionStorage) signed in with `value`, once the header names the token. */
async function signedIn(value) {
  assert.ok(value, 'the scoped tokens are not set: run scripts/browser-test.sh');
  const tab = await context.newPage();
  tab.on('pageerror', (error) => pageErrors.push(error.message));
  await tab.goto(`${BASE}/`);
  await tab.fill('#token', value);
  await tab.press('#token', 'Enter');
  await tab.locator('#who .token-name').waitFor();
  return tab;
}

/** The header: the token's name and its scopes. */
async function header(tab) {
  return {
    name: await tab.locator('#who .token-name').textContent(),
    scopes: await tab.locator('#who .scopes li').allTextContents(),
  };
}

/** The "Opened by" entries on screen, as the reader sees them. */
async function entriesOf(panel) {
  return panel.locator('.entry').evaluateAll((rows) => rows.map((row) => ({
    when: row.querySelector('time').textContent,
    at: row.querySelector('time').getAttribute('datetime'),
    token: row.querySelector('.token-name').textContent,
    request: row.querySelector('.request').textContent,
    status: row.querySelector('.status').textContent,
  })));
}

/** Times shown in the reader's zone, newest first. */
function assertNewestFirstInLocalTime(entries) {
  for (const entry of entries) assert.equal(entry.when, localTime.format(new Date(entry.at)), JSON.stringify(entry));
  const times = entries.map((entry) => Date.parse(entry.at));
  assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
}

let reader;
let auditor;

test('a read-only token reads a ticket end to end, and sees no access log', async () => {
  reader = await signedIn(READ_TOKEN);
  assert.deepEqual(await header(reader), { name: 'support-viewer', scopes: ['read'] });

  await reader.fill('#prefix', CLIENT_ID);
  await reader.press('#prefix', 'Enter');
  await reader.locator('.clients a', { hasText: CLIENT_ID }).click();
  await reader.locator('.tickets').waitFor();
  assert.equal(await reader.getByText('Opened by').count(), 0, 'no "Opened by" on the client screen');

  await reader.locator('.tickets a', { hasText: `Ticket ${TICKET_ID}` }).click();
  const first = expected()[0];
  await reader.locator(`#tx-${first.id} .text`).waitFor();
  assert.equal(await reader.locator(`#tx-${first.id} .text`).textContent(), first.text);
  assert.equal(await reader.locator('.transcript > li').count(), 100);
  assert.equal(await reader.getByText('Opened by').count(), 0, 'no "Opened by" on the ticket screen');
});

test("the auditor sees who opened the ticket and the client, page by page", async () => {
  // Given: 21 later reads of the ticket by the admin token, so that the read-only reader's
  // read is older than the access log's first page.
  for (let i = 0; i < 21; i += 1) {
    assert.equal((await rest('GET', `/tickets/${TICKET_ID}/transactions?limit=1`)).status, 200);
  }
  auditor = await signedIn(AUDIT_TOKEN);
  assert.deepEqual(await header(auditor), { name: 'dpo', scopes: ['read', 'audit'] });

  await auditor.goto(`${BASE}/#/tickets/${TICKET_ID}`);
  await auditor.locator('.transcript > li').first().waitFor();
  const panel = auditor.locator('.opened-by');
  await panel.getByText('Opened by').click(); // folded under the ticket's facts
  await panel.getByText(/^latest 20, more available$/).waitFor();
  const firstPage = await entriesOf(panel);
  assert.equal(firstPage.length, 20);
  assert.ok(firstPage.some((e) => e.token === 'admin' && e.request === 'GET /tickets/{ticketId}/transactions'),
    JSON.stringify(firstPage));
  assert.ok(!firstPage.some((e) => e.token === 'support-viewer'), 'the older read is not on the first page');

  await panel.getByRole('button', { name: 'More' }).click();
  await auditor.waitForFunction(() => document.querySelectorAll('.opened-by .entry').length > 20);
  const twoPages = await entriesOf(panel);
  assert.deepEqual(twoPages.slice(0, 20), firstPage, 'the second page follows the first');
  const read = twoPages.find((e) => e.token === 'support-viewer' && e.request === 'GET /tickets/{ticketId}');
  assert.ok(read, `the read-only reader's read is listed: ${JSON.stringify(twoPages)}`);
  assert.equal(read.status, '200');
  assertNewestFirstInLocalTime(twoPages);

  // The client's screen lists the requests about the client (open, after its tickets).
  await auditor.locator('.facts a', { hasText: /Dana Cohen|972549876543/ }).click();
  await auditor.locator('.tickets').waitFor();
  const clientPanel = auditor.locator('.opened-by');
  await clientPanel.locator('.entry').first().waitFor();
  for (let i = 0; i < 10 && !(await clientPanel.locator('.entry', { hasText: 'support-viewer' }).count()); i += 1) {
    const count = await clientPanel.locator('.entry').count();
    await clientPanel.getByRole('button', { name: 'More' }).click();
    await auditor.waitForFunction((n) => document.querySelectorAll('.opened-by .entry').length > n, count);
  }
  const clientEntries = await entriesOf(clientPanel);
  assert.ok(clientEntries.some((e) => e.token === 'support-viewer' && e.request === 'GET /clients/{identifier}'),
    JSON.stringify(clientEntries));
  assert.ok(clientEntries.some((e) => e.token === 'dpo'), 'the auditor\'s own reads are logged too');
  assertNewestFirstInLocalTime(clientEntries);
});

test('a token that may not read the archive is told so, not shown an error', async () => {
  const tab = await signedIn(AUDIT_ONLY_TOKEN);
  assert.deepEqual(await header(tab), { name: 'audit-only', scopes: ['audit'] });
  await tab.getByRole('heading', { name: 'This token cannot read the archive' }).waitFor();
  assert.equal(await tab.locator('#prefix').count(), 0, 'no client search');
  assert.equal(await tab.getByText('could not be shown').count(), 0);
  assert.ok(!(await tab.locator('main').innerText()).split('\n').includes('null'), 'no stray "null"');

  // Its ticket's address shows the same message, not a 403.
  await tab.goto(`${BASE}/#/tickets/${TICKET_ID}`);
  await tab.getByRole('heading', { name: 'This token cannot read the archive' }).waitFor();
  assert.equal(await tab.locator('.transcript').count(), 0);

  await tab.getByRole('button', { name: 'Sign out' }).click();
  await tab.locator('#token').waitFor();
  assert.equal(await tab.locator('#who').isVisible(), false, 'the header forgets the token');
  assert.deepEqual(pageErrors, [], 'no uncaught error in any page');
});

// ---- legal holds: placed and lifted with `erase`, shown to every reader ------------------

const TICKET_HOLD = 'Litigation hold: Cohen v. Shop, case 4412-24';
const CLIENT_HOLD = 'Regulator inquiry R-77, every ticket of the client';

/** What a hold banner says, fact by fact, as the reader sees it. */
function holdFacts(banner) {
  return banner.locator('.hold-facts > div').evaluateAll((rows) => Object.fromEntries(rows.map((row) =>
    [row.querySelector('dt').textContent, row.querySelector('dd').textContent])));
}

let holder;

test('with erase, a hold is placed on the ticket, read back after a reload, seen read-only, and lifted', async () => {
  holder = await signedIn(TOKEN);
  await holder.goto(`${BASE}/#/tickets/${TICKET_ID}`);
  await holder.locator('.transcript > li').first().waitFor();
  const section = holder.locator('.hold-section');
  const banner = section.locator('.banner.hold');
  assert.equal(await banner.count(), 0, 'not held yet');
  assert.ok(!(await holder.locator('main').innerText()).split('\n').includes('null'), 'no stray "null"');

  // An empty reason is refused by the form, visibly, and nothing is placed.
  await holder.getByRole('button', { name: 'Place legal hold' }).click();
  await holder.fill('#hold-reason', '   ');
  await holder.getByRole('button', { name: 'Place the hold' }).click();
  await section.locator('.hold-error', { hasText: 'Give a reason for the hold.' }).waitFor();
  assert.equal((await rest('GET', `/tickets/${TICKET_ID}`)).body.legalHold, null);

  // An end date in the past: the API's refusal is shown by the form, and the page stands.
  await holder.fill('#hold-reason', TICKET_HOLD);
  await holder.fill('#hold-until', '2020-01-31');
  await holder.getByRole('button', { name: 'Place the hold' }).click();
  await section.locator('.hold-error', { hasText: /future.*\(422\)/ }).waitFor();
  assert.equal(await banner.count(), 0);

  // Placed until the end of a day in the reader's zone.
  await holder.fill('#hold-until', '2099-12-31');
  await holder.getByRole('button', { name: 'Place the hold' }).click();
  await section.getByText('Legal hold placed.').waitFor();
  const stored = (await rest('GET', `/tickets/${TICKET_ID}`)).body.legalHold;
  assert.equal(stored.reason, TICKET_HOLD);
  assert.equal(stored.by, 'admin');
  const placed = {
    Reason: TICKET_HOLD, Since: localTime.format(new Date(stored.since)), Until: '31 Dec 2099, 23:59', 'Placed by': 'admin',
  };
  assert.equal(localTime.format(new Date(stored.until)), placed.Until);
  assert.deepEqual(await holdFacts(banner), placed);
  assert.match(await banner.textContent(), /^Legal hold on this ticket/);

  // It came from the API: a reload shows it again.
  await holder.reload();
  await banner.waitFor();
  assert.deepEqual(await holdFacts(banner), placed);
  assert.equal(await holder.locator('.client-hold .banner').count(), 0, 'the client is not held');

  // A read-only reader sees the hold on the client's ticket row and on the ticket, and cannot
  // place or lift one.
  const tab = await signedIn(READ_TOKEN);
  await tab.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  const row = tab.locator('.tickets > li', { hasText: `Ticket ${TICKET_ID}` });
  await row.locator('.badge.hold').waitFor();
  assert.equal(await row.locator('.badge.hold').textContent(), 'Legal hold');
  assert.equal(await row.locator('.hold-reason').textContent(), TICKET_HOLD);
  assert.match(await row.locator('.hold-mark').getAttribute('title'), /Litigation hold.*since .*until 31 Dec 2099.*admin/);
  assert.equal(await tab.locator('.tickets > li', { hasText: `Ticket ${TICKET_ID + 1}` }).locator('.badge.hold').count(), 0);
  assert.equal(await tab.locator('.hold-section .banner').count(), 0, 'the client itself is not held');
  await row.locator('a').click();
  await tab.locator('.hold-section .banner.hold').waitFor();
  assert.deepEqual(await holdFacts(tab.locator('.hold-section .banner.hold')), placed);
  assert.equal(await tab.getByRole('button', { name: /hold/i }).count(), 0, 'no place or lift button');
  assert.equal(await tab.locator('.hold-controls, .hold-form').count(), 0);
  await tab.close();

  // Lifted, once confirmed: the banner goes, and the API agrees.
  await holder.getByRole('button', { name: 'Lift legal hold' }).click();
  await holder.getByRole('button', { name: 'Yes, lift the hold' }).click();
  await section.getByText('Legal hold lifted.').waitFor();
  assert.equal(await banner.count(), 0);
  assert.equal((await rest('GET', `/tickets/${TICKET_ID}`)).body.legalHold, null);
  await holder.getByRole('button', { name: 'Place legal hold' }).waitFor();
});

test('with erase, a hold is placed on the client: its screen, its row and its ticket show it; then lifted', async () => {
  await holder.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  await holder.locator('.tickets').waitFor();
  const section = holder.locator('.hold-section');
  const banner = section.locator('.banner.hold');
  assert.equal(await banner.count(), 0, 'not held yet');

  await holder.getByRole('button', { name: 'Place legal hold' }).click();
  await holder.fill('#hold-reason', CLIENT_HOLD);
  await holder.getByRole('button', { name: 'Place the hold' }).click();
  await section.getByText('Legal hold placed.').waitFor();
  const stored = (await rest('GET', `/clients/${CLIENT_ID}`)).body.legalHold;
  assert.equal(stored.reason, CLIENT_HOLD);
  assert.equal(stored.until, null);
  assert.deepEqual(await holdFacts(banner), {
    Reason: CLIENT_HOLD, Since: localTime.format(new Date(stored.since)), Until: 'lifted by hand', 'Placed by': 'admin',
  });
  assert.match(await banner.textContent(), /^Legal hold on this client and all its tickets/);

  // The client list marks the held client's row, not its neighbour's.
  await holder.goto(`${BASE}/#/clients?prefix=9725498`);
  const row = holder.locator('.clients li', { hasText: CLIENT_ID });
  await row.locator('.badge.hold').waitFor();
  assert.equal(await row.locator('.hold-reason').textContent(), CLIENT_HOLD);
  assert.equal(await holder.locator('.clients li', { hasText: '972549800000' }).locator('.badge.hold').count(), 0);

  // The ticket's screen tells that its client is held (the ticket has no hold of its own).
  await holder.goto(`${BASE}/#/tickets/${TICKET_ID}`);
  const clientBanner = holder.locator('.client-hold .banner.hold');
  await clientBanner.waitFor();
  assert.equal((await holdFacts(clientBanner)).Reason, CLIENT_HOLD);
  assert.match(await clientBanner.textContent(), /on its client Dana Cohen, which holds this ticket too/);
  assert.equal(await holder.locator('.hold-section .banner.hold').count(), 0);

  // Lifted on the client's screen: gone there and from the list.
  await holder.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  await holder.locator('.tickets').waitFor();
  await banner.waitFor();
  await holder.getByRole('button', { name: 'Lift legal hold' }).click();
  await holder.getByRole('button', { name: 'Yes, lift the hold' }).click();
  await section.getByText('Legal hold lifted.').waitFor();
  assert.equal(await banner.count(), 0);
  assert.equal((await rest('GET', `/clients/${CLIENT_ID}`)).body.legalHold, null);
  await holder.goto(`${BASE}/#/clients?prefix=9725498`);
  await holder.locator('.clients li', { hasText: CLIENT_ID }).waitFor();
  assert.equal(await holder.locator('.clients .badge.hold').count(), 0);
  await holder.close();
  assert.deepEqual(pageErrors, [], 'no uncaught error in any page');
});

// ---- a client's data export: with `export`, requested, followed and downloaded ------------

const EXPORT_LABEL = 'Export this client’s data';

/** What Python's zipfile reads in the ZIP at `file`, after checking every entry's CRC: the
 * first bad entry (null when none), the names, each entry's SHA-256, the manifest, and the
 * text of the transcripts and README. */
function readZip(file) {
  const script = `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = z.namelist()
    print(json.dumps({
        "bad": z.testzip(),
        "names": names,
        "sha256": {n: hashlib.sha256(z.read(n)).hexdigest() for n in names},
        "manifest": json.loads(z.read("manifest.json")) if "manifest.json" in names else None,
        "texts": {n: z.read(n).decode("utf-8") for n in names if n.endswith((".html", ".txt"))},
    }))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}

/** A size as the viewer writes it. */
function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A definition list's terms and what each says, as the reader sees them. */
function factsOf(list) {
  return list.locator(':scope > div').evaluateAll((rows) => Object.fromEntries(rows.map((row) =>
    [row.querySelector('dt').textContent, row.querySelector('dd').textContent])));
}

test("with export, the client's data is exported: progress, then counts, size, SHA-256 and expiry, and the ZIP downloads whole", async () => {
  const tab = await signedIn(TOKEN);
  await tab.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  await tab.locator('.tickets').waitFor();
  const section = tab.locator('.export-section');
  await section.getByRole('heading', { name: EXPORT_LABEL }).waitFor();
  assert.match(await section.locator('.hint').textContent(),
    /every conversation .* every archived file, and a machine-readable manifest/);
  const status = section.locator('.export-status');
  assert.equal(await status.getAttribute('role'), 'status');
  assert.equal(await status.getAttribute('aria-live'), 'polite');

  // Every status the section announces, in order.
  await tab.evaluate(() => {
    window.exportSaid = [];
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) window.exportSaid.push(node.textContent);
    }).observe(document.querySelector('.export-status'), { childList: true });
  });
  const requested = tab.waitForResponse((response) => response.request().method() === 'POST'
    && response.url() === `${BASE}/clients/${CLIENT_ID}/exports`);
  await section.getByRole('button', { name: EXPORT_LABEL }).click();
  const answer = await requested;
  assert.equal(answer.status(), 202);
  const { exportId } = await answer.json();

  const download = section.getByRole('button', { name: 'Download', exact: true });
  await download.waitFor({ timeout: 30_000 });
  const exported = (await rest('GET', `/exports/${exportId}`)).body;
  assert.equal(exported.status, 'ready', JSON.stringify(exported));
  const said = await tab.evaluate(() => window.exportSaid);
  assert.deepEqual(said.slice(0, 2), ['Requesting the export…', 'Preparing the export…'], JSON.stringify(said));
  assert.equal(said.at(-1), `The export is ready: 2 tickets and 2 files, ${sizeText(exported.sizeBytes)}.`);
  assert.ok(await download.evaluate((button) => button === document.activeElement), 'focus on "Download"');

  assert.deepEqual(await factsOf(section.locator('.export-facts')), {
    Tickets: '2',
    Files: '2',
    Size: sizeText(exported.sizeBytes),
    Ready: localTime.format(new Date(exported.readyAt)),
    Expires: localTime.format(new Date(exported.expiresAt)),
    'SHA-256': exported.sha256,
  });
  const checksum = section.locator('.sha256');
  assert.equal(await checksum.getAttribute('dir'), 'ltr');
  assert.equal(await checksum.evaluate((code) => getComputedStyle(code).userSelect), 'all');
  assert.match(await section.locator('.hint').textContent(), /It can be downloaded for 7 days, then it is deleted\./);
  assert.match(exported.sha256, /^[0-9a-f]{64}$/);

  // Downloaded: the ZIP the page describes, byte for byte.
  const [file] = await Promise.all([tab.waitForEvent('download'), download.click()]);
  assert.equal(file.suggestedFilename(), `client-export-${exportId}.zip`);
  const folder = mkdtempSync(path.join(tmpdir(), 'ctm-export-'));
  try {
    const saved = path.join(folder, file.suggestedFilename());
    await file.saveAs(saved);
    const bytes = readFileSync(saved);
    assert.equal(bytes.length, exported.sizeBytes);
    assert.equal(sha256(bytes), await checksum.textContent(), 'the SHA-256 the page shows');
    await section.locator('.export-status', { hasText: `Downloaded client-export-${exportId}.zip.` }).waitFor();

    const zip = readZip(saved);
    assert.equal(zip.bad, null, 'every entry reads back with its CRC');
    for (const name of ['manifest.json', 'README.txt', `tickets/${TICKET_ID}.html`, `tickets/${TICKET_ID + 1}.html`]) {
      assert.ok(zip.names.includes(name), `${name} in ${JSON.stringify(zip.names)}`);
    }
    assert.equal(zip.manifest.client.identifier, CLIENT_ID);
    assert.equal(zip.manifest.exportId, exportId);
    assert.deepEqual(zip.manifest.tickets.map((t) => t.ticketId).sort(), [TICKET_ID, TICKET_ID + 1]);

    // The archived ticket's two files, byte-exact, where the manifest says they are.
    const archived = zip.manifest.tickets.find((t) => t.ticketId === TICKET_ID);
    const filePaths = [];
    for (const attachment of [IMAGE, DOCUMENT]) {
      const transaction = archived.transactions.find((t) => t.id === attachment.transaction);
      const zipPath = transaction.attachments[0].file.zipPath;
      assert.ok(zipPath.startsWith(`files/${TICKET_ID}/${attachment.transaction}/`), zipPath);
      assert.equal(zip.sha256[zipPath], sha256(readFileSync(path.join(FILES_DIR, attachment.file))), zipPath);
      filePaths.push(zipPath);
    }
    assert.deepEqual(zip.names.filter((name) => name.startsWith('files/')).sort(), filePaths.sort());

    const transcript = zip.texts[`tickets/${TICKET_ID}.html`];
    assert.ok(transcript.includes(expected()[0].text), 'the conversation, readable');
    assert.ok(transcript.includes(expected().at(-1).text), 'to its last message');
    assert.doesNotMatch(transcript, /<script/i);
    assert.ok(zip.texts['README.txt'].includes(CLIENT_ID));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  // On a phone, the checksum wraps: nothing is wider than the screen.
  await tab.setViewportSize({ width: 390, height: 844 });
  const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
  await tab.setViewportSize({ width: 1000, height: 700 });

  // Expired (the API is made to say so here): the download says why, as text, and offers a
  // new export.
  await tab.route('**/exports/*/file', (route) => route.fulfill({
    status: 410,
    contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'gone', message: 'this export has expired; request a new one' } }),
  }));
  await download.click();
  await section.locator('.export-error',
    { hasText: 'The export can no longer be downloaded: this export has expired; request a new one (410)' }).waitFor();
  assert.equal(await download.count(), 0);
  await section.getByRole('button', { name: 'Request a new export' }).waitFor();
  await tab.unroute('**/exports/*/file');
  await tab.close();
  assert.deepEqual(pageErrors, [], 'no uncaught error in any page');
});

test('a failed export says why, as text, and can be tried again; leaving the screen stops asking', async () => {
  const tab = await signedIn(TOKEN);
  // The API is made to answer that the export failed, with markup in its reason.
  const failure = '<img src=x onerror="window.pwned = 1">The archive could not read a file; request the export again.';
  await tab.route('**/exports/*', async (route) => {
    const real = await route.fetch();
    await route.fulfill({ response: real, json: { ...(await real.json()), status: 'failed', failure, readyAt: null, file: null } });
  });
  await tab.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  const section = tab.locator('.export-section');
  const error = section.locator('.export-error');

  // A refusal that is not the API's JSON (a proxy's HTML page) is told by its status, as text.
  await tab.route(`**/clients/${CLIENT_ID}/exports`, (route) => route.fulfill({
    status: 503, contentType: 'text/html', body: '<h1 id="proxy-page">Service Unavailable</h1>',
  }));
  await section.getByRole('button', { name: EXPORT_LABEL }).click();
  await error.filter({ hasText: 'The export could not be requested: The archive answered 503.' }).waitFor();
  assert.equal(await tab.locator('#proxy-page').count(), 0);
  const start = section.getByRole('button', { name: EXPORT_LABEL });
  assert.equal(await start.isEnabled(), true);
  assert.ok(await start.evaluate((button) => button === document.activeElement), 'focus back on the button');
  await tab.unroute(`**/clients/${CLIENT_ID}/exports`);

  await start.click();
  await error.filter({ hasText: 'The export failed:' }).waitFor();
  assert.equal(await error.textContent(), `The export failed: ${failure}`);
  assert.equal(await error.getAttribute('role'), 'alert');
  assert.equal(await section.locator('img').count(), 0, 'the reason is text, not markup');
  assert.equal(await tab.evaluate(() => window.pwned), undefined);
  const retry = section.getByRole('button', { name: 'Try again' });
  assert.ok(await retry.evaluate((button) => button === document.activeElement), 'focus on "Try again"');
  await tab.unroute('**/exports/*');

  // Tried again, and still being built (as the API is made to say): the screen asks about
  // once a second, and no more once the reader has left it.
  const asked = [];
  await tab.route('**/exports/*', async (route) => {
    asked.push(Date.now());
    const real = await route.fetch();
    await route.fulfill({
      response: real,
      json: { ...(await real.json()), status: 'pending', readyAt: null, sizeBytes: null, sha256: null, tickets: null, files: null, file: null },
    });
  });
  await retry.click();
  await section.locator('.export-status', { hasText: 'Preparing the export…' }).waitFor();
  assert.equal(await error.textContent(), '');
  for (let i = 0; asked.length < 3; i += 1) {
    assert.ok(i < 50, `asked ${asked.length} times in 10 s`);
    await tab.waitForTimeout(200);
  }
  const gaps = asked.slice(1).map((at, i) => at - asked[i]);
  assert.ok(gaps.every((gap) => gap >= 700 && gap <= 3000), `about a second apart: ${gaps}`);
  await tab.goto(`${BASE}/#/`);
  await tab.locator('#prefix').waitFor();
  const before = asked.length;
  await tab.waitForTimeout(2500);
  assert.equal(asked.length, before, 'no more questions once the screen is left');
  await tab.unroute('**/exports/*');

  // Back on the client's screen, the export asked for in this tab is followed again (ready by now).
  await tab.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  await section.getByRole('button', { name: 'Download', exact: true }).waitFor({ timeout: 30_000 });
  assert.equal((await factsOf(section.locator('.export-facts'))).Tickets, '2');
  await tab.close();
  assert.deepEqual(pageErrors, [], 'no uncaught error in any page');
});

test('a read-only token sees no export on the client screen', async () => {
  const tab = await signedIn(READ_TOKEN);
  await tab.goto(`${BASE}/#/clients/${CLIENT_ID}`);
  await tab.locator('.tickets').waitFor();
  assert.equal(await tab.locator('.export-section').count(), 0, 'no export section');
  assert.equal(await tab.getByRole('button', { name: /export/i }).count(), 0, 'no export button');
  await tab.close();
});

// ---- search: tickets by what was said, from the first screen ------------------------------
// Seeded through the API: a WhatsApp ticket whose client is a phone number and whose Hebrew
// has niqqud, an e-mail ticket that quotes that number in another writing and an address in
// capitals, and a decoy that says almost the same (the next number, a shorter address).

const HEBREW_TICKET = TICKET_ID + 100_000;
const MAIL_TICKET = HEBREW_TICKET + 1;
const DECOY_TICKET = HEBREW_TICKET + 2;
const PAGED_FIRST = HEBREW_TICKET + 10;
const PAGED = 21; // one more than the viewer's page of results
const HOSTILE_SNIPPET = '🙏🙏 <img src=x onerror="window.pwned = 1"> forwarded';

async function seedSearch() {
  const message = (id, text, senderType = 'Client') => ({
    id, dateTime: `2024-06-10T09:${String(id).padStart(2, '0')}:00Z`, type: 'Message', text, senderType,
  });
  const clients = [['972541112233', 'Yossi Mizrahi'], ['yael.katz@example.com', 'Yael Katz'],
    ['moshe.katz@example.com', 'Moshe Katz'], ['inventory@example.org', 'Stock Desk']];
  for (const [identifier, name] of clients) {
    const created = await rest('POST', '/clients', { identifier, name });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  const tickets = [
    ['972541112233', {
      ticketId: HEBREW_TICKET, clientName: 'Yossi Mizrahi', protocolType: 'WhatsApp', tags: ['Delivery'],
      ticketOpeningDate: '2024-06-10T09:00:00Z', closedAt: '2024-06-10T21:30:00Z', // 11 June in Jerusalem
      transactions: [message(1, 'שָׁלוֹם רַב, ההזמנה שלי עוד לא הגיעה'), message(2, 'מה שלומך? אני בודקת מול חברת השליחויות', 'Agent')],
    }],
    ['yael.katz@example.com', {
      ticketId: MAIL_TICKET, clientName: 'Yael Katz', protocolType: 'Mail', tags: ['Account'],
      ticketOpeningDate: '2024-05-01T09:00:00Z', closedAt: '2024-05-02T10:00:00Z',
      transactions: [message(1, 'Hello, my new number is 054-111-2233. Please update my details.'),
        message(2, 'Done. We will write to YAEL.KATZ@EXAMPLE.COM from now on.', 'Agent')],
    }],
    ['moshe.katz@example.com', {
      ticketId: DECOY_TICKET, clientName: 'Moshe Katz', protocolType: 'SMS', tags: [],
      ticketOpeningDate: '2024-04-01T09:00:00Z', closedAt: '2024-04-01T10:00:00Z',
      transactions: [message(1, 'Please call 054-111-2234, not the old number. Copy katz@example.com, not Yael. שלומות'),
        message(2, HOSTILE_SNIPPET)],
    }],
  ];
  for (let n = 0; n < PAGED; n += 1) {
    tickets.push(['inventory@example.org', {
      ticketId: PAGED_FIRST + n, clientName: 'Stock Desk', protocolType: 'Web', tags: [],
      ticketOpeningDate: '2023-01-01T09:00:00Z', closedAt: new Date(Date.UTC(2023, 0, 2 + n)).toISOString(),
      transactions: [message(1, `Inventory count ${n + 1} is done.`)],
    }]);
  }
  for (const [identifier, ticket] of tickets) {
    const created = await rest('POST', `/clients/${encodeURIComponent(identifier)}/tickets`, ticket);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
}

/** The results on screen as the reader sees them: each ticket's facts, and each quoted
 * message with the text of its marks. */
function resultsOf(tab) {
  return tab.locator('.results > li').evaluateAll((rows) => rows.map((row) => ({
    ticketId: Number(row.dataset.ticketId),
    title: row.querySelector('.title').textContent,
    identifier: row.querySelector('.identifier').textContent,
    name: row.querySelector('.name')?.textContent ?? null,
    channel: row.querySelector('.channel').textContent,
    closed: row.querySelector('.dates').textContent,
    tags: [...row.querySelectorAll('.tags li')].map((li) => li.textContent),
    matches: [...row.querySelectorAll('.match')].map((link) => ({
      href: link.getAttribute('href'),
      snippet: link.querySelector('.snippet').textContent,
      marks: [...link.querySelectorAll('mark')].map((mark) => mark.textContent),
    })),
  })));
}

/** Fills the search form on screen and submits it with Enter; waits for the new results (or
 * the message of a refused search). */
async function searchFor(tab, { q = '', from = '', to = '', channel = '' }) {
  await tab.evaluate(() => { window.beforeSearch = document.querySelector('main h1'); });
  await tab.fill('#q', q);
  await tab.fill('#closed-from', from);
  await tab.fill('#closed-to', to);
  await tab.selectOption('#channel', channel);
  await tab.press('#q', 'Enter');
  await tab.waitForFunction(() => document.querySelector('main h1') !== window.beforeSearch
    && (/found\.$|more match\.$|^No ticket/.test(document.querySelector('.search-results [role=status]')?.textContent || '')
      || document.querySelector('.search-results [role=alert]')?.textContent));
}

const idsOf = (results) => results.map((r) => r.ticketId);

let searcher;

test('the first screen searches the conversations: Hebrew without niqqud, final letters, local closing days', async () => {
  await seedSearch();
  searcher = await signedIn(TOKEN);
  const form = searcher.getByRole('search', { name: 'Tickets by what was said' });
  await form.waitFor();
  assert.equal(await searcher.getByRole('search', { name: 'Clients by identifier' }).locator('#prefix').count(), 1,
    'the client search by identifier stays');
  assert.equal(await form.getByLabel('Words, a phone number or an e-mail address').count(), 1);

  // Typed without niqqud: the archive's "שָׁלוֹם" and the archived ticket's "שלום" are found,
  // marked as archived; "שלומך" and "שלומות" are other words.
  await searcher.focus('#q');
  await searchFor(searcher, { q: 'שלום' });
  assert.match(searcher.url(), /#\/search\?q=%D7%A9/);
  const status = searcher.locator('.search-results [role=status]');
  assert.equal(await status.textContent(), '2 tickets found.');
  let results = await resultsOf(searcher);
  assert.deepEqual(idsOf(results), [HEBREW_TICKET, TICKET_ID], 'newest closing first');
  assert.deepEqual(results[0], {
    ticketId: HEBREW_TICKET,
    title: `Ticket ${HEBREW_TICKET}`,
    identifier: '972541112233',
    name: 'Yossi Mizrahi',
    channel: 'WhatsApp',
    closed: `Closed ${localTime.format(new Date('2024-06-10T21:30:00Z'))}`,
    tags: ['Delivery'],
    matches: [{
      href: `#/tickets/${HEBREW_TICKET}?transaction=1`,
      snippet: 'שָׁלוֹם רַב, ההזמנה שלי עוד לא הגיעה',
      marks: ['שָׁלוֹם'],
    }],
  });
  assert.deepEqual(results[1].matches.map((m) => m.marks), [['שלום']]);
  assert.equal(results[1].matches[0].snippet, expected()[0].text);

  // With the final mem typed, as a prefix: "שלומך" (a plain mem in the archive) is found too;
  // closed on 11 June in the reader's zone (21:30 UTC on the 10th), so the archived ticket of
  // March and the decoy of April are left out.
  const asked = searcher.waitForRequest((request) => new URL(request.url()).pathname === '/tickets');
  await searchFor(searcher, { q: 'שלום*', from: '2024-06-11', to: '2024-06-11' });
  const params = new URL((await asked).url()).searchParams;
  assert.equal(params.get('closedFrom'), '2024-06-10T21:00:00.000Z', 'the start of 11 June in Jerusalem');
  assert.equal(params.get('closedTo'), '2024-06-11T20:59:59.999Z', 'the end of 11 June in Jerusalem');
  results = await resultsOf(searcher);
  assert.deepEqual(idsOf(results), [HEBREW_TICKET]);
  assert.deepEqual(results[0].matches.map((m) => m.marks), [['שָׁלוֹם'], ['שלומך']]);
  assert.equal(await searcher.inputValue('#closed-from'), '2024-06-11', 'the form shows the search');

  // The day before, in the reader's zone, has none.
  await searchFor(searcher, { q: 'שלום*', from: '2024-06-10', to: '2024-06-10' });
  assert.equal(await searcher.locator('.results > li').count(), 0);
  assert.match(await status.textContent(), /^No ticket matches this search\./);
});

test('a phone number in another writing and an e-mail address in other case find their tickets, not the decoy', async () => {
  // The client's identifier is 972541112233; the e-mail says 054-111-2233; the decoy 054-111-2234.
  await searchFor(searcher, { q: '+972 54 111 2233' });
  let results = await resultsOf(searcher);
  assert.deepEqual(idsOf(results), [HEBREW_TICKET, MAIL_TICKET]);
  assert.deepEqual(results[0].matches, [], 'found by its client, no message to quote');
  assert.match(await searcher.locator('.results > li').first().locator('.no-quote').textContent(), /client’s identifier/);
  assert.deepEqual(results[1].matches, [{
    href: `#/tickets/${MAIL_TICKET}?transaction=1`,
    snippet: 'Hello, my new number is 054-111-2233. Please update my details.',
    marks: ['054-111-2233'],
  }]);
  assert.deepEqual([results[1].channel, results[1].identifier, results[1].name, results[1].tags],
    ['Mail', 'yael.katz@example.com', 'Yael Katz', ['Account']]);

  // The same number, e-mail only.
  await searchFor(searcher, { q: '(054) 111 2233', channel: 'Mail' });
  assert.deepEqual(idsOf(await resultsOf(searcher)), [MAIL_TICKET]);
  assert.match(searcher.url(), /channel=Mail/);

  // The address typed in another case; the decoy's katz@example.com is another address.
  await searchFor(searcher, { q: 'Yael.Katz@example.COM' });
  results = await resultsOf(searcher);
  assert.deepEqual(idsOf(results), [MAIL_TICKET]);
  assert.deepEqual(results[0].matches.map((m) => [m.href, m.marks]),
    [[`#/tickets/${MAIL_TICKET}?transaction=2`, ['YAEL.KATZ@EXAMPLE.COM']]]);
});

test('a snippet is archived text: shown as text, its marks placed by code point', async () => {
  await searchFor(searcher, { q: 'onerror' });
  const results = await resultsOf(searcher);
  assert.deepEqual(idsOf(results), [DECOY_TICKET]);
  assert.deepEqual(results[0].matches.map((m) => [m.snippet, m.marks]), [[HOSTILE_SNIPPET, ['onerror']]]);
  assert.equal(await searcher.locator('.results img').count(), 0, 'no markup from the archive');
  assert.equal(await searcher.evaluate(() => window.pwned), undefined);

  // Refused by the API (a prefix too short): its reason, as text.
  await searchFor(searcher, { q: 're*' });
  await searcher.locator('.search-results [role=alert]',
    { hasText: 'The search could not be run: a word ending in * must have at least 3 letters before it (400)' }).waitFor();
  assert.equal(await searcher.locator('.results > li').count(), 0);

  // Days the wrong way round are refused before asking.
  await searcher.fill('#q', 'refund');
  await searcher.fill('#closed-from', '2024-06-12');
  await searcher.fill('#closed-to', '2024-06-11');
  await searcher.press('#q', 'Enter');
  await searcher.locator('#ticket-search-error', { hasText: 'The “Closed from” day is after the “Closed to” day.' }).waitFor();
});

test('more results come page by page; on a phone nothing is wider than the screen', async () => {
  await searchFor(searcher, { q: 'inventory' });
  const status = searcher.locator('.search-results [role=status]');
  assert.equal(await status.textContent(), '20 tickets shown, newest closing first; more match.');
  await searcher.getByRole('button', { name: 'Show more results' }).click();
  await status.filter({ hasText: `${PAGED} tickets found.` }).waitFor();
  const ids = idsOf(await resultsOf(searcher));
  assert.deepEqual(ids, Array.from({ length: PAGED }, (_, n) => PAGED_FIRST + PAGED - 1 - n));
  assert.ok(await searcher.locator('.results > li').nth(20).locator('a.title')
    .evaluate((link) => link === document.activeElement), 'the keyboard goes on from the first new result');
  assert.equal(await searcher.getByRole('button', { name: 'Show more results' }).count(), 0);

  await searcher.setViewportSize({ width: 390, height: 844 });
  await searchFor(searcher, { q: '+972 54 111 2233' });
  const overflow = await searcher.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
  await searcher.setViewportSize({ width: 1000, height: 700 });
});

test('a result opens its ticket at the message it quotes, on a later page, marked; back returns to the results', async () => {
  // The archived ticket's last message is on its last page of transactions.
  const last = expected().at(-1);
  await searchFor(searcher, { q: 'תודה' });
  const results = await resultsOf(searcher);
  assert.deepEqual(idsOf(results), [TICKET_ID]);
  assert.deepEqual(results[0].matches.map((m) => [m.href, m.snippet, m.marks]),
    [[`#/tickets/${TICKET_ID}?transaction=${last.id}`, last.text, ['תודה']]]);

  await searcher.locator('.results .match').first().click();
  const target = searcher.locator(`.transcript > li[data-id="${last.id}"]`);
  await searcher.locator(`.transcript > li[data-id="${last.id}"].found`).waitFor({ timeout: 30_000 });
  assert.equal(await searcher.locator('.transcript > li').count(), expected().length, 'every page up to it loaded');
  await searcher.waitForFunction((id) => {
    const box = document.querySelector(`.transcript > li[data-id="${id}"]`).getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight;
  }, last.id);
  assert.ok(await target.evaluate((li) => li === document.activeElement), 'focus on the message');
  assert.equal(await target.locator('.found-badge').textContent(), 'Matched your search');
  assert.equal(await searcher.locator('.transcript > li.found').count(), 1);
  assert.equal(await searcher.locator('.found-status').textContent(), `Showing message ${last.id}, which matched the search.`);

  // The way back: the link, and the browser's back button.
  assert.equal(await searcher.getByRole('link', { name: '← Back to the search results' }).getAttribute('href'),
    `#/search?q=${encodeURIComponent('תודה')}`);
  await searcher.goBack();
  await searcher.locator('.results > li').first().waitFor();
  assert.equal(await searcher.inputValue('#q'), 'תודה');
  assert.deepEqual(idsOf(await resultsOf(searcher)), [TICKET_ID]);

  // A message on the first page: scrolled to without loading more.
  await searchFor(searcher, { q: 'שלומך' });
  await searcher.locator('.results .match').first().click();
  await searcher.locator('.transcript > li[data-id="2"].found').waitFor();
  assert.ok(await searcher.locator('.transcript > li[data-id="2"]').evaluate((li) => li === document.activeElement));
  await searcher.close();
  assert.deepEqual(pageErrors, [], 'no uncaught error in any page');
});

test('a read-only token searches; a token without read sees no search and asks nothing', async () => {
  const tab = await signedIn(READ_TOKEN);
  await tab.getByRole('search', { name: 'Tickets by what was said' }).waitFor();
  await searchFor(tab, { q: 'yael.katz@example.com' });
  assert.deepEqual(idsOf(await resultsOf(tab)), [MAIL_TICKET]);
  await tab.close();

  const auditOnly = await signedIn(AUDIT_ONLY_TOKEN);
  const searches = [];
  auditOnly.on('request', (request) => {
    if (new URL(request.url()).pathname === '/tickets') searches.push(request.url());
  });
  await auditOnly.getByRole('heading', { name: 'This token cannot read the archive' }).waitFor();
  assert.equal(await auditOnly.locator('#q').count(), 0, 'no search box');
  await auditOnly.goto(`${BASE}/#/search?q=${encodeURIComponent('שלום')}`);
  await auditOnly.getByRole('heading', { name: 'This token cannot read the archive' }).waitFor();
  assert.equal(await auditOnly.getByRole('search').count(), 0);
  await auditOnly.waitForTimeout(300); // a search would have been asked by now
  assert.deepEqual(searches, [], 'no search was asked of the API');
  await auditOnly.close();
  assert.deepEqual(pageErrors, [], 'no uncaught error in any page');
});
