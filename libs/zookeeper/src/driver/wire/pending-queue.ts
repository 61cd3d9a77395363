/** What to do with the session's watch registry when a request succeeds. */
export const Register = {
  NONE: 0,
  /** exists: a data watch, or an exist watch when the node is missing. */
  EXISTS: 1,
  DATA: 2,
  CHILD: 3,
  PERSISTENT: 4,
  PERSISTENT_RECURSIVE: 5,
  REMOVE_PERSISTENT: 6,
} as const;

/** How a reply body is decoded (see replies.ts). */
export const ReplyKind = {
  VOID: 0,
  PATH: 1,
  PATH_STAT: 2,
  STAT: 3,
  DATA: 4,
  CHILDREN: 5,
  ACL: 6,
  MULTI: 7,
} as const;

/** A request of the session: queued until a link is up, then awaiting its reply. */
export class PendingRequest {
  constructor(
    readonly xid: number,
    readonly kind: number,
    /** Server path (for watch registration), '' when none. */
    readonly path: string,
    readonly register: number,
    /** Operations of a multi. */
    readonly opCount: number,
    /** The encoded frame, kept while the request waits for a link. */
    public frame: Buffer | null,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
  ) {}
}

/** FIFO of requests without per-shift array copies. */
export class RequestQueue {
  private items: Array<PendingRequest | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(request: PendingRequest): void {
    this.items.push(request);
  }

  shift(): PendingRequest | undefined {
    if (this.head >= this.items.length) return undefined;
    const request = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return request;
  }

  /** Empties the queue, returning what it held in order. */
  drain(): PendingRequest[] {
    const drained = this.items.slice(this.head) as PendingRequest[];
    this.items = [];
    this.head = 0;
    return drained;
  }
}
