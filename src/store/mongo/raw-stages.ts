import { type Document, Long } from 'mongodb';
import { OUT_OF_RANGE, TIME_SERIES_END_MS } from './collections.js';
import { NS_PER_MS, type RecordKind } from './documents.js';

/** Pipeline pieces every read of raw records shares. */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const int64 = (ns: bigint): Long => Long.fromBigInt(ns < INT64_MIN ? INT64_MIN : ns > INT64_MAX ? INT64_MAX : ns);

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
};

/**
 * [fromNs, toNs) on the exact `ns`, plus the range of the `time` field (milliseconds,
 * time = floor(ns / 10^6)) that covers it: the time range is what the indexes and the
 * buckets' min/max can use, `ns` makes it exact.
 */
export function timeRange(fromNs: bigint, toNs: bigint): Document {
  return {
    time: { $gte: new Date(Number(floorDiv(fromNs, NS_PER_MS))), $lt: new Date(Number(floorDiv(toNs - 1n, NS_PER_MS) + 1n)) },
    ns: { $gte: int64(fromNs), $lt: int64(toNs) },
  };
}

export const nsValue = int64;

/**
 * The tenant's records of one kind in [fromNs, toNs) that also match `filter`: the
 * time-series collection, plus the out-of-range collection when the range reaches 2038.
 */
export function rawRecords(kind: RecordKind, tenantId: string, fromNs: bigint, toNs: bigint, filter: Document = {}): Document[] {
  const match = { 'meta.tenant': tenantId, ...timeRange(fromNs, toNs), ...filter };
  const stages: Document[] = [{ $match: match }];
  if (floorDiv(toNs - 1n, NS_PER_MS) >= BigInt(TIME_SERIES_END_MS)) {
    stages.push({ $unionWith: { coll: OUT_OF_RANGE, pipeline: [{ $match: { ...match, kind } }] } });
  }
  return stages;
}

/**
 * One document per stored record: copies from repeated deliveries (same id and time)
 * collapse into one. Copies are identical but for their batch key, so which one is kept
 * does not matter. Goes after a $project that keeps `id` and `ns`.
 */
export const oncePerRecord: Document[] = [{ $group: { _id: { id: '$id', ns: '$ns' }, doc: { $first: '$$ROOT' } } }, { $replaceWith: '$doc' }];

/**
 * A field as null when it is null or missing. In aggregation expressions and group keys
 * a missing field differs from null, so nullable fields are normalized before grouping.
 */
export const orNull = (path: string): Document => ({ $ifNull: [path, null] });

/** The identity, session and surface fields records are grouped by. */
export const whoFields: Document = {
  sessionId: orNull('$sessionId'),
  userEmail: orNull('$userEmail'),
  userAccountUuid: orNull('$userAccountUuid'),
  endUserId: orNull('$endUserId'),
  userId: orNull('$userId'),
  surface: '$meta.surface',
  name: '$meta.name',
};

/** Group-key entries for fields already normalized by a $project. */
export const keyOf = (fields: readonly string[]): Document => Object.fromEntries(fields.map((f) => [f, `$${f}`]));

/** Numbers from $sum come back as int32, double or (large counts) Long. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Long) return v.toNumber();
  return 0;
}
