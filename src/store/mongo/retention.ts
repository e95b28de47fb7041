import type { Db, Document } from 'mongodb';
import type { Logger } from 'pino';
import { OUT_OF_RANGE, timeSeries } from './collections.js';
import { toNumber } from './raw-stages.js';

/**
 * Retention has two parts:
 * - the collections' TTL (expireAfterSeconds, see adapter.ts) drops whole buckets once
 *   the longest retention any tenant has is over, which is cheap and gives the space back;
 * - this, run daily per tenant by the scheduler, deletes the records of a tenant whose
 *   retention is shorter than that. Deletes from time-series collections by time and
 *   tenant need MongoDB 7.0.
 *
 * Returns the number of records removed, each counted once however many copies of it
 * repeated deliveries left (the same count the PostgreSQL adapter gives).
 */
export async function deleteRawBefore(db: Db, logger: Logger, tenantId: string, before: Date): Promise<number> {
  const filter: Document = { 'meta.tenant': tenantId, time: { $lt: before } };
  let removed = 0;
  for (const name of [...Object.values(timeSeries), OUT_OF_RANGE]) {
    const coll = db.collection(name);
    // kind is only set in the out-of-range collection; elsewhere it groups nothing apart.
    const [counted] = await coll
      .aggregate<{ n: unknown }>([{ $match: filter }, { $group: { _id: { kind: '$kind', id: '$id', ns: '$ns' } } }, { $count: 'n' }], { allowDiskUse: true })
      .toArray();
    const records = toNumber(counted?.n);
    if (records === 0) continue;
    const { deletedCount } = await coll.deleteMany(filter, { writeConcern: { w: 'majority', journal: true } });
    logger.debug({ collection: name, tenant: tenantId, records, documents: deletedCount }, 'deleted raw records before retention');
    removed += records;
  }
  return removed;
}
