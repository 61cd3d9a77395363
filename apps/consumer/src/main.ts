import 'reflect-metadata';
import { bootstrapDemoApp } from '../../shared/src/bootstrap.js';

await bootstrapDemoApp('consumer', async () => (await import('./app.module.js')).AppModule);
