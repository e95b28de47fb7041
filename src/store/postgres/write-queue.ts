import { batchSize } from '../records.js';
import { type Store, StoreUnavailableError } from '../store.js';
import { isUnavailable } from './errors.js';
import { type PreparedBatch, type WriteContext, isDuplicate, prepareBatch, writeGroup } from './write-batch.js';

export interface WriteQueueOptions {
  /** Transactions writing at once. */
  concurrency: number;
  /** COPY data one transaction carries at most (a larger single batch still goes alone). */
  maxGroupBytes: number;
}

interface Waiting {
  batch: PreparedBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit. Batches that arrive while `concurrency` transactions are running wait,
 * and the next free transaction takes all of them (up to `maxGroupBytes`): under load one
 * transaction (its COPYs and one WAL flush, sent in one round trip) serves many export
 * requests, and an idle server writes each request at once. Every batch still resolves
 * only after the COMMIT that holds it, and each is all or nothing: when a group fails for
 * a reason of one batch's own, its batches are written again one by one, so only that
 * batch fails.
 */
export function createWriteQueue(ctx: WriteContext, opts: WriteQueueOptions): Store['writeBatch'] {
  const waiting: Waiting[] = [];
  let running = 0;

  const take = (): Waiting[] => {
    const group: Waiting[] = [];
    let bytes = 0;
    while (waiting.length > 0) {
      const next = waiting[0] as Waiting;
      if (group.length > 0 && bytes + next.batch.bytes > opts.maxGroupBytes) break;
      bytes += next.batch.bytes;
      group.push(waiting.shift() as Waiting);
    }
    return group;
  };

  const kick = (): void => {
    while (running < opts.concurrency && waiting.length > 0) {
      const group = take();
      running++;
      void commit(group).finally(() => {
        running--;
        kick();
      });
    }
  };

  async function commit(group: Waiting[], mode: 'direct' | 'staged' = 'direct'): Promise<void> {
    const startedAt = Date.now();
    try {
      await writeGroup(ctx, group.map((w) => w.batch), mode);
    } catch (err) {
      if (err instanceof StoreUnavailableError || isUnavailable(err)) {
        for (const w of group) w.reject(err);
        return;
      }
      // Some record was stored before (a retried delivery): write the group again, skipping it.
      if (mode === 'direct' && isDuplicate(err)) return commit(group, 'staged');
      if (group.length === 1) {
        (group[0] as Waiting).reject(err);
        return;
      }
      for (const w of group) await commit([w], mode);
      return;
    }
    for (const w of group) {
      ctx.seen.remember(w.batch.seen, startedAt);
      w.resolve();
    }
  }

  return (tenantId, batch, hold) => {
    if (batchSize(batch) === 0) return Promise.resolve();
    let prepared: PreparedBatch;
    try {
      prepared = prepareBatch(ctx.seen, tenantId, batch);
    } catch (err) {
      return Promise.reject(err);
    }
    hold?.(prepared.bytes);
    return new Promise<void>((resolve, reject) => {
      waiting.push({ batch: prepared, resolve, reject });
      kick();
    });
  };
}
