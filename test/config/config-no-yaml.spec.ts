// Without the optional js-yaml (an app that did not install it), writing or reading a YAML
// document fails with a typed error naming the package and the command that installs it; JSON
// still works.
import { expect, it, jest } from '@jest/globals';
import { OptionalDependencyMissingError, ZookeeperError } from 'nestjs-zookeeper';
import { exportConfigLayer, importConfigLayer } from 'nestjs-zookeeper/config';
import { useTestConnections } from '../support/connect.js';

// The library imports js-yaml lazily, on first use: from then on in this file it cannot be had.
jest.unstable_mockModule('js-yaml', () => {
  throw new Error("Cannot find package 'js-yaml'");
});

const connections = useTestConnections('config-no-yaml');

it('refuses a YAML import with OptionalDependencyMissingError when js-yaml is not installed', async () => {
  const { zk } = connections;
  const refused = importConfigLayer(zk, '/config/app', { db: { host: 'db1' } }, { as: 'yaml' });
  await expect(refused).rejects.toBeInstanceOf(OptionalDependencyMissingError);
  await expect(refused).rejects.toBeInstanceOf(ZookeeperError);
  await expect(refused).rejects.toMatchObject({
    packageName: 'js-yaml',
    message: expect.stringContaining('npm install js-yaml'),
  });
  expect((await zk.get('/config/app')).data.length).toBe(0);

  await importConfigLayer(zk, '/config/app', { db: { host: 'db1' } }, { as: 'json' });
  expect(JSON.parse((await zk.get('/config/app')).data.toString())).toEqual({
    db: { host: 'db1' },
  });
});

it('refuses to export a layer with a YAML document with OptionalDependencyMissingError', async () => {
  const { zk } = connections;
  await zk.create('/config/yamlonly', 'rate: 5\n');
  const refused = exportConfigLayer(zk, '/config/yamlonly');
  await expect(refused).rejects.toBeInstanceOf(OptionalDependencyMissingError);
  await expect(refused).rejects.toMatchObject({
    packageName: 'js-yaml',
    message:
      'layer yamlonly: its document is not JSON, and reading it as YAML needs the optional ' +
      "package 'js-yaml', which is not installed: npm install js-yaml",
  });
});
