import type { ClientSession, Db } from 'mongodb';

/**
 * Runs `fn` as one multi-document transaction (replica set or sharded cluster only),
 * committed with write concern majority. The driver runs `fn` again on a transient
 * error (a write conflict with a concurrent transaction, a failover), so `fn` must
 * only write through `session` and be safe to repeat.
 */
export function inTransaction<T>(db: Db, fn: (session: ClientSession) => Promise<T>): Promise<T> {
  return db.client.withSession((session) =>
    session.withTransaction(() => fn(session), {
      readConcern: { level: 'snapshot' },
      writeConcern: { w: 'majority', journal: true },
      readPreference: 'primary',
    }),
  );
}
