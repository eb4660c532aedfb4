// Rendering: pure functions of the Store plus the action callbacks main.js
// hands in. The seat map is built once per screening and then updated in
// place, so hover and focus survive the live updates.

import { h, mount, time, price, countdown, initials } from './dom.js';
import { icon } from './icons.js';

const CONN_LABELS = {
  connecting: 'Connecting…', connected: 'Live', degraded: 'Backend unavailable', reconnecting: 'Reconnecting…', disconnected: 'Offline',
};

/**
 * state: connecting (first time), connected, reconnecting, disconnected;
 * backendUp false turns "connected" into "degraded": the server is there,
 * the app behind it is not.
 */
export function renderConnection(state, backendUp = true) {
  const shown = state === 'connected' && !backendUp ? 'degraded' : state;
  const el = document.getElementById('conn');
  el.dataset.state = shown;
  el.querySelector('.conn-label').textContent = CONN_LABELS[shown];
  const offline = shown === 'reconnecting' || shown === 'disconnected';
  document.getElementById('hall').classList.toggle('offline', offline);
  document.getElementById('offline').hidden = !offline;
  document.getElementById('degraded').hidden = shown !== 'degraded';
}

export function renderSchedule(store, actions) {
  const list = document.getElementById('screenings');
  if (!store.order.length) return;
  mount(list, store.order.map((id) => {
    const info = store.screenings.get(id).info;
    // The schedule shows the polled count (seatsleft:schedule); the open
    // screening's header counts its live seat map.
    const free = store.scheduleFree(id);
    const pct = info.total ? Math.round((free / info.total) * 100) : 0;
    return h('li', {},
      h('button', {
        class: 'screening', type: 'button', 'aria-current': String(id === store.selected),
        dataset: { screening: id }, onclick: () => actions.select(id),
      },
      h('span', { class: 'screening-time' }, time(info.starts_at)),
      h('span', { class: 'screening-title' }, info.movie),
      h('span', { class: 'screening-meta' }, `${info.genre} · ${info.minutes} min · ${info.hall}`),
      h('span', { class: 'availability' },
        h('span', { class: `bar${pct < 35 ? ' low' : ''}` }, h('span', { style: { width: `${pct}%` } })),
        h('span', { dataset: { free: id } }, `${free} free`))));
  }));
}

let builtFor = null;

export function renderHall(store, actions) {
  const id = store.selected;
  const e = id && store.screenings.get(id);
  if (!e || !e.info) return;
  const info = e.info;
  document.getElementById('movie-title').textContent = info.movie;
  document.getElementById('movie-meta').textContent =
    `${time(info.starts_at)} · ${info.hall} · ${info.genre} · ${info.minutes} min · ${price(info.price)} per seat`;
  mount(document.getElementById('hall-stats'),
    h('div', { class: 'stat' }, h('b', { id: 'free-count' }, String(store.freeCount(id))), h('span', {}, 'free')),
    h('div', { class: 'stat' }, h('b', {}, String(info.total || info.rows * info.cols)), h('span', {}, 'seats')));
  mount(document.getElementById('channel-note'),
    'Seat map channel ', h('code', {}, `seats:${id}`), store.user ? [' and ', h('code', {}, `user#${store.user}`)] : null);

  const map = document.getElementById('seatmap');
  const key = `${id}:${info.rows}x${info.cols}`;
  if (builtFor !== key) {
    builtFor = key;
    map.dataset.screening = id;
    const rows = [];
    for (let r = 0; r < info.rows; r++) {
      const row = String.fromCharCode(65 + r);
      const cells = [h('span', { class: 'row-label' }, row)];
      for (let c = 1; c <= info.cols; c++) {
        if (c === Math.floor(info.cols / 2) + 1) cells.push(h('span', { class: 'aisle' }));
        const seatId = `${row}${c}`;
        cells.push(h('button', {
          class: 'seat', type: 'button', dataset: { seat: seatId, state: 'free' },
          onclick: () => actions.seat(id, seatId),
        }, String(c)));
      }
      cells.push(h('span', { class: 'row-label' }, row));
      rows.push(h('div', { class: 'seat-row', role: 'row' }, cells));
    }
    mount(map, rows);
  }
  for (const btn of map.querySelectorAll('.seat')) {
    const seat = e.seats.get(btn.dataset.seat);
    // A seat the map has not delivered yet (a server that lost its maps
    // while the app writes them again) is not shown as free.
    const state = seat ? store.view(seat) : 'loading';
    btn.dataset.state = state;
    btn.classList.toggle('pending', store.pending.has(`${id}/${btn.dataset.seat}`));
    btn.disabled = state === 'sold' || state === 'owned' || state === 'loading';
    btn.setAttribute('aria-label', `Seat ${btn.dataset.seat}: ${LABELS[state]}`);
    btn.title = `${btn.dataset.seat} — ${LABELS[state]}`;
  }
}

const LABELS = { loading: 'loading', free: 'free', mine: 'reserved by you', taken: 'reserved', owned: 'your ticket', sold: 'sold' };

/** Briefly highlights a seat that someone else just changed. */
export function flashSeat(screeningId, seatId) {
  const map = document.getElementById('seatmap');
  if (map.dataset.screening !== screeningId) return;
  const btn = map.querySelector(`[data-seat="${seatId}"]`);
  if (!btn) return;
  btn.classList.remove('flash');
  void btn.offsetWidth; // restart the animation
  btn.classList.add('flash');
}

let accountFor = null;

export function renderAccount(store, actions) {
  const el = document.getElementById('account');
  // Rebuild only when the visitor changes, so typing survives live updates.
  // Signed out, the form shows no name: a name arriving or going with a
  // reconnect must not rebuild it and wipe what is being typed.
  const key = store.user ? `${store.user}|${store.name}` : '';
  if (accountFor === key) return;
  accountFor = key;
  if (store.user) {
    mount(el,
      h('h2', { id: 'account-title', class: 'panel-title' }, 'Signed in'),
      h('div', { class: 'user' },
        h('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(store.name || store.user)),
        h('div', {}, h('div', { class: 'user-name', id: 'user-name' }, store.name || store.user), h('div', { class: 'user-id' }, `user id: ${store.user}`)),
        h('button', { class: 'btn btn-small btn-ghost', type: 'button', id: 'signout', onclick: actions.signOut }, 'Sign out')));
    return;
  }
  const input = h('input', { id: 'name', name: 'name', placeholder: 'Your name', autocomplete: 'nickname', maxlength: '32', required: true });
  mount(el,
    h('h2', { id: 'account-title', class: 'panel-title' }, 'Sign in to book'),
    h('p', { class: 'hint' }, 'Anyone can watch the seat maps. To reserve and buy seats, tell us your name — no password, it is a demo.'),
    h('form', {
      class: 'signin', onsubmit: (ev) => { ev.preventDefault(); actions.signIn(input.value); },
    }, input, h('button', { class: 'btn btn-primary', type: 'submit', id: 'signin' }, 'Sign in')));
}

export function renderBasket(store, actions) {
  const el = document.getElementById('basket');
  const title = h('h2', { id: 'basket-title', class: 'panel-title' }, 'Your reservations');
  if (!store.user) {
    mount(el, title, h('p', { class: 'hint' }, 'Sign in, then click a free seat to hold it for two minutes.'));
    return;
  }
  const held = store.reservations();
  if (!held.length) {
    mount(el, title, h('p', { class: 'hint' }, 'Click a free seat to reserve it. A reservation holds the seat for two minutes; buy it before the timer runs out.'));
    return;
  }
  const total = held.reduce((sum, r) => sum + (r.screening ? r.screening.price : 0), 0);
  mount(el, title,
    h('ul', { class: 'items', id: 'reservations' }, held.map(({ screening, seat }) => {
      const key = `${screening.id}/${seat.id}`;
      const busy = store.pending.has(key);
      return h('li', { class: 'item', dataset: { reservation: key } },
        h('span', { class: 'chip' }, seat.id),
        h('div', {},
          h('div', { class: 'item-title' }, screening.movie),
          h('div', { class: 'item-meta' }, `${time(screening.starts_at)} · `, h('span', { class: 'timer', dataset: { expires: String(seat.expires_at) } }, countdown(seat.expires_at - store.now())), ' left')),
        h('div', { class: 'item-actions' },
          h('button', { class: 'btn btn-small btn-primary', type: 'button', disabled: busy, dataset: { buy: key }, onclick: () => actions.buy(screening.id, seat.id) }, 'Buy'),
          h('button', { class: 'btn btn-small btn-ghost', type: 'button', disabled: busy, 'aria-label': `Release ${seat.id}`, dataset: { release: key }, onclick: () => actions.cancel(screening.id, seat.id) }, icon('close'))));
    })),
    h('div', { class: 'total' }, h('span', {}, `${held.length} seat${held.length > 1 ? 's' : ''} held`), h('b', {}, price(total))),
    held.length > 1 ? h('button', { class: 'btn btn-primary btn-block', type: 'button', id: 'buy-all', onclick: () => actions.buyAll(held) }, `Buy all ${held.length} · ${price(total)}`) : null);
}

/** Updates the countdowns without rebuilding the basket. */
export function tickTimers(store) {
  for (const el of document.querySelectorAll('.timer[data-expires]')) {
    const left = Number(el.dataset.expires) - store.now();
    el.textContent = countdown(left);
    el.classList.toggle('urgent', left < 30000);
  }
}

export function renderTickets(store) {
  const el = document.getElementById('tickets');
  const title = h('h2', { id: 'tickets-title', class: 'panel-title' }, 'Your tickets');
  const list = [...store.tickets.values()].sort((a, b) => a.starts_at - b.starts_at || a.seat.id.localeCompare(b.seat.id));
  if (!store.user || !list.length) {
    mount(el, title, h('p', { class: 'hint' }, store.user ? 'Tickets you buy appear here, confirmed live on your own channel.' : 'Sign in to see your tickets.'));
    return;
  }
  mount(el, title, h('ul', { class: 'items', id: 'ticket-list' }, list.map((t) =>
    h('li', { class: 'item ticket', dataset: { ticket: `${t.screening}/${t.seat.id}` } },
      h('span', { class: 'chip' }, t.seat.id),
      h('div', {}, h('div', { class: 'item-title' }, t.movie), h('div', { class: 'item-meta' }, `${time(t.starts_at)} · ${t.hall}`)),
      h('span', { class: 'item-meta' }, 'paid')))));
}
