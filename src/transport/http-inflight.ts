import { Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InflightBudget } from '../ingest/inflight.js';

/**
 * One request's share of the in-flight budget. Bytes are reserved as the request
 * goes (the declared Content-Length up front, a chunked body as it is read, the
 * decompressed body once inflated) and all given back exactly once, however the
 * request ends: answered, aborted by its client mid-body, or cut by a timeout.
 * Fastify's onResponse hook is not enough for that: it never runs for a
 * request whose connection died before the answer was written.
 */
export class RequestBudget {
  private held = 0;
  private released = false;

  constructor(private readonly budget: InflightBudget) {}

  /** Reserves `bytes` more; false when the budget is spent (or the request already ended). */
  acquire(bytes: number): boolean {
    if (this.released) return false;
    if (bytes <= 0) return true;
    if (!this.budget.tryAcquire(bytes, this.held)) return false;
    this.held += bytes;
    return true;
  }

  /** True once the request is over and its bytes were given back. */
  get ended(): boolean {
    return this.released;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.release(this.held);
    this.held = 0;
  }
}

const budgets = new WeakMap<FastifyRequest, RequestBudget>();

/** Opens the request's budget and ties its release to the end of the request. */
export function openBudget(req: FastifyRequest, reply: FastifyReply, budget: InflightBudget): RequestBudget {
  const hold = new RequestBudget(budget);
  budgets.set(req, hold);
  // 'close' on the response comes after it was sent, and also when the connection was
  // destroyed first (client gone, request or socket timeout).
  reply.raw.once('close', () => hold.release());
  // A request whose body never arrived in full is over too, even if no response exists yet
  // (e.g. one waiting behind another on a pipelined connection).
  req.raw.once('close', () => {
    if (!req.raw.complete) hold.release();
  });
  return hold;
}

export const budgetOf = (req: FastifyRequest): RequestBudget | undefined => budgets.get(req);

/**
 * A pass-through for bodies without a Content-Length (chunked): each chunk is
 * reserved as it arrives, so such a request cannot hold memory outside the budget.
 * Past the budget the stream fails with `onFull()`, which Fastify hands to the error handler.
 */
export function countingStream(source: NodeJS.ReadableStream, hold: RequestBudget, onFull: () => Error): Transform {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      // Once the request is over (answered early, e.g. 413), what still arrives is only drained.
      if (hold.ended || hold.acquire(chunk.length)) done(null, chunk);
      else done(onFull());
    },
  });
  // Fastify listens for errors only while it reads the body; one after that must not crash the process.
  counter.on('error', () => undefined);
  // pipe() does not pass errors on: a client that aborts mid-body must end the parse too.
  source.once('error', (e: Error) => counter.destroy(e));
  source.pipe(counter);
  return counter;
}
