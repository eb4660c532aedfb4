// Icons as inline SVG, drawn with strokes in currentColor. Characters such
// as a stopwatch or a check mark need a font that has them; on a machine
// with only DejaVu (or none) they render as empty boxes. SVG needs no
// font, no network and no CSP exception.

const NS = 'http://www.w3.org/2000/svg';

// 24×24 path data, stroked.
const PATHS = {
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  alert: ['M12 3.5l9 16H3z', 'M12 10v4.5', 'M12 17.2v.3'],
  timer: ['M12 21a7.5 7.5 0 1 0 0-15 7.5 7.5 0 0 0 0 15z', 'M12 10v3.5l2.5 1.5', 'M9.5 2.5h5', 'M18.5 6.5l1.5-1.5'],
  info: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 11v6', 'M12 7.3v.3'],
  close: ['M6.5 6.5l11 11', 'M17.5 6.5l-11 11'],
};

/** icon('check') → an <svg> the size of the surrounding text, hidden from screen readers. */
export function icon(name) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of PATHS[name] || PATHS.info) {
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
