import type pg from 'pg';

/**
 * What PostgreSQL was doing during a phase, sampled from pg_stat_activity: how often an
 * autovacuum worker ran, what the receiver's busy connections waited on, and how many
 * checkpoints happened. Explains latency tails that are not the receiver's own doing.
 */
export interface PgActivity {
  samples: number;
  /** Share of samples with at least one autovacuum worker running. */
  autovacuumShare: number;
  /** Receiver connections that were active (running or waiting), on average. */
  activeConnections: number;
  /** Wait events of active receiver connections, most frequent first ("CPU" = not waiting). */
  waits: { wait: string; share: number }[];
  checkpoints: number;
}

interface Row {
  backend_type: string;
  state: string | null;
  wait: string | null;
  application_name: string;
}

async function checkpointCount(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ n: string }>('SELECT (num_timed + num_requested)::text AS n FROM pg_stat_checkpointer');
  return Number(r.rows[0]?.n ?? 0);
}

export function samplePgActivity(pool: pg.Pool, everyMs = 200): { stop(): Promise<PgActivity> } {
  let samples = 0;
  let autovacuum = 0;
  let active = 0;
  const waits = new Map<string, number>();
  const startCheckpoints = checkpointCount(pool);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await pool.query<Row>(
        `SELECT backend_type, state, wait_event_type || ':' || wait_event AS wait, application_name FROM pg_stat_activity
         WHERE pid <> pg_backend_pid() AND (backend_type = 'autovacuum worker' OR application_name = 'ai-usage-receiver')`);
      samples++;
      if (rows.some((r) => r.backend_type === 'autovacuum worker')) autovacuum++;
      for (const r of rows) {
        if (r.application_name !== 'ai-usage-receiver' || r.state !== 'active') continue;
        active++;
        const w = r.wait ?? 'CPU';
        waits.set(w, (waits.get(w) ?? 0) + 1);
      }
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const total = [...waits.values()].reduce((a, b) => a + b, 0) || 1;
      return {
        samples,
        autovacuumShare: samples === 0 ? 0 : autovacuum / samples,
        activeConnections: samples === 0 ? 0 : active / samples,
        waits: [...waits].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([wait, n]) => ({ wait, share: n / total })),
        checkpoints: (await checkpointCount(pool)) - (await startCheckpoints),
      };
    },
  };
}
