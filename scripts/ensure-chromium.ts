// Makes sure the dashboard's browser test (test/dashboard/dashboard-browser.spec.ts) can run:
// Debian's Chromium at /usr/bin/chromium (or CHROMIUM_PATH), installed with apt-get when running
// as root. puppeteer-core drives that browser; no browser is ever downloaded.
// Exit code 1 when it cannot be had and CHROMIUM_REQUIRED is set (CI), else 0 (the test skips).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const prefix = '[chromium:ensure]';
const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function version(): string | undefined {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch {
    return undefined;
  }
}

function install(): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(`${prefix} installing Debian's chromium with apt-get`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], {
    stdio: 'inherit',
    env,
  });
}

function main(): number {
  const started = Date.now();
  if (!existsSync(path)) {
    if (process.getuid?.() === 0 && !process.env.CHROMIUM_PATH) {
      try {
        install();
      } catch (error) {
        console.warn(`${prefix} apt-get failed: ${(error as Error).message}`);
      }
    } else {
      console.warn(`${prefix} ${path} is missing (install it: apt-get install chromium)`);
    }
  }
  const found = existsSync(path) ? version() : undefined;
  if (!found) {
    console.warn(`${prefix} no usable browser at ${path}: the dashboard's browser test will skip`);
    return process.env.CHROMIUM_REQUIRED ? 1 : 0;
  }
  console.log(`${prefix} ${found} at ${path} (${Date.now() - started} ms)`);
  return 0;
}

process.exit(main());
