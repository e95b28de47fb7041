import type pg from 'pg';
import { retriedOnce, withClient } from './pool.js';

/**
 * One statement of a script; `copy` is the data of a `COPY … FROM STDIN`, sent as it is.
 */
export interface ScriptStep {
  sql: string;
  copy?: readonly Buffer[];
}

/**
 * A write transaction sent to PostgreSQL as one message: a simple Query holding all its
 * statements, followed by the data of each COPY in order.
 *
 * Sent a statement at a time (BEGIN, COPY, the COPY's data, each upsert, COMMIT), a write
 * took six round trips. Each answer waited for the service's one event loop, busy
 * decoding other requests, and each cost a socket write and a wake-up on both ends.
 *
 * What makes one message safe: PostgreSQL runs the statements of one simple Query as one
 * implicit transaction, committed before its ReadyForQuery and rolled back at the first
 * error. It reads each COPY's data from the stream when it reaches that COPY, and after an
 * error it drops the CopyData and CopyDone messages still to come (protocol, "COPY
 * Operations"), so the connection is clean again for the next caller.
 */
class OneTrip {
  /** node-postgres replaces this to clear its client-side timeout; it must be called once the trip is over. */
  callback: (err?: unknown) => void = () => undefined;
  readonly query_timeout: number;
  private settled = false;

  constructor(
    private readonly steps: readonly ScriptStep[],
    timeoutMs: number,
    private readonly done: (err: unknown) => void,
  ) {
    this.query_timeout = timeoutMs;
  }

  submit(connection: { stream: NodeJS.WritableStream & { cork(): void; uncork(): void } }): void {
    const { stream } = connection;
    // Corked, the whole message leaves in one writev instead of a write per piece.
    stream.cork();
    stream.write(message(QUERY, Buffer.from(`${this.steps.map((s) => s.sql).join(';\n')}\0`)));
    for (const step of this.steps) {
      if (step.copy === undefined) continue;
      for (const data of step.copy) {
        stream.write(header(COPY_DATA, data.length));
        stream.write(data);
      }
      stream.write(COPY_DONE);
    }
    stream.uncork();
  }

  // node-postgres ends the query at an ErrorResponse and does not call handleReadyForQuery after it.
  handleError(err: unknown): void {
    this.settle(err);
  }

  handleReadyForQuery(): void {
    this.settle(null);
  }

  handleCopyInResponse(): void {}
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}

  private settle(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.callback(err ?? undefined);
    this.done(err);
  }
}

const QUERY = 0x51; // 'Q'
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]); // 'c', length 4

function header(type: number, bodyLength: number): Buffer {
  const h = Buffer.allocUnsafe(5);
  h[0] = type;
  h.writeUInt32BE(bodyLength + 4, 1);
  return h;
}

const message = (type: number, body: Buffer): Buffer => Buffer.concat([header(type, body.length), body]);

/** Runs the steps on `client` in one transaction and one round trip; resolves after COMMIT. */
export function runOneTrip(client: pg.PoolClient, steps: readonly ScriptStep[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const trip = new OneTrip(steps, timeoutMs, (err) => (err === null ? resolve() : reject(err)));
    // A Submittable: node-postgres hands it the connection and the backend's messages.
    client.query(trip as unknown as pg.QueryConfig);
  });
}

/**
 * The steps as one transaction on a pooled connection, run again once on a serialization
 * failure or deadlock (as inTransaction does). Errors come out mapped for the port.
 */
export function inOneTrip(pool: pg.Pool, what: string, steps: readonly ScriptStep[], timeoutMs: number): Promise<void> {
  return retriedOnce(() => withClient(pool, what, (client) => runOneTrip(client, steps, timeoutMs)));
}
