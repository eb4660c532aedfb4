// Two processes, and the app behind the real-time server dies: the
// WebSocket stays up, but every call the server proxies to the app fails.
// The page must say so instead of "Live", and say "Live" again once the app
// is back — and then show the restarted app's seats, not its own memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, openPage, waitLive, signIn, seat, seatStates, screenshot } from './helpers.mjs';
import { twoProcesses } from './two-process.mjs';

const header = (page) => page.locator('#conn');

test('two processes: with the app killed the header says the backend is unavailable, and Live once it is back', T, async (t) => {
  const env = { SPINDLE_DEMO_SECRET: 'browser-test-secret' };
  const { app, url, startApp } = await twoProcesses(t, env);
  const visitor = await openPage(url);
  t.after(() => visitor.close());
  const { page } = visitor;
  await waitLive(page);
  await signIn(page, 'Otto');

  const free = () => seatStates(page).then((m) => Object.keys(m).filter((k) => m[k] === 'free'));
  const [held, tried] = await free();
  await seat(page, held).click();
  await page.waitForSelector(`[data-reservation="1/${held}"]`, { timeout: 3000 });

  await app.kill();
  // The real-time server is still there, so the connection stays up…
  assert.equal(await header(page).getAttribute('data-state'), 'connected');
  // …until the visitor acts and the call fails.
  await seat(page, tried).click();
  await page.waitForSelector('#conn[data-state="degraded"]', { timeout: 8000 });
  assert.equal((await header(page).innerText()).trim(), 'Backend unavailable');
  await page.locator('#degraded').waitFor({ state: 'visible', timeout: 1000 });
  await page.locator('.toast[data-kind="error"]', { hasText: `Could not reserve ${tried}` }).waitFor({ timeout: 3000 });
  await screenshot(page, 'backend-unavailable');
  // A second try while it is down fails the same way and changes nothing.
  await seat(page, tried).click();
  await page.waitForTimeout(300);
  assert.equal(await header(page).getAttribute('data-state'), 'degraded');

  // The app comes back (with a fresh seat map: its state lived in memory).
  await startApp();
  await page.waitForSelector('#conn[data-state="connected"]', { timeout: 15000 });
  assert.equal((await header(page).innerText()).trim(), 'Live');
  await page.locator('#degraded').waitFor({ state: 'hidden', timeout: 1000 });
  // Toasts blaming the outage go with it.
  await page.locator('.toast:not(.leaving)', { hasText: `Could not reserve ${tried}` }).first().waitFor({ state: 'detached', timeout: 1000 });
  // The old reservation died with the old app; the page re-read the map.
  await page.locator(`[data-reservation="1/${held}"]`).waitFor({ state: 'detached', timeout: 5000 });
  const [next] = await free();
  await seat(page, next).click();
  await page.waitForSelector(`#seatmap .seat[data-seat="${next}"][data-state="mine"]`, { timeout: 3000 });
  await screenshot(page, 'backend-back');
  assert.deepEqual(visitor.errors, []);
});
