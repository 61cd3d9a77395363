import { Acl, Stat } from '../driver-types.js';
import { PersistentWatchMode } from '../driver-session.interface.js';
import { MultiOp, MultiResult } from '../multi.js';
import { Op, WatcherTypeCode } from './op-codes.js';
import { Register, ReplyKind } from './pending-queue.js';
import { encodeMulti } from './records/multi-codec.js';
import * as encode from './records/requests.js';

/**
 * The operations of a wire session: each encodes its request into one frame (paths below the
 * chroot) and hands it to `request` with how to decode the reply and which watch it registers.
 */
export abstract class WireOperations {
  /** The chroot of the connect string without a trailing slash, '' for none. */
  protected chroot = '';
  private xid = 0;
  protected abstract request<T>(
    xid: number,
    frame: Buffer,
    kind: number,
    path: string,
    register: number,
    opCount?: number,
  ): Promise<T>;

  create(
    path: string,
    data: Buffer,
    flags: number,
    ttlMs?: number,
    acl?: readonly Acl[],
  ): Promise<string> {
    const op = encode.createOp(flags, ttlMs);
    const xid = this.nextXid();
    const frame = encode.encodeCreate(
      xid,
      op,
      this.serverPath(path),
      data,
      encode.effectiveAcl(acl),
      flags,
      ttlMs,
    );
    const kind = op === Op.CREATE ? ReplyKind.PATH : ReplyKind.PATH_STAT;
    return this.request(xid, frame, kind, '', Register.NONE);
  }

  exists(path: string, watch: boolean): Promise<Stat> {
    const xid = this.nextXid();
    const serverPath = this.serverPath(path);
    const frame = encode.encodePathWatch(xid, Op.EXISTS, serverPath, watch);
    return this.request(xid, frame, ReplyKind.STAT, serverPath, watch ? Register.EXISTS : 0);
  }

  get(path: string, watch: boolean): Promise<{ data: Buffer; stat: Stat }> {
    const xid = this.nextXid();
    const serverPath = this.serverPath(path);
    const frame = encode.encodePathWatch(xid, Op.GET_DATA, serverPath, watch);
    return this.request(xid, frame, ReplyKind.DATA, serverPath, watch ? Register.DATA : 0);
  }

  getChildren(path: string, watch: boolean): Promise<{ children: string[]; stat: Stat }> {
    const xid = this.nextXid();
    const serverPath = this.serverPath(path);
    const frame = encode.encodePathWatch(xid, Op.GET_CHILDREN2, serverPath, watch);
    return this.request(xid, frame, ReplyKind.CHILDREN, serverPath, watch ? Register.CHILD : 0);
  }

  set(path: string, data: Buffer, version: number): Promise<Stat> {
    const xid = this.nextXid();
    const frame = encode.encodeSetData(xid, this.serverPath(path), data, version);
    return this.request(xid, frame, ReplyKind.STAT, '', Register.NONE);
  }

  delete(path: string, version: number): Promise<void> {
    const xid = this.nextXid();
    const frame = encode.encodePathInt(xid, Op.DELETE, this.serverPath(path), version);
    return this.request(xid, frame, ReplyKind.VOID, '', Register.NONE);
  }

  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    const xid = this.nextXid();
    const frame = encode.encodePath(xid, Op.GET_ACL, this.serverPath(path));
    return this.request(xid, frame, ReplyKind.ACL, '', Register.NONE);
  }

  setAcl(path: string, acl: readonly Acl[], version: number): Promise<void> {
    const xid = this.nextXid();
    const frame = encode.encodeSetAcl(xid, this.serverPath(path), acl, version);
    return this.request(xid, frame, ReplyKind.VOID, '', Register.NONE);
  }

  sync(path: string): Promise<void> {
    const xid = this.nextXid();
    const frame = encode.encodePath(xid, Op.SYNC, this.serverPath(path));
    return this.request(xid, frame, ReplyKind.VOID, '', Register.NONE);
  }

  multi(ops: readonly MultiOp[]): Promise<MultiResult[]> {
    const xid = this.nextXid();
    const frame = encodeMulti(xid, ops, (path) => this.serverPath(path));
    return this.request(xid, frame, ReplyKind.MULTI, '', Register.NONE, ops.length);
  }

  addWatch(path: string, mode: PersistentWatchMode): Promise<void> {
    const xid = this.nextXid();
    const serverPath = this.serverPath(path);
    const frame = encode.encodePathInt(xid, Op.ADD_WATCH, serverPath, mode);
    const register =
      mode === PersistentWatchMode.PERSISTENT_RECURSIVE
        ? Register.PERSISTENT_RECURSIVE
        : Register.PERSISTENT;
    return this.request(xid, frame, ReplyKind.VOID, serverPath, register);
  }

  removePersistentWatch(path: string): Promise<void> {
    const xid = this.nextXid();
    const serverPath = this.serverPath(path);
    // ANY: servers before 3.9 know no persistent watcher type; one-shot watches of the path go
    // too, and are set again right after (see WireSession.registered).
    const frame = encode.encodePathInt(xid, Op.REMOVE_WATCHES, serverPath, WatcherTypeCode.ANY);
    return this.request(xid, frame, ReplyKind.VOID, serverPath, Register.REMOVE_PERSISTENT);
  }

  protected nextXid(): number {
    this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1;
    return this.xid;
  }

  protected serverPath(path: string): string {
    if (this.chroot === '') return path;
    return path === '/' ? this.chroot : this.chroot + path;
  }

  protected clientPath(path: string): string {
    const chroot = this.chroot;
    if (chroot === '') return path;
    if (path === chroot) return '/';
    return path.startsWith(chroot) && path.charCodeAt(chroot.length) === 47
      ? path.slice(chroot.length)
      : path;
  }
}
