import { type Db, type Document, MongoBulkWriteError, ObjectId, type WriteConcernSettings } from 'mongodb';
import type { Logger } from 'pino';
import { batchSize, type RecordBase, type RecordBatch } from '../records.js';
import { OUT_OF_RANGE, TIME_SERIES_END_MS, timeSeries } from './collections.js';
import { eventDocument, pointDocument, spanDocument, type RecordKind } from './documents.js';
import { isUnavailable, toStoreError, writeErrorsOf } from './errors.js';
import { seenOf, writeSeen, type SeenUpdates } from './seen.js';

/**
 * Writing a batch, and how its promises hold without unique indexes or transactions
 * (time-series collections have neither):
 *
 * - Durable on resolve: every insert uses write concern majority + journal, and the
 *   promise resolves only after all of them are acknowledged.
 * - Safe to repeat: a record delivered twice is stored twice, and every read removes
 *   the copies by grouping on (record id, ns) first (see reads.ts). That was chosen over
 *   a regular collection of record ids with a unique index written first: such a
 *   collection doubles the writes and grows like the raw data, and a batch that wrote
 *   its ids but not its records would make the client's retry skip them, i.e. lose
 *   them. Copies cost only space until retention removes them, and OTLP retries are rare.
 *   Copies inside one batch are dropped here before writing.
 * - All or nothing: the records are validated and converted before anything is sent;
 *   if any insert (or the seen-upsert after them) fails, every document this call wrote
 *   is deleted again by its batch key, which only this call's documents carry, so an
 *   earlier successful copy of the same records stays. When the server is unreachable
 *   that cleanup cannot run either: the partial batch stays, the client gets a
 *   retryable error and sends the whole batch again, and reads count each record once.
 */

export interface WriteContext {
  db: Db;
  logger: Logger;
  /** How long a majority may take to acknowledge (wtimeoutMS). */
  timeoutMs: number;
}

interface Plan {
  /** Documents per collection, in the order they are sent. */
  byCollection: Map<string, Document[]>;
  seen: SeenUpdates;
}

/** Everything that can be refused without asking the server (bad times, a foreign tenant) is refused here, before any write. */
function plan(tenantId: string, batch: RecordBatch, key: ObjectId): Plan {
  const byCollection = new Map<string, Document[]>();
  const seenIds = new Set<string>();
  const kept: RecordBase[] = [];
  const add = <R extends RecordBase>(kind: RecordKind, records: readonly R[], toDoc: (r: R, tenant: string, key: ObjectId) => Document) => {
    for (const r of records) {
      if (r.tenantId !== tenantId) throw new Error(`record ${r.id} belongs to tenant ${r.tenantId}, not ${tenantId}`);
      const doc = toDoc(r, tenantId, key);
      const dedupeKey = `${kind}\u0000${r.id}\u0000${r.timeNs}`;
      if (seenIds.has(dedupeKey)) continue;
      seenIds.add(dedupeKey);
      kept.push(r);
      const outOfRange = (doc['time'] as Date).getTime() >= TIME_SERIES_END_MS;
      const name = outOfRange ? OUT_OF_RANGE : timeSeries[kind];
      const list = byCollection.get(name) ?? [];
      list.push(outOfRange ? { ...doc, kind } : doc);
      byCollection.set(name, list);
    }
  };
  add('event', batch.events, eventDocument);
  add('point', batch.points, pointDocument);
  add('span', batch.spans, spanDocument);
  return { byCollection, seen: seenOf(kept) };
}

export async function writeBatch(ctx: WriteContext, tenantId: string, batch: RecordBatch): Promise<void> {
  if (batchSize(batch) === 0) return;
  const key = new ObjectId();
  const p = plan(tenantId, batch, key);
  const writeConcern: WriteConcernSettings = { w: 'majority', journal: true, wtimeoutMS: ctx.timeoutMs };
  const names = [...p.byCollection.keys()];
  const results = await Promise.allSettled(
    names.map((name) => ctx.db.collection(name).insertMany(p.byCollection.get(name) as Document[], { ordered: false, writeConcern })),
  );
  try {
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) throw describe((results[failed] as PromiseRejectedResult).reason, names[failed] as string, p);
    await writeSeen(ctx.db, tenantId, p.seen, writeConcern);
  } catch (err) {
    await undo(ctx, tenantId, key, p, writeConcern);
    throw toStoreError(err, 'store the records');
  }
}

/** A refusal by the server names the first refused record, so the log says what was wrong. */
function describe(err: unknown, collection: string, p: Plan): unknown {
  if (!(err instanceof MongoBulkWriteError) || isUnavailable(err)) return err;
  const errors = writeErrorsOf(err);
  const first = errors[0];
  if (first === undefined) return err;
  const doc = p.byCollection.get(collection)?.[first.index];
  const meta = doc?.['meta'] as { name?: string } | undefined;
  return new Error(
    `MongoDB did not store ${errors.length} record(s) of the batch in ${collection}; the first is ${String(doc?.['id'])} ` +
      `named "${meta?.name ?? ''}": ${first.errmsg ?? `code ${first.code}`}`,
    { cause: err },
  );
}

/** Deletes what this call wrote; failing that, logs it (the client's retry makes the batch whole). */
async function undo(ctx: WriteContext, tenantId: string, key: ObjectId, p: Plan, writeConcern: WriteConcernSettings): Promise<void> {
  const deletes = [...p.byCollection].map(([name, docs]) => {
    let [min, max] = [Infinity, -Infinity];
    for (const d of docs) {
      const ms = (d['time'] as Date).getTime();
      if (ms < min) min = ms;
      if (ms > max) max = ms;
    }
    // The time bounds let the tenant + time index find the batch's buckets.
    const filter = { 'meta.tenant': tenantId, time: { $gte: new Date(min), $lte: new Date(max) }, batch: key };
    return ctx.db.collection(name).deleteMany(filter, { writeConcern });
  });
  const results = await Promise.allSettled(deletes);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    ctx.logger.warn(
      { err: failures[0]?.reason, batch: key.toHexString(), tenant: tenantId },
      'a failed batch could not be removed; its records stay until the client sends it again (reads count each record once)',
    );
  }
}
