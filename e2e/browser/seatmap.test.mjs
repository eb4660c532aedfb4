// The seat map is a map subscription ("seats:<id>", one key per seat): a
// page that opens late gets the seats from the subscription itself, and
// when the real-time server restarts with an empty memory map while the
// application keeps running, the application writes its seats again, so a
// page opened after the restart shows the true seats, and a page that was
// open converges on them.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, freePort, startDev, openPage, waitLive, signIn, seat, seatStates, commonFreeSeat, screenshot } from './helpers.mjs';
import { twoProcesses } from './two-process.mjs';

const taken = (page, id, timeout = 5000) =>
  page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="taken"]`, { timeout });

test('a page opened late shows the seats others hold, synced from the seat map subscription', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());
  const alice = await openPage(server.url);
  t.after(() => alice.close());
  await waitLive(alice.page);
  await signIn(alice.page, 'Alice');
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const id = await commonFreeSeat(alice.page);
    await seat(alice.page, id).click();
    await alice.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 3000 });
    ids.push(id);
  }
  const late = await openPage(server.url);
  t.after(() => late.close());
  await waitLive(late.page);
  for (const id of ids) await taken(late.page, id);
  const states = await seatStates(late.page);
  assert.equal(Object.values(states).filter((s) => s === 'loading').length, 0, 'every seat arrived');
  assert.equal(await late.page.locator('#channel-note code').first().innerText(), 'seats:1');
  await screenshot(late.page, 'seatmap-late-joiner');
  assert.deepEqual(late.errors, [], 'late page errors');
});

test('the server restarts with empty maps, the app keeps running: a late joiner and an open page show the true seats', T, async (t) => {
  const { server, url, restartServer } = await twoProcesses(t);
  const alice = await openPage(url);
  t.after(() => alice.close());
  await waitLive(alice.page);
  await signIn(alice.page, 'Alice');
  const id = await commonFreeSeat(alice.page);
  await seat(alice.page, id).click();
  await alice.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 3000 });

  await server.kill();
  await alice.page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 8000 });
  await restartServer();
  await alice.page.waitForSelector('#conn[data-state="connected"]', { timeout: 15000 });

  // The new server started with no seat maps; the app writes them again
  // within a few seconds, and the late joiner syncs them.
  const late = await openPage(url);
  t.after(() => late.close());
  await waitLive(late.page);
  await taken(late.page, id, 10000);
  const truth = await seatStates(late.page);
  assert.equal(Object.values(truth).filter((s) => s === 'loading').length, 0, 'every seat arrived');
  // The page that was open converges on the same seats (its own seat shows as its own).
  await alice.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 10000 });
  const shown = await seatStates(alice.page);
  const booked = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v !== 'free']));
  assert.deepEqual(booked(shown), booked(truth));
  await screenshot(late.page, 'seatmap-after-server-restart');
  assert.deepEqual(late.errors, [], 'late page errors');
});

test('the schedule\'s free counts come from the seats-left shared poll: a reservation on one page shows on another', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());
  const alice = await openPage(server.url);
  t.after(() => alice.close());
  const bob = await openPage(server.url);
  t.after(() => bob.close());
  await Promise.all([waitLive(alice.page), waitLive(bob.page)]);
  await signIn(alice.page, 'Alice');
  const count = (page) => page.locator('[data-free="1"]').innerText().then((s) => Number.parseInt(s, 10));
  // The first poll answers at once; wait until bob's page shows a count.
  await bob.page.waitForFunction(() => /\d+ free/.test(document.querySelector('[data-free="1"]')?.textContent || ''));
  const before = await count(bob.page);
  const id = await commonFreeSeat(alice.page);
  await seat(alice.page, id).click();
  await alice.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 3000 });
  // The next poll (every 2 s) brings the new count to every page.
  await bob.page.waitForFunction((n) => document.querySelector('[data-free="1"]')?.textContent === `${n} free`, before - 1, { timeout: 6000 });
  assert.equal(await count(bob.page), before - 1);
  assert.deepEqual(bob.errors, [], 'page errors');
});
