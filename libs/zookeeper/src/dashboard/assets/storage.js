/* The storage browser (on demand); with storageWrites, keys are edited and deleted here. */
/* global document, confirm */
import { esc, json, key } from './format.js';
import { $, api, flash } from './page.js';
import { state } from './state.js';

export function renderStorage(roots) {
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
