import 'reflect-metadata';
import { bootstrapDemoApp } from '../../shared/src/bootstrap.js';
import { startConsumerTransport } from './consumer-transport.js';

await bootstrapDemoApp(
  'consumer',
  async () => (await import('./app.module.js')).AppModule,
  startConsumerTransport,
);
