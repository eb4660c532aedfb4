// Toasts must never sit on top of something a visitor wants to click: with
// several of them up, every Buy button of the reservations is visible and
// clickable, on a desktop and on a phone; and each toast can be dismissed.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, freePort, startDev, openPage, waitLive, signIn, seat, seatStates, screenshot } from './helpers.mjs';

const SIZES = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

/**
 * Scrolls el so its bottom edge meets the bottom of what is visible (where
 * someone scrolling down meets it first) and names whatever is drawn on
 * top at its centre and near its corners, when that is not el itself.
 */
function covered(locator) {
  return locator.evaluate((el) => {
    el.scrollIntoView({ block: 'end' });
    const r = el.getBoundingClientRect();
    // Inset by the corner radius: a rounded corner's very tip is the parent's.
    const i = Math.max(3, parseFloat(getComputedStyle(el).borderTopLeftRadius) || 0);
    const points = [[r.left + r.width / 2, r.top + r.height / 2], [r.left + i, r.top + i], [r.right - i, r.top + i], [r.left + i, r.bottom - i], [r.right - i, r.bottom - i]];
    for (const [x, y] of points) {
      const top = document.elementFromPoint(x, y);
      if (!top || !el.contains(top)) return top ? (top.closest('.toast') ? 'a toast' : top.outerHTML.slice(0, 80)) : 'nothing (off screen)';
    }
    return null;
  });
}

const visibleToasts = (page) => page.locator('.toast:not(.leaving)').evaluateAll((els) => els.filter((e) => e.checkVisibility()).length);

test('several toasts up: every Buy button stays visible and clickable, on desktop and phone; toasts can be dismissed', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());

  // One visitor, resized: a fresh browser per size would cost seconds.
  const visitor = await openPage(server.url, SIZES[0]);
  t.after(() => visitor.close());
  const { page } = visitor;
  await waitLive(page);
  await signIn(page, 'Toasty');

  // Five seats of the first screening on the desktop, three of the second
  // on the phone (a user may hold six per screening): a toast for each.
  for (const [n, size] of SIZES.entries()) {
    await page.setViewportSize(size);
    const screening = String(n + 1);
    await page.click(`.screening[data-screening="${screening}"]`);
    await page.waitForSelector(`#seatmap[data-screening="${screening}"] .seat`, { timeout: 3000 });
    const states = await seatStates(page);
    const picks = Object.keys(states).filter((k) => states[k] === 'free').slice(0, n ? 3 : 5);
    for (const id of picks) {
      await seat(page, id).click();
      await page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 3000 });
    }
    await page.waitForSelector(`[data-buy="${screening}/${picks.at(-1)}"]`, { timeout: 3000 });
    const up = await visibleToasts(page);
    assert.ok(up >= 2, `${size.name}: only ${up} toast(s) up`);

    const buttons = [...await page.locator('[data-buy]').all(), page.locator('#buy-all')];
    for (const btn of buttons) {
      const label = await btn.innerText();
      assert.equal(await covered(btn), null, `${size.name}: "${label}" is hidden under something`);
      await btn.click({ trial: true, timeout: 2000 }); // playwright's own actionability: visible, stable, receives the click
    }
    assert.ok(await visibleToasts(page) >= 2, `${size.name}: the toasts went away during the checks`);
    await page.locator('[data-buy]').last().evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await screenshot(page, `toasts-${size.name}`);

    // A person can buy from under the toasts…
    const last = picks.at(-1);
    await page.click(`[data-buy="${screening}/${last}"]`, { timeout: 2000 });
    await page.waitForSelector(`#ticket-list [data-ticket="${screening}/${last}"]`, { timeout: 3000 });
    // …and dismiss a toast at once (the newest: a phone hides the oldest).
    const dismissed = page.locator('.toast:not(.leaving)').last();
    const title = await dismissed.locator('.toast-title').innerText();
    await dismissed.getByRole('button', { name: 'Dismiss' }).click({ timeout: 2000 });
    await page.locator('.toast', { hasText: title }).waitFor({ state: 'detached', timeout: 1000 });
  }
  assert.deepEqual(visitor.errors, []);
});
