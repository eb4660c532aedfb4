// Toasts: short confirmations and errors in the corner, gone by
// themselves after a few seconds (or on click).

import { h } from './dom.js';
import { icon } from './icons.js';

const ICONS = { success: 'check', error: 'alert', warn: 'timer', info: 'info' };
const LIFETIME_MS = 5000;
const MAX_VISIBLE = 3;

/** toast('success', 'Ticket confirmed', 'Seat C5 …') */
export function toast(kind, title, text) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: 'toast', role: kind === 'error' ? 'alert' : 'status', dataset: { kind } },
    h('span', { class: 'toast-icon', 'aria-hidden': 'true' }, icon(ICONS[kind] || ICONS.info)),
    h('div', {}, h('div', { class: 'toast-title' }, title), text ? h('div', { class: 'toast-text' }, text) : null));
  const dismiss = () => {
    if (el.classList.contains('leaving')) return;
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 260);
  };
  el.addEventListener('click', dismiss);
  box.append(el);
  while (box.children.length > MAX_VISIBLE) box.firstElementChild.remove();
  setTimeout(dismiss, LIFETIME_MS);
}
