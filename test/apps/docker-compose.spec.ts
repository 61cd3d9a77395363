import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { validateDemoEnv } from '../../apps/shared/src/demo-config.js';

// No Docker engine runs on the project's machines: the compose file and the Dockerfile are
// checked statically against what the apps and the README actually use.
interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
}

const compose = yaml.load(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync('Dockerfile', 'utf8');
const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
  scripts: Record<string, string>;
};
const appKeys = Object.keys(validateDemoEnv({ ZK_CONNECT: 'zk:2181' }));

describe('docker-compose.yml', () => {
  const zookeepers = ['zk1', 'zk2', 'zk3'].map((name) => [name, compose.services[name]] as const);

  it('runs a 3-node ensemble of a pinned official 3.8/3.9 image, with health checks and distinct ids', () => {
    const ids = new Set<unknown>();
    for (const [name, service] of zookeepers) {
      expect(service).toBeDefined();
      expect(service.image).toMatch(/^zookeeper:3\.[89]\.\d+$/);
      expect(service.healthcheck?.test.length).toBeGreaterThan(0);
      const servers = String(service.environment?.ZOO_SERVERS).split(' ');
      expect(servers).toEqual([
        'server.1=zk1:2888:3888;2181',
        'server.2=zk2:2888:3888;2181',
        'server.3=zk3:2888:3888;2181',
      ]);
      ids.add(service.environment?.ZOO_MY_ID);
      expect(servers[Number(service.environment?.ZOO_MY_ID) - 1]).toContain(`=${name}:`);
    }
    expect(ids.size).toBe(3);
  });

  it.each([
    ['producer', 2],
    ['consumer', 2],
  ])(
    '%s: built from the Dockerfile, reads only settings the app knows, listens where it publishes',
    (name, replicas) => {
      const service = compose.services[name];
      expect(service.build).toEqual({ context: '.', target: 'runtime' });
      expect(service.command).toEqual(['node', `dist/apps/${name}/src/main.js`]);
      expect(service.deploy?.replicas).toBeGreaterThanOrEqual(replicas);
      const environment = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [key, String(value)]),
      );
      for (const key of Object.keys(environment)) expect(appKeys).toContain(key);
      // The app accepts the environment as written (validation throws otherwise).
      const parsed = validateDemoEnv(environment);
      expect(parsed.ZK_CONNECT.split(',')).toEqual(['zk1:2181', 'zk2:2181', 'zk3:2181']);
      expect(parsed.HOST).toBe('0.0.0.0');
      expect(service.ports).toEqual([String(parsed.PORT)]);
      expect(Object.keys(service.depends_on ?? {}).sort()).toEqual(['zk1', 'zk2', 'zk3']);
    },
  );

  it('the Dockerfile builds with the README commands and ships the entry points compose runs', () => {
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
    expect(packageJson.scripts.build).toContain('build:lib');
    expect(packageJson.scripts.build).toContain('build:apps');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS runtime$/m);
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toContain(
      'COPY --from=build /app/libs/zookeeper/dist ./libs/zookeeper/dist',
    );
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('npm ci');
    expect(readme).toContain('docker compose up --build');
  });
});
