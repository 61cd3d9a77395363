/* The queues section: depth, in-flight items and rates with charts; dead letters on demand. */
/* global confirm */
import { chart } from './charts.js';
import { duration, esc, json, key, stat, time } from './format.js';
import { $, api, cards, dialog, flash } from './page.js';
import { state } from './state.js';

export function renderQueues(queues, readOnly) {
  for (const [queue, el] of cards('queues', 'data-queue', queues)) {
    $('.info', el).innerHTML = `<div class="grid">
      ${stat('depth (messages)', queue.messages ?? '?', 'depth')}
      ${stat('items (batches)', queue.items, 'items')}
      ${stat('in flight', queue.inFlight.length, 'in-flight')}
      ${stat('published / s', queue.publishedPerSecond)}
      ${stat('finished / s', queue.finishedPerSecond)}
      ${stat('dead letters', queue.deadLetters, 'dead-count')}
    </div>
    ${
      queue.inFlight.length
        ? `<table><tr><th>item in flight</th><th>held by session</th><th>since</th></tr>${queue.inFlight
            .map(
              (f) =>
                `<tr><td><code>${esc(f.item)}</code></td><td><code>0x${esc(f.session)}</code></td><td>${duration(f.since)}</td></tr>`,
            )
            .join('')}</table>`
        : ''
    }
    <div class="actions">
      <button class="show-dead" ${queue.deadLetters ? '' : 'disabled'}>dead letters (${queue.deadLetters})</button>
      <button class="replay-all" ${queue.deadLetters && !readOnly ? '' : 'disabled'}>replay all</button>
      <button class="discard-all danger" ${queue.deadLetters && !readOnly ? '' : 'disabled'}>delete all</button>
    </div>`;
    $('.show-dead', el).onclick = () => toggleDead(queue.path, el);
    $('.replay-all', el).onclick = () => act('replay', queue.path, undefined, el);
    $('.discard-all', el).onclick = () => act('discard', queue.path, undefined, el);
    chart(
      el,
      `queue-depth:${queue.path}`,
      'depth and in flight',
      ['messages', 'items', 'in flight'],
      (p) => {
        const q = p.queues[queue.path];
        return q ? [q.messages ?? null, q.items, q.inFlight] : [null, null, null];
      },
    );
    chart(el, `queue-rate:${queue.path}`, 'messages / s', ['published', 'finished'], (p) => {
      const q = p.queues[queue.path];
      return q ? [q.published, q.finished] : [null, null];
    });
    if (state.openDead.has(queue.path) && queue.deadLetters !== Number(el.dataset.deadShown)) {
      loadDead(queue.path, el);
    }
  }
}

async function toggleDead(path, el) {
  if (state.openDead.has(path)) {
    state.openDead.delete(path);
    $('.extra', el).innerHTML = '';
    delete el.dataset.deadShown;
    return;
  }
  state.openDead.add(path);
  await loadDead(path, el);
}

async function loadDead(path, el) {
  const readOnly = state.snapshot && state.snapshot.readOnly;
  try {
    const { total, letters } = await api(`queues/dead-letters?queue=${key(path)}`);
    el.dataset.deadShown = String(total);
    $('.extra', el).innerHTML =
      `<h3>dead letters (${total}${total > letters.length ? `, oldest ${letters.length} shown` : ''})</h3>
      <table><tr><th>id</th><th>error</th><th>attempts</th><th>failed at</th><th></th></tr>${letters
        .map(
          (
            l,
          ) => `<tr class="dead-letter" data-id="${esc(l.id)}"><td><code>${esc(l.id)}</code></td><td>${esc(l.error || '')}</td>
            <td>${l.attempts ?? ''}</td><td>${l.failedAt ? time(l.failedAt) : ''}</td>
            <td><button class="view">view</button> <button class="replay" ${readOnly ? 'disabled' : ''}>replay</button>
            <button class="discard danger" ${readOnly ? 'disabled' : ''}>delete</button></td></tr>`,
        )
        .join('')}</table>`;
    for (const row of el.querySelectorAll('.dead-letter')) {
      const id = row.dataset.id;
      const letter = letters.find((l) => l.id === id);
      $('.view', row).onclick = () =>
        dialog(
          `dead letter ${id}`,
          json({
            message: letter.message,
            error: letter.error,
            attempts: letter.attempts,
            item: letter.item,
            index: letter.index,
          }),
        );
      $('.replay', row).onclick = () => act('replay', path, [id], el);
      $('.discard', row).onclick = () => act('discard', path, [id], el);
    }
  } catch (error) {
    $('.extra', el).innerHTML = `<div class="badge bad">${esc(error.message)}</div>`;
  }
}

async function act(kind, path, ids, el) {
  const what = ids ? `dead letter ${ids.join(', ')}` : `all dead letters of ${path}`;
  const verb = kind === 'replay' ? 'Replay' : 'Delete for good';
  if (!confirm(`${verb} ${what}?`)) return;
  try {
    const result = await api(`queues/${kind}`, {
      method: 'POST',
      body: JSON.stringify(ids ? { queue: path, ids } : { queue: path }),
    });
    flash(kind === 'replay' ? `replayed ${result.replayed}` : `deleted ${result.deleted}`);
    if (state.openDead.has(path)) await loadDead(path, el);
  } catch (error) {
    flash(error.message, true);
  }
}
