// Toasts: short confirmations and errors, gone by themselves after a few
// seconds, or at once with their dismiss button (or a click anywhere on
// them). They live in a tray of their own below the page's scrolling area
// (see .toasts in app.css), so they never lie on top of a button.

import { h } from './dom.js';
import { icon } from './icons.js';

const ICONS = { success: 'check', error: 'alert', warn: 'timer', info: 'info' };
const LIFETIME_MS = 5000;
// The tray grows with every toast and the page's visible area shrinks by
// as much; three is enough to read a burst of events. (Phones show two.)
const MAX_VISIBLE = 3;

/** Toasts on screen that describe some state → {about, dismiss}. */
const shown = new Map();

/** Dismisses every toast whose about isStale(about) says is out of date. */
export function dismissToasts(isStale) {
  for (const [el, { about, dismiss }] of shown) {
    if (!el.isConnected) shown.delete(el);
    else if (isStale(about)) dismiss();
  }
}

/**
 * toast('success', 'Ticket confirmed', 'Seat C5 …'). about, if given,
 * names the state the toast describes (for example {screening, seat,
 * state}); dismissToasts() takes it away once that state is gone.
 */
export function toast(kind, title, text, about) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const dismiss = () => {
    if (el.classList.contains('leaving')) return;
    el.classList.add('leaving');
    shown.delete(el);
    setTimeout(() => el.remove(), 260);
  };
  const el = h('div', { class: 'toast', role: kind === 'error' ? 'alert' : 'status', dataset: { kind }, onclick: dismiss },
    h('span', { class: 'toast-icon', 'aria-hidden': 'true' }, icon(ICONS[kind] || ICONS.info)),
    h('div', { class: 'toast-body' }, h('div', { class: 'toast-title' }, title), text ? h('div', { class: 'toast-text' }, text) : null),
    h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss', title: 'Dismiss' }, icon('close')));
  if (about) shown.set(el, { about, dismiss });
  box.append(el);
  while (box.children.length > MAX_VISIBLE) box.firstElementChild.remove();
  setTimeout(dismiss, LIFETIME_MS);
}
