/* Charts (uPlot, loaded before the modules as the global `uPlot`): one per kind and card. */
/* global document, uPlot */
import { $ } from './page.js';
import { state } from './state.js';

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

/**
 * Draws (or redraws) the chart `id` of a card from the history points: `pick` gives a point's
 * value per series of `names`. A chart whose id changed (other series) is made anew; its kind
 * is the id up to the first ':'.
 */
export function chart(el, id, title, names, pick) {
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
