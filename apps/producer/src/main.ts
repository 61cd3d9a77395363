import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { bootstrapDemoApp } from '../../shared/src/bootstrap.js';
import { producerHttpAdapter } from './http-adapter.js';

// `--rate N` is the command-line form of GENERATOR_RATE (validated with the rest of the env).
try {
  const { values } = parseArgs({ options: { rate: { type: 'string' } }, strict: true });
  if (values.rate !== undefined) process.env.GENERATOR_RATE = values.rate;
} catch (error) {
  console.error(`producer: ${(error as Error).message} (usage: main.js [--rate N])`);
  process.exit(2);
}

await bootstrapDemoApp(
  'producer',
  async () => (await import('./app.module.js')).AppModule,
  undefined,
  producerHttpAdapter,
);
