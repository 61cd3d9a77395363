/* The logs section: each broadcast log's size and subscribers, with rate and lag charts. */
import { chart } from './charts.js';
import { esc, stat } from './format.js';
import { $, cards } from './page.js';

export function renderLogs(logs) {
  for (const [log, el] of cards('logs', 'data-log', logs)) {
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
