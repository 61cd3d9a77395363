/* The elections section: each election's leader, candidates in order, and earlier leaders. */
import { duration, esc, time } from './format.js';
import { $ } from './page.js';

export function renderElections(elections) {
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
