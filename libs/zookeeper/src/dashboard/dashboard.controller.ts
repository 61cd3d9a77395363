import {
  BadRequestException,
  Body,
  CanActivate,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  MessageEvent,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  Sse,
  Type,
  UseGuards,
} from '@nestjs/common';
import { map, Observable } from 'rxjs';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { dashboardAsset } from './dashboard-assets.js';
import { DashboardEnabledGuard } from './dashboard-enabled.guard.js';
import { ZookeeperDashboardService } from './dashboard.service.js';

interface HttpRequest {
  originalUrl?: string;
  url?: string;
}

interface HttpResponse {
  setHeader(name: string, value: string): unknown;
  end(body?: Buffer | string): unknown;
  statusCode: number;
}

interface ActionBody {
  queue?: unknown;
  ids?: unknown;
}

async function asHttp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidOptionsError) throw new BadRequestException(error.message);
    throw error;
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

    @Get()
    page(@Req() request: HttpRequest, @Res() response: HttpResponse): void {
      const asset = dashboardAsset('index.html')!;
      // Relative URLs of the page resolve under the mount path, with or without a final '/'.
      const url = (request.originalUrl ?? request.url ?? '/').split('?')[0];
      const base = url.endsWith('/') ? url : `${url}/`;
      const html = asset.body
        .toString('utf8')
        .replace('<head>', `<head>\n    <base href="${escapeHtml(base)}" />`);
      response.setHeader('Content-Type', asset.type);
      response.setHeader('Cache-Control', 'no-store');
      response.end(html);
    }

    @Get('assets/:file')
    asset(@Param('file') file: string, @Res() response: HttpResponse): void {
      const asset = dashboardAsset(file);
      if (!asset || file === 'index.html') throw new NotFoundException();
      response.setHeader('Content-Type', asset.type);
      response.setHeader('Cache-Control', 'public, max-age=300');
      response.end(asset.body);
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
