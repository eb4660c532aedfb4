// The demo as two people use it: two Chromium windows, two users, one
// `spindle dev`. Proves live updates, the one-winner rule for a contested
// seat, and recovery after the server dies and comes back.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  T, freePort, startDev, openPage, waitLive, signIn, seat, seatStates, commonFreeSeat, screenshot, sleep,
} from './helpers.mjs';

/** Starts dev and two signed-in pages; everything is closed after the test. */
async function twoUsers(t, env = {}) {
  const port = await freePort();
  const server = await startDev({ port, env });
  t.after(() => server.stop());
  const alice = await openPage(server.url);
  t.after(() => alice.close());
  const bob = await openPage(server.url);
  t.after(() => bob.close());
  await Promise.all([waitLive(alice.page), waitLive(bob.page)]);
  await Promise.all([signIn(alice.page, 'Alice'), signIn(bob.page, 'Bob')]);
  return { server, port, alice, bob };
}

const stateOf = (page, id) => seat(page, id).getAttribute('data-state');

test('a reservation shows up on the other page within a second', T, async (t) => {
  const { alice, bob } = await twoUsers(t);
  const id = await commonFreeSeat(alice.page, bob.page);

  const started = Date.now();
  await seat(alice.page, id).click();
  await bob.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="taken"]`, { timeout: 1000 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 1000, `Bob saw seat ${id} taken after ${elapsed} ms`);

  await alice.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 2000 });
  await alice.page.waitForSelector(`#reservations [data-reservation="1/${id}"]`, { timeout: 2000 });

  // Alice buys it: her own channel confirms, Bob sees it sold.
  await alice.page.click(`[data-buy="1/${id}"]`);
  await alice.page.waitForSelector(`#ticket-list [data-ticket="1/${id}"]`, { timeout: 3000 });
  await alice.page.waitForSelector('.toast[data-kind="success"] >> text=Ticket confirmed', { timeout: 3000 });
  await bob.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="sold"]`, { timeout: 2000 });
  assert.equal(await stateOf(alice.page, id), 'owned');

  await screenshot(alice.page, 'live-alice');
  await screenshot(bob.page, 'live-bob');
  assert.deepEqual(alice.errors, [], 'Alice page errors');
  assert.deepEqual(bob.errors, [], 'Bob page errors');
});

test('two users reserving the same seat at once: exactly one wins, the other sees an error', T, async (t) => {
  const { alice, bob } = await twoUsers(t);
  for (let round = 0; round < 3; round++) {
    const id = await commonFreeSeat(alice.page, bob.page);
    // Both pages click at the same agreed instant (one clock on one machine).
    // Each page spins for the last stretch, so its main thread cannot run
    // the other user's incoming publication first: both requests really
    // reach the server, and the server alone picks the winner.
    const at = Date.now() + 400;
    const clickAt = (page) => page.evaluate(([sid, when]) => new Promise((resolve) => {
      setTimeout(() => {
        while (Date.now() < when) { /* spin */ }
        document.querySelector(`#seatmap .seat[data-seat="${sid}"]`).click();
        resolve();
      }, Math.max(0, when - 200 - Date.now()));
    }), [id, at]);
    await Promise.all([clickAt(alice.page), clickAt(bob.page)]);

    const settled = (page) => page.waitForFunction((sid) => {
      const el = document.querySelector(`#seatmap .seat[data-seat="${sid}"]`);
      return el && !el.classList.contains('pending') && (el.dataset.state === 'mine' || el.dataset.state === 'taken');
    }, id, { timeout: 5000 });
    await Promise.all([settled(alice.page), settled(bob.page)]);

    const states = [await stateOf(alice.page, id), await stateOf(bob.page, id)];
    assert.deepEqual([...states].sort(), ['mine', 'taken'], `round ${round}, seat ${id}: ${states}`);
    const loser = states[0] === 'taken' ? alice : bob;
    const winner = loser === alice ? bob : alice;
    await loser.page.waitForSelector(`.toast[data-kind="error"] >> text=Could not reserve ${id}`, { timeout: 3000 })
      .catch(async (err) => {
        const toasts = await loser.page.locator('.toast').allInnerTexts();
        throw new Error(`round ${round}, seat ${id}: the loser's toasts are ${JSON.stringify(toasts)}: ${err.message}`);
      });
    const loserText = await loser.page.locator('.toast[data-kind="error"]').last().innerText();
    assert.match(loserText, /already taken/i);
    assert.equal(await winner.page.locator(`.toast[data-kind="error"] >> text=${id}`).count(), 0, 'the winner saw an error');
    if (round === 0) await screenshot(loser.page, 'contested-loser');
  }
});

test('after a server restart both pages reconnect and show the true state', T, async (t) => {
  const env = { SPINDLE_DEMO_SECRET: 'browser-test-secret' };
  const { server, port, alice, bob } = await twoUsers(t, env);
  const id = await commonFreeSeat(alice.page, bob.page);
  await seat(alice.page, id).click();
  await bob.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="taken"]`, { timeout: 2000 });

  await server.kill();
  await Promise.all([alice, bob].map((p) => p.page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 8000 })));
  await screenshot(bob.page, 'restart-offline');

  const again = await startDev({ port, env });
  t.after(() => again.stop());
  await Promise.all([alice, bob].map((p) => p.page.waitForSelector('#conn[data-state="connected"]', { timeout: 15000 })));
  // Same secret: both are still signed in.
  assert.equal(await alice.page.locator('#user-name').innerText(), 'Alice');
  assert.equal(await bob.page.locator('#user-name').innerText(), 'Bob');

  // The truth is what a page opened now shows; the old pages must converge on it.
  const fresh = await openPage(again.url);
  t.after(() => fresh.close());
  await waitLive(fresh.page);
  const truth = await seatStates(fresh.page);
  const booked = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v !== 'free']));
  for (const p of [alice, bob]) {
    let shown;
    for (let i = 0; i < 50; i++) {
      shown = await seatStates(p.page);
      if (JSON.stringify(booked(shown)) === JSON.stringify(booked(truth))) break;
      await sleep(100);
    }
    assert.deepEqual(booked(shown), booked(truth), 'a page kept a stale seat map after the restart');
    assert.equal(shown[id], 'free', `seat ${id} was reserved on the old server; the new one has it free`);
  }

  // And it is live again.
  const next = await commonFreeSeat(alice.page, bob.page);
  await seat(bob.page, next).click();
  await alice.page.waitForSelector(`#seatmap .seat[data-seat="${next}"][data-state="taken"]`, { timeout: 1000 });
  await screenshot(alice.page, 'restart-after');
});
