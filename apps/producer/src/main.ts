import 'reflect-metadata';
import { bootstrapDemoApp } from '../../shared/src/bootstrap.js';

// `--rate N` is the command-line form of GENERATOR_RATE (validated with the rest of the env).
const rateFlag = process.argv.indexOf('--rate');
if (rateFlag !== -1) process.env.GENERATOR_RATE = process.argv[rateFlag + 1] ?? '';

await bootstrapDemoApp('producer', async () => (await import('./app.module.js')).AppModule);
