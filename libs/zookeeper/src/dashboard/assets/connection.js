/* The connection section: state, session, and the ensemble's servers (fourLetterWords). */
import { esc, stat } from './format.js';
import { $ } from './page.js';

export function renderConnection(c) {
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
