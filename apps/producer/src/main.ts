import 'reflect-metadata';
import { bootstrapDemoApp } from '../../shared/src/bootstrap.js';

await bootstrapDemoApp('producer', async () => (await import('./app.module.js')).AppModule);
