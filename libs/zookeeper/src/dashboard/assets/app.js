/* ZooKeeper dashboard: plain script, no build step. Live data comes from api/events (SSE). */
/* global document, window, fetch, EventSource, uPlot, confirm, CSS */
'use strict';

(function () {
  const state = { snapshot: undefined, history: [], charts: new Map(), openDead: new Set() };
  const $ = (selector, root = document) => root.querySelector(selector);

  function esc(value) {
    return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }
  function json(value) {
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  }
  function ago(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }
  /** How long ago `since` (epoch ms) was. */
  function duration(since) {
    return ago(since);
  }
  function time(ms) {
    return new Date(ms).toLocaleTimeString();
  }
  function stat(label, value, extra = '') {
    return `<div class="stat"><div class="label">${esc(label)}</div><div class="value ${extra}">${esc(value)}</div></div>`;
  }
  function key(path) {
    return encodeURIComponent(path);
  }

  async function api(path, options) {
    const response = await fetch(`api/${path}`, {
      headers: { 'content-type': 'application/json' },
      ...options,
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || `${response.status} ${response.statusText}`);
    return body;
  }

  // ---------------------------------------------------------------------------------------------
  // sections
  // ---------------------------------------------------------------------------------------------
  function renderConnection(c) {
    const ok = c.state === 'CONNECTED' || c.state === 'RECONNECTED';
    let html = `<div class="grid">
      ${stat('state', c.state, `conn-state ${ok ? '' : 'muted'}`)}
      ${stat('session', c.sessionId || '-', 'conn-session')}
      ${stat('negotiated timeout', c.negotiatedTimeoutMs ? `${c.negotiatedTimeoutMs} ms` : '-')}
      ${stat('driver', c.driver)}
      ${stat('namespace', c.namespace)}
    </div><div class="muted">connect string: <code>${esc(c.connectString)}</code></div>`;
    if (c.ensemble) {
      html += `<table><tr><th>server</th><th>mode</th><th>zxid</th></tr>${c.ensemble
        .map(
          (s) =>
            `<tr><td><code>${esc(s.server)}</code></td><td>${
              s.mode
                ? `<span class="badge ${s.mode === 'leader' ? 'ok' : ''}">${esc(s.mode)}</span>`
                : `<span class="badge bad">${esc(s.error || '?')}</span>`
            }</td><td>${esc(s.zxid || '')}</td></tr>`,
        )
        .join('')}</table>`;
      if (c.leader) html += `<div>ensemble leader: <b>${esc(c.leader)}</b></div>`;
    }
    $('#connection .body').innerHTML = html;
  }

  function renderElections(elections) {
    $('#elections .body').innerHTML =
      elections
        .map(
          (e) => `<div class="card" data-election="${esc(e.path)}">
        <h3><code>${esc(e.path)}</code></h3>
        <div>leader: ${
          e.leader
            ? `<b class="leader">${esc(e.leader.participantId)}</b> <span class="muted">for ${duration(e.leader.since)}</span>`
            : '<span class="badge bad leader-none">none</span>'
        }</div>
        <table><tr><th>#</th><th>candidate</th><th>node</th><th>waiting since</th></tr>${e.candidates
          .map(
            (c, i) =>
              `<tr class="candidate"><td>${i + 1}</td><td>${esc(c.participantId)}</td><td><code>${esc(c.node)}</code></td><td>${time(c.since)}</td></tr>`,
          )
          .join('')}</table>
        ${
          e.history.length
            ? `<div class="muted">earlier leaders</div><table class="history"><tr><th>leader</th><th>from</th><th>to</th><th>led for</th></tr>${e.history
                .map(
                  (t) =>
                    `<tr><td>${esc(t.participantId)}</td><td>${time(t.from)}</td><td>${time(t.to)}</td><td>${Math.round(t.durationMs / 100) / 10}s</td></tr>`,
                )
                .join('')}</table>`
            : ''
        }
      </div>`,
        )
        .join('') || '<div class="muted">no elections configured</div>';
  }

  function memberTable(members) {
    return `<table><tr><th>member</th><th>data</th><th>since</th></tr>${members
      .map(
        (m) =>
          `<tr class="member"><td><code>${esc(m.node)}</code></td><td><code>${esc(json(m.data))}</code></td><td>${time(m.since)} <span class="muted">(${duration(m.since)})</span></td></tr>`,
      )
      .join('')}</table>`;
  }

  function renderMembers(groups, registries) {
    const html = [
      ...groups.map(
        (g) => `<div class="card" data-group="${esc(g.path)}"><h3><code>${esc(g.path)}</code>
          <span class="badge members-count">${g.count} members</span></h3>
          ${g.members ? memberTable(g.members) : '<div class="muted">too many to list</div>'}</div>`,
      ),
      ...registries.map(
        (
          r,
        ) => `<div class="card" data-registry="${esc(r.basePath)}"><h3>registry <code>${esc(r.basePath)}</code></h3>
          ${
            r.services
              .map(
                (s) =>
                  `<div><b>${esc(s.name)}</b> (${s.instances.length})</div>${memberTable(s.instances)}`,
              )
              .join('') || '<div class="muted">no services</div>'
          }</div>`,
      ),
    ].join('');
    $('#members .body').innerHTML = html || '<div class="muted">no groups configured</div>';
  }

  /** A card per path whose charts survive re-renders: `.info` is redrawn, `.charts` kept. */
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

  function renderLogs(logs) {
    prune(
      'logs',
      'data-log',
      logs.map((l) => l.path),
    );
    for (const log of logs) {
      const el = card('logs', 'data-log', log.path);
      $('.info', el).innerHTML = `<div class="grid">
        ${stat('entries (batches)', log.entries)}
        ${stat('messages', log.messages ?? '?', 'log-messages')}
        ${stat('first offset', log.firstOffset ?? '-')}
        ${stat('last offset', log.lastOffset ?? '-', 'log-last')}
        ${stat('messages / s', log.messagesPerSecond)}
        ${stat('live subscriptions', log.clients)}
      </div>
      <table><tr><th>subscriber</th><th>committed offset</th><th>lag (messages)</th></tr>${log.subscribers
        .map(
          (s) =>
            `<tr class="subscriber"><td>${esc(s.id)}</td><td>${s.committedOffset}</td><td>${s.lag ?? '?'}</td></tr>`,
        )
        .join('')}</table>`;
      const subscribers = log.subscribers.map((s) => s.id);
      chart(el, `log-rate:${log.path}`, 'messages / s', ['messages/s'], (p) => {
        const l = p.logs[log.path];
        return [l ? l.rate : null];
      });
      chart(
        el,
        `log-lag:${log.path}:${subscribers.join(',')}`,
        'lag per subscriber',
        subscribers,
        (p) => {
          const l = p.logs[log.path];
          return subscribers.map((id) => (l && l.lag[id] !== undefined ? l.lag[id] : null));
        },
      );
    }
  }

  function renderQueues(queues, readOnly) {
    prune(
      'queues',
      'data-queue',
      queues.map((q) => q.path),
    );
    for (const queue of queues) {
      const el = card('queues', 'data-queue', queue.path);
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

  // ---------------------------------------------------------------------------------------------
  // charts (uPlot): one per key, fed from the history points
  // ---------------------------------------------------------------------------------------------
  const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

  function chart(el, id, title, names, pick) {
    const data = [state.history.map((p) => p.at / 1000)];
    names.forEach(() => data.push([]));
    for (const point of state.history) pick(point).forEach((v, i) => data[i + 1].push(v));
    let entry = state.charts.get(el);
    if (!entry) state.charts.set(el, (entry = new Map()));
    const prefix = id.split(':')[0];
    let existing = entry.get(prefix);
    if (existing && existing.id !== id) {
      existing.plot.destroy();
      existing.holder.remove();
      existing = undefined;
    }
    if (!existing) {
      const holder = document.createElement('div');
      $('.charts', el).appendChild(holder);
      const plot = new uPlot(
        {
          title,
          width: 420,
          height: 170,
          series: [
            {},
            ...names.map((name, i) => ({
              label: name,
              stroke: COLORS[i % COLORS.length],
              width: 1.5,
            })),
          ],
          axes: [{}, { size: 50 }],
          legend: { show: names.length > 0 },
        },
        data,
        holder,
      );
      entry.set(prefix, { id, plot, holder });
    } else {
      existing.plot.setData(data);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // storage browser (on demand; set and delete with storageWrites)
  // ---------------------------------------------------------------------------------------------
  function renderStorage(roots) {
    const body = $('#storage .body');
    if (body.dataset.roots === roots.join('\n')) return;
    body.dataset.roots = roots.join('\n');
    if (!roots.length) {
      body.innerHTML = '<div class="muted">no storage roots configured</div>';
      return;
    }
    body.innerHTML = `<div class="tree"><ul class="roots">${roots
      .map((r) => `<li data-path="${esc(r)}" data-children="1"><span>▸ ${esc(r)}</span></li>`)
      .join('')}</ul><div class="value muted">pick a key</div></div>`;
    body.onclick = (event) => {
      const span = event.target.closest('li > span');
      if (span) expand(span.parentElement);
    };
  }

  async function expand(li) {
    const path = li.dataset.path;
    const open = li.querySelector('ul');
    if (open) {
      open.remove();
      return;
    }
    const target = $('#storage .value');
    try {
      await showValue(path);
      if (li.dataset.children === '0') return;
      const { total, children } = await api(`storage/children?path=${key(path)}`);
      const ul = document.createElement('ul');
      ul.innerHTML =
        children
          .map((c) => {
            const child = path === '/' ? `/${c.name}` : `${path}/${c.name}`;
            return `<li data-path="${esc(child)}" data-children="${c.children}"><span>${c.children ? '▸' : '•'} ${esc(c.name)}${c.children ? ` <span class="muted">(${c.children})</span>` : ''}</span></li>`;
          })
          .join('') +
        (total > children.length ? `<li class="muted">… ${total - children.length} more</li>` : '');
      li.appendChild(ul);
    } catch (error) {
      target.innerHTML = `<span class="badge bad">${esc(error.message)}</span>`;
    }
  }

  /** Shows a key's value; with storageWrites, as an editor with save and delete. */
  async function showValue(path) {
    const target = $('#storage .value');
    const value = await api(`storage/value?path=${key(path)}`).catch(() => undefined);
    if (!value) return;
    const writable = state.snapshot && state.snapshot.storageWrites && !isRoot(path);
    target.classList.remove('muted');
    target.dataset.path = path;
    const meta = `<div><code>${esc(path)}</code> <span class="muted storage-meta">version ${value.version}, ${value.bytes} bytes, modified ${new Date(value.modifiedAt).toLocaleString()}</span></div>`;
    if (!writable) {
      target.innerHTML = `${meta}<pre class="storage-value">${esc(json(value.value))}</pre>`;
      return;
    }
    target.innerHTML = `${meta}<textarea class="storage-edit" rows="8" spellcheck="false">${esc(
      JSON.stringify(value.value, null, 2),
    )}</textarea>
      <div class="actions">
        <button class="storage-save">save</button>
        <button class="storage-delete danger">delete key</button>
        <span class="storage-error badge bad" hidden></span>
      </div>`;
    $('.storage-save', target).onclick = () => saveValue(path, value.version);
    $('.storage-delete', target).onclick = () => deleteKey(path, value.version);
  }

  function isRoot(path) {
    return (state.snapshot ? state.snapshot.storageRoots : []).includes(path);
  }

  function storageProblem(message) {
    const problem = $('#storage .storage-error');
    if (!problem) return flash(message, true);
    problem.textContent = message;
    problem.hidden = false;
  }

  async function saveValue(path, version) {
    const text = $('#storage .storage-edit').value;
    try {
      JSON.parse(text);
    } catch (error) {
      storageProblem(`not JSON: ${error.message}`);
      return;
    }
    try {
      await api('storage/set', {
        method: 'POST',
        body: JSON.stringify({ path, json: text, expectedVersion: version }),
      });
      flash(`saved ${path}`);
      await showValue(path);
    } catch (error) {
      storageProblem(error.message);
    }
  }

  async function deleteKey(path, version) {
    if (!confirm(`Delete the key ${path} for good?`)) return;
    try {
      await api('storage/delete', {
        method: 'POST',
        body: JSON.stringify({ path, expectedVersion: version }),
      });
      flash(`deleted ${path}`);
      for (const li of document.querySelectorAll('#storage li[data-path]')) {
        if (li.dataset.path === path) li.remove();
      }
      const target = $('#storage .value');
      target.className = 'value muted';
      target.textContent = `deleted ${path}`;
    } catch (error) {
      storageProblem(error.message);
    }
  }

  // ---------------------------------------------------------------------------------------------
  function dialog(title, body, actions = '') {
    $('#dialog-title').textContent = title;
    $('#dialog-body').textContent = body;
    $('#dialog-actions').innerHTML = `${actions}<button value="close">close</button>`;
    $('#dialog').showModal();
  }

  function flash(message, bad) {
    const live = $('#live');
    live.textContent = message;
    live.className = `badge ${bad ? 'bad' : 'ok'}`;
    window.setTimeout(() => setLive(true), 2500);
  }

  function setLive(on) {
    const live = $('#live');
    live.textContent = on
      ? `live · ${state.snapshot ? time(state.snapshot.at) : ''}`
      : 'reconnecting…';
    live.className = `badge ${on ? 'ok' : 'off'}`;
  }

  function render(snapshot) {
    state.snapshot = snapshot;
    document.title = `${snapshot.title} dashboard`;
    $('#title').textContent = snapshot.title;
    renderConnection(snapshot.connection);
    renderElections(snapshot.elections);
    renderMembers(snapshot.memberships, snapshot.services);
    renderLogs(snapshot.logs);
    renderQueues(snapshot.queues, snapshot.readOnly);
    renderStorage(snapshot.storageRoots);
    $('#errors').innerHTML = snapshot.errors
      .map((e) => `<div><code>${esc(e.path)}</code>: ${esc(e.message)}</div>`)
      .join('');
    document.body.dataset.sampledAt = String(snapshot.at);
    setLive(true);
  }

  function toPoint(s) {
    const point = { at: s.at, queues: {}, logs: {} };
    for (const q of s.queues) {
      point.queues[q.path] = {
        items: q.items,
        messages: q.messages,
        inFlight: q.inFlight.length,
        published: q.publishedPerSecond,
        finished: q.finishedPerSecond,
      };
    }
    for (const l of s.logs) {
      const lag = {};
      for (const sub of l.subscribers) if (sub.lag !== undefined) lag[sub.id] = sub.lag;
      point.logs[l.path] = { rate: l.messagesPerSecond, lag };
    }
    return point;
  }

  async function start() {
    try {
      const { snapshot, history } = await api('snapshot');
      state.history = history.slice();
      render(snapshot);
    } catch (error) {
      $('#errors').textContent = error.message;
    }
    const events = new EventSource('api/events');
    events.onmessage = (event) => {
      const snapshot = JSON.parse(event.data);
      const last = state.history[state.history.length - 1];
      if (!last || last.at < snapshot.at) state.history.push(toPoint(snapshot));
      if (state.history.length > 600) state.history.shift();
      render(snapshot);
    };
    events.onerror = () => setLive(false);
  }

  start();
})();
