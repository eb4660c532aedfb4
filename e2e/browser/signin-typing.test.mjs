// A name being typed into the sign-in form survives the reconnect that
// signing out starts: the form used to be rebuilt when that reconnect
// finished, wiping the input (the next sign-in then silently did nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, freePort, startDev, openPage, waitLive, signIn } from './helpers.mjs';

test('typing a name while the page reconnects after sign-out is not lost', T, async (t) => {
  const port = await freePort();
  const server = await startDev({ port });
  t.after(() => server.stop());
  const visitor = await openPage(server.url);
  t.after(() => visitor.close());
  const { page } = visitor;
  await waitLive(page);
  await signIn(page, 'Ann');

  // Hold the reconnect back until the name is typed, so the order is the
  // one that lost the input: sign out, type, then the reconnect lands.
  await page.context().setOffline(true);
  await page.click('#signout');
  await page.fill('#name', 'Bob');
  await page.context().setOffline(false);
  await page.waitForSelector('#conn[data-state="connected"]', { timeout: 15000 });
  assert.equal(await page.inputValue('#name'), 'Bob', 'the typed name is still in the form');
  await page.click('#signin');
  await page.waitForSelector('#user-name', { timeout: 10000 });
  assert.equal(await page.textContent('#user-name'), 'Bob');
  assert.deepEqual(visitor.errors.filter((e) => !/WebSocket|ERR_INTERNET_DISCONNECTED|net::/.test(e)), []);
});
