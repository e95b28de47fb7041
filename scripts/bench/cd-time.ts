import { CUMULATIVE_LOOKBACK_NS } from '../../src/pipeline/compute-day.js';
import { addDays, dayRangeNs, today } from '../../src/pipeline/days.js';
import { EDIT_TOOLS, metricNames } from '../../src/pipeline/measures.js';
import { dayRollup } from '../../src/pipeline/rollup-rows.js';
import { SeatResolver } from '../../src/pipeline/seats.js';
import { chooseSources } from '../../src/pipeline/sources.js';
import * as reads from '../../src/store/postgres/reads.js';
import { openKeptDb } from './bench-db.js';

/**
 * Where computeDay's time goes, on a database kept by `bench:rollup -- --keep`: each read
 * alone (SQL and row parsing), then seat linking, source choice and rollup in Node, twice.
 *   node --import tsx scripts/bench/cd-time.ts <DATA_DIR of the kept run>
 */

const [dataDir] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: cd-time.ts <data dir>\n');
  process.exit(2);
}
const kept = await openKeptDb(dataDir);
const pool = kept.pool;
const range = dayRangeNs(addDays(today('UTC'), -1), 'UTC');
for (let run = 0; run < 2; run++) {
  let t = performance.now();
  const lap = (what: string) => { const n = performance.now(); process.stdout.write(`${what}: ${((n - t) / 1000).toFixed(2)} s\n`); t = n; };
  const events = await reads.eventTotals(pool, 'bench', range, EDIT_TOOLS, metricNames);
  lap(`eventTotals (${events.length} rows)`);
  const metrics = await reads.metricTotals(pool, 'bench', range, metricNames, CUMULATIVE_LOOKBACK_NS);
  lap(`metricTotals (${metrics.length} rows)`);
  const ids = await reads.listIdentities(pool, 'bench');
  const seats = new SeatResolver(ids);
  lap(`identities + resolver (${ids.length})`);
  const rollup = dayRollup('d');
  chooseSources(metrics, events, (id) => seats.seatOf(id), rollup.add);
  const rows = rollup.rows();
  lap(`chooseSources + rollup (${rows.seats.length} seat rows, ${rows.models.length} model rows)`);
  await Promise.all([
    reads.eventTotals(pool, 'bench', range, EDIT_TOOLS, metricNames),
    reads.metricTotals(pool, 'bench', range, metricNames, CUMULATIVE_LOOKBACK_NS),
  ]);
  lap('both reads at once, as computeDay runs them');
}
await kept.close();
process.exit(0);
