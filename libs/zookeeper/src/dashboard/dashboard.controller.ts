import {
  BadRequestException,
  Body,
  CanActivate,
  Controller,
  ForbiddenException,
  Get,
  Header,
  HttpCode,
  HttpException,
  HttpStatus,
  MessageEvent,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Sse,
  StreamableFile,
  Type,
  UseGuards,
} from '@nestjs/common';
import { map, Observable } from 'rxjs';
import { SerializationError } from '../codec/serialization-error.js';
import { InvalidOptionsError, InvalidPathError } from '../errors/library-errors.js';
import { BadVersionError, NoNodeError, NotEmptyError } from '../errors/zookeeper-errors.js';
import { InvalidKeyError, ValueTooLargeError } from '../storage/storage-errors.js';
import { dashboardAsset } from './dashboard-assets.js';
import { DashboardEnabledGuard } from './dashboard-enabled.guard.js';
import { OutsideStorageRootsError, ZookeeperDashboardService } from './dashboard.service.js';

interface HttpRequest {
  originalUrl?: string;
  url?: string;
}

interface ActionBody {
  queue?: unknown;
  ids?: unknown;
}

async function asHttp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidOptionsError || error instanceof InvalidPathError) {
      throw new BadRequestException(error.message);
    }
    throw error;
  }
}

interface StorageBody {
  path?: unknown;
  /** The new value as JSON text (set). */
  json?: unknown;
  expectedVersion?: unknown;
}

/** What a storage write answers on failure: `{ statusCode, error, code, message }`. */
export type StorageErrorCode =
  | 'STORAGE_WRITES_DISABLED'
  | 'INVALID_JSON'
  | 'INVALID_KEY'
  | 'INVALID_REQUEST'
  | 'OUTSIDE_STORAGE_ROOTS'
  | 'NOT_FOUND'
  | 'VERSION_CONFLICT'
  | 'HAS_CHILD_KEYS'
  | 'VALUE_TOO_LARGE';

function storageError(status: HttpStatus, code: StorageErrorCode, message: string): HttpException {
  const error = HttpStatus[status]
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
  return new HttpException({ statusCode: status, error, code, message }, status);
}

/** A storage write, its failures as typed JSON errors with their HTTP status. */
async function asStorageHttp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof HttpException) throw error;
    if (error instanceof InvalidKeyError || error instanceof InvalidPathError) {
      throw storageError(HttpStatus.BAD_REQUEST, 'INVALID_KEY', message);
    }
    if (error instanceof InvalidOptionsError) {
      const outside = error instanceof OutsideStorageRootsError;
      throw storageError(
        HttpStatus.BAD_REQUEST,
        outside ? 'OUTSIDE_STORAGE_ROOTS' : 'INVALID_REQUEST',
        message,
      );
    }
    if (error instanceof SerializationError) {
      throw storageError(HttpStatus.BAD_REQUEST, 'INVALID_JSON', message);
    }
    if (error instanceof NoNodeError) {
      throw storageError(HttpStatus.NOT_FOUND, 'NOT_FOUND', message);
    }
    if (error instanceof BadVersionError) {
      throw storageError(HttpStatus.CONFLICT, 'VERSION_CONFLICT', message);
    }
    if (error instanceof NotEmptyError) {
      throw storageError(HttpStatus.CONFLICT, 'HAS_CHILD_KEYS', message);
    }
    if (error instanceof ValueTooLargeError) {
      throw storageError(HttpStatus.PAYLOAD_TOO_LARGE, 'VALUE_TOO_LARGE', message);
    }
    throw error;
  }
}

function storagePathOf(body: StorageBody): string {
  if (typeof body.path !== 'string' || body.path === '') {
    throw storageError(HttpStatus.BAD_REQUEST, 'INVALID_KEY', 'path is required');
  }
  return body.path;
}

function expectedVersionOf(body: StorageBody): number | undefined {
  if (body.expectedVersion === undefined || body.expectedVersion === null) return undefined;
  if (typeof body.expectedVersion !== 'number') {
    throw storageError(
      HttpStatus.BAD_REQUEST,
      'INVALID_REQUEST',
      'expectedVersion must be a number',
    );
  }
  return body.expectedVersion;
}

function parsedJson(body: StorageBody): unknown {
  if (typeof body.json !== 'string') {
    throw storageError(
      HttpStatus.BAD_REQUEST,
      'INVALID_JSON',
      'json (the value as JSON text) is required',
    );
  }
  try {
    return JSON.parse(body.json);
  } catch (error) {
    throw storageError(
      HttpStatus.BAD_REQUEST,
      'INVALID_JSON',
      `not JSON: ${(error as Error).message}`,
    );
  }
}

function idsOf(body: ActionBody): string[] | undefined {
  if (body.ids === undefined) return undefined;
  if (!Array.isArray(body.ids)) throw new BadRequestException('ids must be an array of strings');
  return body.ids as string[];
}

function queueOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new BadRequestException('queue is required');
  return value;
}

/** The dashboard's routes under `path`: the page, its files, the JSON API and the event stream. */
export function createDashboardController(
  path: string,
  guards: Type<CanActivate>[],
): Type<unknown> {
  @Controller(path)
  @UseGuards(DashboardEnabledGuard, ...guards)
  class ZookeeperDashboardController {
    constructor(private readonly dashboard: ZookeeperDashboardService) {}

    // Returned as StreamableFile with the type given (no `@Res()`): the same on Express and
    // Fastify, through the platform's own reply.
    @Get()
    @Header('Cache-Control', 'no-store')
    page(@Req() request: HttpRequest): StreamableFile {
      const asset = dashboardAsset('index.html')!;
      // Relative URLs of the page resolve under the mount path, with or without a final '/'.
      const url = (request.originalUrl ?? request.url ?? '/').split('?')[0];
      const base = url.endsWith('/') ? url : `${url}/`;
      const html = asset.body
        .toString('utf8')
        .replace('<head>', `<head>\n    <base href="${escapeHtml(base)}" />`);
      return new StreamableFile(Buffer.from(html, 'utf8'), { type: asset.type });
    }

    @Get('assets/:file')
    @Header('Cache-Control', 'public, max-age=300')
    asset(@Param('file') file: string): StreamableFile {
      const asset = dashboardAsset(file);
      if (!asset || file === 'index.html') throw new NotFoundException();
      return new StreamableFile(asset.body, { type: asset.type });
    }

    @Get('api/snapshot')
    async snapshot() {
      return { snapshot: await this.dashboard.snapshot(), history: this.dashboard.points };
    }

    @Sse('api/events')
    events(): Observable<MessageEvent> {
      return this.dashboard.snapshots$.pipe(map((snapshot) => ({ data: snapshot })));
    }

    @Get('api/queues/dead-letters')
    deadLetters(@Query('queue') queue: unknown) {
      return asHttp(() => this.dashboard.deadLetters(queueOf(queue)));
    }

    @Get('api/queues/dead-letter')
    async deadLetter(@Query('queue') queue: unknown, @Query('id') id: unknown) {
      const letter = await asHttp(() => this.dashboard.deadLetter(queueOf(queue), String(id)));
      if (!letter) throw new NotFoundException(`no dead letter ${String(id)}`);
      return letter;
    }

    @Post('api/queues/replay')
    @HttpCode(200)
    async replay(@Body() body: ActionBody = {}) {
      this.writable();
      const replayed = await asHttp(() => this.dashboard.replay(queueOf(body.queue), idsOf(body)));
      return { replayed };
    }

    @Post('api/queues/discard')
    @HttpCode(200)
    async discard(@Body() body: ActionBody = {}) {
      this.writable();
      const deleted = await asHttp(() => this.dashboard.discard(queueOf(body.queue), idsOf(body)));
      return { deleted };
    }

    @Get('api/storage/children')
    storageChildren(@Query('path') path: unknown) {
      return asHttp(() => this.dashboard.storageChildren(String(path ?? '')));
    }

    @Get('api/storage/value')
    async storageValue(@Query('path') path: unknown) {
      const value = await asHttp(() => this.dashboard.storageValue(String(path ?? '')));
      if (!value) throw new NotFoundException(`no node ${String(path)}`);
      return value;
    }

    @Post('api/storage/set')
    @HttpCode(200)
    storageSet(@Body() body: StorageBody = {}) {
      return asStorageHttp(() => {
        this.storageWritable();
        const path = storagePathOf(body);
        const value = parsedJson(body);
        return this.dashboard.setStorageValue(path, value, expectedVersionOf(body));
      });
    }

    @Post('api/storage/delete')
    @HttpCode(200)
    storageDelete(@Body() body: StorageBody = {}) {
      return asStorageHttp(async () => {
        this.storageWritable();
        const path = storagePathOf(body);
        await this.dashboard.deleteStorageKey(path, expectedVersionOf(body));
        return { path, deleted: true };
      });
    }

    private storageWritable(): void {
      if (!this.dashboard.storageWrites) {
        throw storageError(
          HttpStatus.FORBIDDEN,
          'STORAGE_WRITES_DISABLED',
          this.dashboard.readOnly
            ? 'the dashboard is read-only (readOnly: true)'
            : 'storage writes are off (storageWrites: false)',
        );
      }
    }

    private writable(): void {
      if (this.dashboard.readOnly) {
        throw new ForbiddenException('the dashboard is read-only (readOnly: true)');
      }
    }
  }
  return ZookeeperDashboardController;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
