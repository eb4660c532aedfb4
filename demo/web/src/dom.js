// Small DOM and formatting helpers. Everything the page shows is built
// with h(), which sets text, never HTML, so names typed by visitors cannot
// inject markup.

/** h('div', {class: 'x', onclick}, child, …) builds an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'style' && typeof value === 'object') {
      Object.assign(el.style, value); // CSSOM, allowed by the page's CSP
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of el. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const priceFormat = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' });

/** Unix milliseconds → "19:30" in the visitor's locale. */
export const time = (ms) => timeFormat.format(new Date(ms));

/** Cents → "€12.00". */
export const price = (cents) => priceFormat.format(cents / 100);

/** Milliseconds → "1:05". */
export function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "ada lovelace" → "AL". */
export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).slice(0, 2);
  return parts.map((p) => p[0] || '').join('').toUpperCase() || '?';
}

/** Capitalises a server error message for display. */
export function sentence(msg) {
  const s = String(msg || 'something went wrong');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
