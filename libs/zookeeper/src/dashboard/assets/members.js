/* The members section: groups' members and service registries' instances. */
import { duration, esc, json, time } from './format.js';
import { $ } from './page.js';

function memberTable(members) {
  return `<table><tr><th>member</th><th>data</th><th>since</th></tr>${members
    .map(
      (m) =>
        `<tr class="member"><td><code>${esc(m.node)}</code></td><td><code>${esc(json(m.data))}</code></td><td>${time(m.since)} <span class="muted">(${duration(m.since)})</span></td></tr>`,
    )
    .join('')}</table>`;
}

export function renderMembers(groups, registries) {
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
