import { type AnyBulkWriteOperation, type Db, type WriteConcernSettings } from 'mongodb';
import type { RecordBase } from '../records.js';
import type { IdentityKey } from '../store.js';
import { regular } from './collections.js';
import { clean } from './documents.js';
import { isDuplicateKey } from './errors.js';

/**
 * Who and which surfaces reported in: seat_identities and surfaces_seen, one document
 * per tenant and identifier tuple / surface, kept by upserts that only move times
 * outwards ($min / $max), so repeating or reordering batches changes nothing.
 */
interface Window {
  firstMs: number;
  lastMs: number;
}

export interface SeenUpdates {
  surfaces: Map<string, Window>;
  identities: Map<string, { ids: IdentityKey; window: Window }>;
}

const widen = (w: Window | undefined, ms: number): Window =>
  w === undefined ? { firstMs: ms, lastMs: ms } : { firstMs: Math.min(w.firstMs, ms), lastMs: Math.max(w.lastMs, ms) };

const optClean = (s: string | null) => (s === null ? null : clean(s));

export function seenOf(records: Iterable<RecordBase>): SeenUpdates {
  const surfaces = new Map<string, Window>();
  const identities = new Map<string, { ids: IdentityKey; window: Window }>();
  for (const r of records) {
    const ms = Number(r.timeNs / 1_000_000n);
    const surface = clean(r.surface);
    surfaces.set(surface, widen(surfaces.get(surface), ms));
    const ids: IdentityKey = {
      userEmail: optClean(r.identity.userEmail),
      userAccountUuid: optClean(r.identity.userAccountUuid),
      endUserId: optClean(r.identity.endUserId),
      userId: optClean(r.identity.userId),
    };
    if (Object.values(ids).every((v) => v === null)) continue;
    const key = JSON.stringify([ids.userEmail, ids.userAccountUuid, ids.endUserId, ids.userId]);
    identities.set(key, { ids, window: widen(identities.get(key)?.window, ms) });
  }
  return { surfaces, identities };
}

export async function writeSeen(db: Db, tenant: string, u: SeenUpdates, writeConcern: WriteConcernSettings): Promise<void> {
  const now = new Date();
  const times = (w: Window) => ({ $min: { firstSeen: new Date(w.firstMs) }, $max: { lastSeen: new Date(w.lastMs), lastReceivedAt: now } });
  const surfaceOps: AnyBulkWriteOperation[] = [...u.surfaces].map(([surface, w]) => ({
    updateOne: { filter: { tenant, surface }, update: times(w), upsert: true },
  }));
  // The filter's nulls are copied into an inserted document, so every tuple field is present.
  const identityOps: AnyBulkWriteOperation[] = [...u.identities.values()].map(({ ids, window }) => ({
    updateOne: { filter: { tenant, ...ids }, update: times(window), upsert: true },
  }));
  const run = async (name: string, ops: AnyBulkWriteOperation[]) => {
    if (ops.length === 0) return;
    const write = () => db.collection(name).bulkWrite(ops, { ordered: false, writeConcern });
    try {
      await write();
    } catch (err) {
      // Two batches inserting the same new tuple at once: one upsert loses on the unique
      // index. Running the (idempotent) upserts again updates the document the other made.
      if (!isDuplicateKey(err)) throw err;
      await write();
    }
  };
  const results = await Promise.allSettled([run(regular.surfacesSeen, surfaceOps), run(regular.seatIdentities, identityOps)]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
