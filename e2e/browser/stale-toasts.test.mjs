// A toast about a seat must not outlive what it says: "Seat A3 reserved"
// goes as soon as the seat is sold, and toasts about a screening's seats go
// when the visitor switches to another screening. Both are checked well
// inside a toast's own lifetime (5 s), so it cannot have simply timed out.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, freePort, startDev, openPage, waitLive, signIn, seat, seatStates } from './helpers.mjs';

const LIFETIME_MS = 5000;

/** The toast titled title, once it is up; returns when it appeared. */
async function toastUp(page, title) {
  await page.locator('.toast:not(.leaving)', { hasText: title }).waitFor({ timeout: 3000 });
  return Date.now();
}

/** Waits (bounded) until no toast titled title is shown; returns when. */
async function toastGone(page, title, since) {
  const left = LIFETIME_MS - 1000 - (Date.now() - since);
  assert.ok(left > 500, `the test itself took too long to judge "${title}"`);
  await page.waitForFunction((t) => ![...document.querySelectorAll('.toast:not(.leaving)')].some((el) => el.textContent.includes(t)), title, { timeout: left })
    .catch(() => { throw new Error(`"${title}" was still shown ${Date.now() - since} ms after it appeared, after its seat changed`); });
}

test('toasts about a seat go away when the seat is sold or the screening changes', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());
  const visitor = await openPage(server.url);
  t.after(() => visitor.close());
  const { page } = visitor;
  await waitLive(page);
  await signIn(page, 'Stella');

  const free = () => seatStates(page).then((m) => Object.keys(m).filter((k) => m[k] === 'free'));

  // Reserved, then bought: the "reserved" toast makes way for "Ticket confirmed".
  const [sold] = await free();
  await seat(page, sold).click();
  const reservedAt = await toastUp(page, `Seat ${sold} reserved`);
  await page.click(`[data-buy="1/${sold}"]`, { timeout: 2000 });
  await toastUp(page, 'Ticket confirmed');
  await toastGone(page, `Seat ${sold} reserved`, reservedAt);

  // Reserved, then the visitor looks at another screening.
  const [held] = await free();
  await seat(page, held).click();
  const heldAt = await toastUp(page, `Seat ${held} reserved`);
  await page.click('.screening[data-screening="2"]');
  await page.waitForSelector('#seatmap[data-screening="2"]', { timeout: 2000 });
  await toastGone(page, `Seat ${held} reserved`, heldAt);
  // The reservation itself stays, of course.
  await page.waitForSelector(`[data-reservation="1/${held}"]`, { timeout: 1000 });
  assert.deepEqual(visitor.errors, []);
});
