// The demo page where WebSocket cannot get through (a corporate proxy,
// some mobile networks): with every WebSocket the page opens refused, the
// SDK falls back to HTTP-streaming and the page works as usual — live
// seat map, sign-in, a reservation the other page sees. A second page with
// WebSocket shows the same seat taken.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, freePort, startDev, openPage, waitLive, signIn, seat, commonFreeSeat, screenshot } from './helpers.mjs';

test('WebSockets blocked: the page falls back to HTTP-streaming and still books seats live', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());

  const blocked = await openPage('about:blank');
  t.after(() => blocked.close());
  let refused = 0;
  // Every WebSocket the page opens is closed before it is established, as
  // a proxy that does not pass upgrades would.
  await blocked.page.routeWebSocket(/.*/, (ws) => { refused++; ws.close(); });
  await blocked.page.goto(server.url);
  await waitLive(blocked.page, 20000);
  assert.ok(refused >= 1, 'the page tried WebSocket first');
  assert.equal(await blocked.page.evaluate(() => document.body.dataset.transport), 'http_stream');

  const normal = await openPage(server.url);
  t.after(() => normal.close());
  await waitLive(normal.page);
  assert.equal(await normal.page.evaluate(() => document.body.dataset.transport), 'websocket');

  await signIn(blocked.page, 'Fallback');
  const id = await commonFreeSeat(blocked.page, normal.page);
  await seat(blocked.page, id).click();
  await blocked.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 5000 });
  await normal.page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="taken"]`, { timeout: 5000 });
  await screenshot(blocked.page, 'fallback-http-stream');
  assert.deepEqual(blocked.errors.filter((e) => !/WebSocket/i.test(e)), [], 'page errors other than the refused WebSockets');
});
