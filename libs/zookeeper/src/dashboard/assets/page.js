/* The page's plumbing: lookups, the JSON API, the dialog, the live badge and cards. */
/* global document, window, fetch, CSS */
import { esc, time } from './format.js';
import { state } from './state.js';

export const $ = (selector, root = document) => root.querySelector(selector);

export async function api(path, options) {
  const response = await fetch(`api/${path}`, {
    headers: { 'content-type': 'application/json' },
    ...options,
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${response.status} ${response.statusText}`);
  return body;
}

export function dialog(title, body, actions = '') {
  $('#dialog-title').textContent = title;
  $('#dialog-body').textContent = body;
  $('#dialog-actions').innerHTML = `${actions}<button value="close">close</button>`;
  $('#dialog').showModal();
}

export function flash(message, bad) {
  const live = $('#live');
  live.textContent = message;
  live.className = `badge ${bad ? 'bad' : 'ok'}`;
  window.setTimeout(() => setLive(true), 2500);
}

export function setLive(on) {
  const live = $('#live');
  live.textContent = on
    ? `live · ${state.snapshot ? time(state.snapshot.at) : ''}`
    : 'reconnecting…';
  live.className = `badge ${on ? 'ok' : 'off'}`;
}

/**
 * A card per item (by its path) in a section, as `[item, card]` pairs; cards of paths no longer
 * listed are removed. Cards survive re-renders: `.info` is redrawn, `.charts` kept.
 */
export function cards(section, attr, items) {
  prune(
    section,
    attr,
    items.map((item) => item.path),
  );
  return items.map((item) => [item, card(section, attr, item.path)]);
}

function card(section, attr, path) {
  const body = $(`#${section} .body`);
  let el = body.querySelector(`[${attr}="${CSS.escape(path)}"]`);
  if (!el) {
    el = document.createElement('div');
    el.className = 'card';
    el.setAttribute(attr, path);
    el.innerHTML = `<h3><code>${esc(path)}</code></h3><div class="info"></div><div class="charts"></div><div class="extra"></div>`;
    body.appendChild(el);
  }
  return el;
}

function prune(section, attr, paths) {
  for (const el of document.querySelectorAll(`#${section} [${attr}]`)) {
    if (!paths.includes(el.getAttribute(attr))) el.remove();
  }
  const empty = $(`#${section} .body > .muted`);
  if (paths.length === 0 && !empty)
    $(`#${section} .body`).innerHTML = '<div class="muted">none configured</div>';
  if (paths.length > 0 && empty) empty.remove();
}
