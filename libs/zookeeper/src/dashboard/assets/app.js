/*
 * ZooKeeper dashboard: plain ES modules, no build step (uPlot is loaded before them as a global).
 * This entry renders each sample into the sections; live data comes from api/events (SSE).
 */
/* global document, EventSource */
import { renderConnection } from './connection.js';
import { renderElections } from './elections.js';
import { esc } from './format.js';
import { renderLogs } from './logs.js';
import { renderMembers } from './members.js';
import { $, api, setLive } from './page.js';
import { renderQueues } from './queues.js';
import { state } from './state.js';
import { renderStorage } from './storage.js';

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
    // the server sends each sample with its chart point (the one its history keeps)
    if (!last || last.at < snapshot.at) state.history.push(snapshot.point);
    if (state.history.length > 600) state.history.shift();
    render(snapshot);
  };
  events.onerror = () => setLive(false);
}

start();
