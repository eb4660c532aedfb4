// Icons must render where only DejaVu fonts exist (Debian's default): no
// emoji or pictograph characters anywhere in the page, every icon an
// inline SVG, and nothing fetched from anywhere but the page's own server.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, freePort, startDev, openPage, waitLive, signIn, seatStates, seat, screenshot } from './helpers.mjs';

// Arrows, technical symbols (⏱ is U+23F1), enclosed characters, shapes,
// miscellaneous symbols and dingbats (✓ ✕), emoji and the emoji
// presentation selector: the glyphs a text font may lack.
const PICTOGRAPH = /[\u2190-\u21FF\u2300-\u23FF\u2460-\u24FF\u25A0-\u27BF\u2900-\u297F\u2B00-\u2BFF\uFE0F]|[\u{1F000}-\u{1FAFF}]/gu;

const found = (text) => [...new Set(text.match(PICTOGRAPH) || [])];

test('no emoji or pictograph glyphs: every icon is inline SVG, served by the page itself', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());

  for (const asset of ['', 'app.css', 'app.js']) {
    const text = await (await fetch(server.url + asset, { signal: AbortSignal.timeout(5000) })).text();
    assert.deepEqual(found(text), [], `/${asset} contains pictographs`);
  }

  const visitor = await openPage(server.url);
  t.after(() => visitor.close());
  const foreign = [];
  visitor.page.on('request', (r) => { if (!r.url().startsWith(server.url.slice(0, -1)) && !r.url().startsWith('ws://127.0.0.1')) foreign.push(r.url()); });
  await waitLive(visitor.page);

  // An info toast (anonymous click), then a success toast and a
  // reservation with its release button.
  const free = Object.entries(await seatStates(visitor.page)).filter(([, s]) => s === 'free').map(([id]) => id);
  await seat(visitor.page, free[0]).click();
  await visitor.page.waitForSelector('.toast[data-kind="info"]', { timeout: 3000 });
  await signIn(visitor.page, 'Iris');
  await seat(visitor.page, free[1]).click();
  await visitor.page.waitForSelector('.toast[data-kind="success"]', { timeout: 3000 });
  await visitor.page.waitForSelector('[data-release]', { timeout: 3000 });

  const shown = await visitor.page.evaluate(() => ({
    text: document.body.innerText,
    icons: [...document.querySelectorAll('.toast-icon')].map((el) => ({ svg: !!el.querySelector('svg'), text: el.textContent.trim() })),
    release: [...document.querySelectorAll('[data-release]')].map((el) => ({ svg: !!el.querySelector('svg'), name: el.getAttribute('aria-label') })),
  }));
  assert.deepEqual(found(shown.text), [], 'the page shows pictographs');
  assert.ok(shown.icons.length >= 2, 'toasts are up');
  for (const icon of shown.icons) assert.deepEqual(icon, { svg: true, text: '' }, 'a toast icon is not an SVG');
  for (const btn of shown.release) {
    assert.equal(btn.svg, true, 'the release button is not an SVG icon');
    assert.match(btn.name, /^Release /, 'the release button has no accessible name');
  }
  assert.deepEqual(foreign, [], 'the page fetched from elsewhere');
  await screenshot(visitor.page, 'icons');
  assert.deepEqual(visitor.errors, []);
});
