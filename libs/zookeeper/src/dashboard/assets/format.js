/* The dashboard's text: escaping for HTML, JSON, times, stat boxes and query values. */

export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function json(value) {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** How long ago `since` (epoch ms) was. */
export function duration(since) {
  const s = Math.max(0, Math.round((Date.now() - since) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

export function stat(label, value, extra = '') {
  return `<div class="stat"><div class="label">${esc(label)}</div><div class="value ${extra}">${esc(value)}</div></div>`;
}

/** A path as a query value. */
export function key(path) {
  return encodeURIComponent(path);
}
