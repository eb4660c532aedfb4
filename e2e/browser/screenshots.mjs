// Regenerates the screenshots docs/demo.md shows (docs/screenshots/*.png):
// toasts next to the reservations at desktop and phone width, the seat
// states, and the header while the app behind the server is down. Not a
// test; run it after changing the page, with the binaries built:
//
//   node screenshots.mjs
//
// Each picture is clipped to the part it is about, to keep the files small.

import fs from 'node:fs';
import path from 'node:path';

import { REPO, freePort, startDev, openPage, waitLive, signIn, seat, seatStates } from './helpers.mjs';
import { twoProcesses } from './two-process.mjs';

const OUT = path.join(REPO, 'docs', 'screenshots');

// twoProcesses() cleans up through a test's t.after; collect those here.
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

const free = (page) => seatStates(page).then((m) => Object.keys(m).filter((k) => m[k] === 'free'));

async function reserve(page, ids) {
  for (const id of ids) {
    await seat(page, id).click();
    await page.waitForSelector(`#seatmap .seat[data-seat="${id}"][data-state="mine"]`, { timeout: 3000 });
  }
}

async function shoot(page, name, clip) {
  await page.mouse.move(1, 1); // no hover effect on the last seat clicked
  await page.waitForTimeout(400); // let the toasts' entrance animation finish
  await page.screenshot({ path: path.join(OUT, `${name}.png`), clip });
  console.log(`wrote docs/screenshots/${name}.png`);
}

async function toastsAndSeats(url) {
  const desk = await openPage(url, { width: 1440, height: 900 });
  cleanups.push(() => desk.close());
  await waitLive(desk.page);
  // Ann holds a seat and signs out, so Bob sees it reserved by someone else.
  await signIn(desk.page, 'Ann');
  await reserve(desk.page, (await free(desk.page)).slice(0, 1));
  await desk.page.click('#signout');
  await signIn(desk.page, 'Bob');
  const picks = (await free(desk.page)).slice(0, 5);
  await reserve(desk.page, picks);
  await desk.page.click(`[data-buy="1/${picks[0]}"]`);
  await desk.page.waitForSelector(`#ticket-list [data-ticket="1/${picks[0]}"]`, { timeout: 3000 });
  await shoot(desk.page, 'toasts-desktop', { x: 300, y: 200, width: 1140, height: 700 });
  await shoot(desk.page, 'seats', { x: 318, y: 240, width: 734, height: 380 });

  const phone = await openPage(url, { width: 390, height: 844 });
  cleanups.push(() => phone.close());
  await waitLive(phone.page);
  await signIn(phone.page, 'Cleo');
  await reserve(phone.page, (await free(phone.page)).slice(0, 4));
  await phone.page.locator('[data-buy]').last().evaluate((el) => el.scrollIntoView({ block: 'end' }));
  await shoot(phone.page, 'toasts-phone');
}

async function backendDown() {
  const { app, url } = await twoProcesses(t, { SPINDLE_DEMO_SECRET: 'screenshots' });
  const visitor = await openPage(url, { width: 1440, height: 900 });
  cleanups.push(() => visitor.close());
  await waitLive(visitor.page);
  await signIn(visitor.page, 'Otto');
  const [a, b] = await free(visitor.page);
  await reserve(visitor.page, [a]);
  await app.kill();
  await seat(visitor.page, b).click();
  await visitor.page.waitForSelector('#conn[data-state="degraded"]', { timeout: 8000 });
  await shoot(visitor.page, 'backend-unavailable', { x: 318, y: 0, width: 1122, height: 900 });
}

fs.mkdirSync(OUT, { recursive: true });
try {
  const server = await startDev({ port: await freePort() });
  cleanups.push(() => server.stop());
  await toastsAndSeats(server.url);
  await backendDown();
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
