// The five seat states must be told apart without relying on colour (for
// colour-blind visitors) and, for free against sold, also by colour:
// each state has its own shape cue and its own accessible name.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, freePort, startDev, openPage, waitLive, signIn, seat, seatStates, screenshot } from './helpers.mjs';

const LABELS = { free: 'free', mine: 'reserved by you', taken: 'reserved', owned: 'your ticket', sold: 'sold' };

/** What a seat looks like, from its computed style. */
function looks(page, id) {
  return seat(page, id).evaluate((el) => {
    const cs = getComputedStyle(el);
    const alpha = (c) => { const m = /rgba?\(([^)]+)\)/.exec(c); const p = m ? m[1].split(/[ ,/]+/).filter(Boolean) : []; return p.length > 3 ? Number(p[3]) : 1; };
    const img = cs.backgroundImage;
    // An SVG picture is known by its outlines, not by its stroke colour.
    const drawn = (url) => (decodeURIComponent(url).match(/\sd=['"][^'"]*['"]/g) || [url]).join(' ');
    return {
      // The non-colour cues: which picture is drawn, filled or outlined,
      // whether the seat number shows.
      shape: {
        picture: img === 'none' ? 'none' : img.startsWith('url(') ? drawn(img) : img.replace(/rgba?\([^)]*\)|#[0-9a-f]+/gi, 'C'),
        filled: alpha(cs.backgroundColor) >= 0.5,
        number: alpha(cs.color) > 0.2 && parseFloat(cs.fontSize) > 0,
      },
      border: cs.borderTopColor,
      name: el.getAttribute('aria-label'),
    };
  });
}

/** WCAG relative luminance of a computed rgb() colour. */
function luminance(rgb) {
  const [r, g, b] = /rgba?\(([^)]+)\)/.exec(rgb)[1].split(/[ ,/]+/).slice(0, 3).map(Number)
    .map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };

test('free, reserved and sold seats differ in shape and colour, and say so to screen readers', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());
  const visitor = await openPage(server.url);
  t.after(() => visitor.close());
  const { page } = visitor;
  await waitLive(page);

  // One page plays both users: Ann's reservation stays after she signs
  // out, so Bob sees it as someone else's.
  const free = () => seatStates(page).then((m) => Object.keys(m).filter((k) => m[k] === 'free'));
  await signIn(page, 'Ann');
  const [annSeat] = await free();
  await seat(page, annSeat).click();
  await page.waitForSelector(`#seatmap .seat[data-seat="${annSeat}"][data-state="mine"]`, { timeout: 3000 });
  await page.click('#signout');
  await signIn(page, 'Bob');
  await page.waitForSelector(`#seatmap .seat[data-seat="${annSeat}"][data-state="taken"]`, { timeout: 3000 });
  const [bought, held] = await free();
  for (const id of [bought, held]) {
    await seat(page, id).click();
    await page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 3000 });
  }
  await page.click(`[data-buy="1/${bought}"]`);
  await page.waitForSelector(`#seatmap .seat[data-seat="${bought}"][data-state="owned"]`, { timeout: 3000 });

  const states = await seatStates(page);
  const sample = {};
  for (const state of Object.keys(LABELS)) {
    const id = Object.keys(states).find((k) => states[k] === state);
    assert.ok(id, `no ${state} seat on the map`);
    sample[state] = { id, ...(await looks(page, id)) };
    assert.equal(sample[state].name, `Seat ${id}: ${LABELS[state]}`, `${state} seat's accessible name`);
  }

  const names = Object.keys(sample);
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      assert.notDeepEqual(sample[names[i]].shape, sample[names[j]].shape,
        `${names[i]} and ${names[j]} seats differ only in colour: ${JSON.stringify(sample[names[i]].shape)}`);
    }
  }
  assert.equal(sample.free.shape.filled, false, 'free seats are outlined');
  assert.notEqual(sample.sold.shape.picture, 'none', 'sold seats carry a mark');
  const ratio = contrast(sample.free.border, sample.sold.border);
  assert.ok(ratio >= 3, `free and sold seat outlines differ too little in lightness (${ratio.toFixed(2)}:1)`);
  // Disabled seats say so too.
  assert.equal(await seat(page, sample.sold.id).isDisabled(), true, 'a sold seat is not disabled');

  await screenshot(page, 'seats');
  assert.deepEqual(visitor.errors, []);
});
