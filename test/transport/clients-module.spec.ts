import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Controller, Inject, Injectable, INestMicroservice, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { ClientProxy, ClientsModule, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { ClientZookeeper, ServerZookeeper } from 'nestjs-zookeeper/transport';
import {
  silentLogger,
  TestConnections,
  testConnectString,
  testNamespace,
} from '../support/connect.js';

const namespace = testNamespace('clients-module');
const connections = new TestConnections(namespace);
const ROOT = '/svc';
let service: INestMicroservice;

@Controller()
class GreetController {
  @MessagePattern('greet')
  greet(@Payload() name: string): string {
    return `hello ${name}`;
  }
}

@Module({ controllers: [GreetController] })
class GreetModule {}

@Injectable()
class Greeter {
  constructor(
    @Inject('GREET') readonly registered: ClientProxy,
    @Inject('GREET_ASYNC') readonly configured: ClientProxy,
  ) {}
}

beforeAll(async () => {
  service = await NestFactory.createMicroservice(GreetModule, {
    strategy: new ServerZookeeper({ connection: await connections.open(), root: ROOT }),
    logger: false,
  });
  await service.listen();
});

afterAll(async () => {
  await service.close();
  await connections.closeAll();
});

it('ClientsModule.register and registerAsync (with ConfigService) build working clients', async () => {
  const connectionOptions = {
    connectString: testConnectString(),
    namespace,
    logger: silentLogger,
  };
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ ZK_ROOT: ROOT })] }),
      ClientsModule.register([
        { name: 'GREET', customClass: ClientZookeeper, options: { connectionOptions, root: ROOT } },
      ]),
      ClientsModule.registerAsync([
        {
          name: 'GREET_ASYNC',
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            customClass: ClientZookeeper,
            options: { connectionOptions, root: config.getOrThrow<string>('ZK_ROOT') },
          }),
        },
      ]),
    ],
    providers: [Greeter],
  }).compile();
  const app = await moduleRef.init();
  const greeter = app.get(Greeter);
  expect(greeter.registered).toBeInstanceOf(ClientZookeeper);
  expect(await firstValueFrom(greeter.registered.send('greet', 'nest'))).toBe('hello nest');
  expect(await firstValueFrom(greeter.configured.send('greet', 'config'))).toBe('hello config');
  // Closing the module closes the clients (and the connections they opened).
  await app.close();
  const observer = await connections.open();
  expect(await observer.getChildren(`${ROOT}/clients`)).toEqual([]);
});
