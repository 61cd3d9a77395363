import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The page's ES modules: `app.js`, the entry, and the modules it imports. */
const MODULES = [
  'app.js',
  'state.js',
  'format.js',
  'page.js',
  'charts.js',
  'connection.js',
  'elections.js',
  'members.js',
  'logs.js',
  'queues.js',
  'storage.js',
];

/** The files the page loads, by the name it asks for (nothing else is served). */
const FILES: Record<string, { type: string; local?: string; vendor?: string }> = {
  'index.html': { type: 'text/html; charset=utf-8', local: 'index.html' },
  ...Object.fromEntries(MODULES.map((name) => [name, { type: JS, local: name }])),
  'app.css': { type: CSS, local: 'app.css' },
  'uPlot.iife.min.js': { type: JS, vendor: 'uPlot.iife.min.js' },
  'uPlot.min.css': { type: CSS, vendor: 'uPlot.min.css' },
};

const cache = new Map<string, Buffer>();

/**
 * The page's files: `assets/` beside this module (copied into dist by the build), and uPlot's
 * from `assets/vendor/` (copied from the uplot package by the build) or, running from the
 * sources, from the installed uplot package.
 */
export function dashboardAsset(name: string): { type: string; body: Buffer } | undefined {
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!file) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = readFileSync(locate(file));
    cache.set(name, body);
  }
  return { type: file.type, body };
}

function locate(file: { local?: string; vendor?: string }): string {
  const assets = new URL('./assets/', import.meta.url);
  if (file.local) return fileURLToPath(new URL(file.local, assets));
  const vendored = fileURLToPath(new URL(`vendor/${file.vendor}`, assets));
  if (existsSync(vendored)) return vendored;
  return createRequire(import.meta.url).resolve(`uplot/dist/${file.vendor}`);
}
