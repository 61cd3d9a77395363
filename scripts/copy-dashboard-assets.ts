// Part of `npm run build:lib`: the dashboard's page (plain HTML/JS/CSS, no build step) goes into
// dist next to the compiled module, and uPlot's browser files are vendored from its npm package
// into dist/dashboard/assets/vendor, so the published package serves them without depending on
// uplot at run time.
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const source = join(root, 'libs/zookeeper/src/dashboard/assets');
const target = join(root, 'libs/zookeeper/dist/dashboard/assets');
cpSync(source, target, { recursive: true });
const uplot = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
mkdirSync(join(target, 'vendor'), { recursive: true });
for (const file of ['uPlot.iife.min.js', 'uPlot.min.css', '../LICENSE']) {
  const name = file === '../LICENSE' ? 'uPlot.LICENSE' : file;
  copyFileSync(join(uplot, 'dist', file), join(target, 'vendor', name));
}
console.log(`dashboard assets copied to ${target}`);
