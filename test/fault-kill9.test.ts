import { expect } from 'chai';
import {
  type Batch, type FaultProtocol, type LogExporter, buildBatch, exportBatch, figures, logExporter, rollupPrompts, storedSeqCounts,
} from './support/fault-otel.js';
import { type ChildServer, type ServerPorts, type TenantTokens, freePorts, killChildServers, prepareTenant, sleep, startChildServer } from './support/fault-server.js';
import { type TestPostgres, startTestPostgres } from './support/postgres.js';

/**
 * kill -9 of the server process while real exporters stream numbered records into it.
 * Whatever was acknowledged before the kill must be stored; batches that were in
 * flight (maybe committed, never acknowledged) are resent after the restart, as an
 * exporter would, and must not be stored twice.
 */
describe('fault: kill -9 under load', function () {
  this.timeout(240_000);
  const tenant = 'kill9';
  let pgs: TestPostgres;
  let tokens: TenantTokens;
  let ports: ServerPorts;
  let server: ChildServer;

  before(async () => {
    pgs = await startTestPostgres('fault-kill9');
    tokens = await prepareTenant(pgs.handle.url, tenant);
    ports = await freePorts();
    server = await startChildServer({ DATABASE_URL: pgs.handle.url, RETRY_AFTER_SECONDS: '1' }, ports);
  });
  after(async () => {
    await killChildServers();
    await pgs?.destroy();
  });

  it('keeps every acknowledged record, exactly once, through kill -9 and a restart', async () => {
    const protocols: FaultProtocol[] = ['grpc', 'http/protobuf', 'grpc', 'http/protobuf', 'grpc', 'http/protobuf'];
    const BATCH = 100;
    const sent: string[] = [];
    const acked = new Set<string>();
    let ackedBeforeKill: Set<string> | null = null;
    let inFlightAtKill = 0;
    let inFlight = 0;
    let stopSending = false;
    const pending: { sender: number; batch: Batch }[] = [];
    const lastAcked: (Batch | undefined)[] = [];
    const exporters: LogExporter[] = protocols.map((p) => logExporter(p, server.urls, tokens.ingest, 3000));

    const sender = async (i: number) => {
      const exporter = exporters[i] as LogExporter;
      for (let n = 0; !stopSending; n++) {
        const seqs = Array.from({ length: BATCH }, (_, k) => `${i}-${n}-${k}`);
        const batch = buildBatch(seqs);
        sent.push(...seqs);
        inFlight++;
        const outcome = await exportBatch(exporter, batch);
        inFlight--;
        if (outcome.ok) {
          for (const s of seqs) acked.add(s);
          lastAcked[i] = batch;
        } else {
          pending.push({ sender: i, batch });
          await sleep(200);
        }
      }
    };
    const streamStart = Date.now();
    const senders = protocols.map((_, i) => sender(i));

    // Mid-stream: once a few thousand records are acknowledged, with exports on the wire.
    while (acked.size < 5000) await sleep(20);
    inFlightAtKill = inFlight;
    ackedBeforeKill = new Set(acked);
    // An acknowledgement can be lost on the way (a client timeout, a proxy reset): the exporter then
    // sends the batch again. These were acknowledged just before the kill and are resent after it.
    const ackLost = lastAcked.flatMap((batch, sender) => (batch ? [{ sender, batch }] : []));
    const killedAt = Date.now();
    process.kill(server.pid, 'SIGKILL');
    const exit = await server.exited;
    expect(exit.signal).to.equal('SIGKILL');

    await sleep(1000);
    const restartBegan = Date.now();
    server = await startChildServer({ DATABASE_URL: pgs.handle.url, RETRY_AFTER_SECONDS: '1' }, ports);
    const restartMs = Date.now() - restartBegan;
    await sleep(2000);
    stopSending = true;
    await Promise.all(senders);

    // Records of unacknowledged batches that made it in anyway (committed just before the kill).
    const beforeResend = await storedSeqCounts(pgs.handle.url, tenant);
    const unackedStored = pending.flatMap((p) => p.batch.seqs).filter((s) => beforeResend.has(s)).length;

    // The exporters' retry, done by us: resend each failed batch, unchanged, until it is acknowledged.
    const pendingBatches = pending.length;
    pending.push(...ackLost);
    const resendDeadline = Date.now() + 90_000;
    let resends = 0;
    for (const { sender: i, batch } of pending) {
      for (;;) {
        resends++;
        const outcome = await exportBatch(exporters[i] as LogExporter, batch);
        if (outcome.ok) break;
        if (Date.now() > resendDeadline) throw new Error(`batch ${batch.seqs[0]} still refused: ${outcome.error}`);
        await sleep(250);
      }
      for (const s of batch.seqs) acked.add(s);
    }
    await Promise.all(exporters.map((e) => e.shutdown()));

    const stored = await storedSeqCounts(pgs.handle.url, tenant);
    const beforeKill = figures(sent, ackedBeforeKill, stored);
    const all = figures(sent, acked, stored);
    const prompts = await rollupPrompts(server.urls.api, tokens.admin);
    console.log(`      kill -9 after ${killedAt - streamStart} ms of streaming: sent ${all.sent}, acknowledged before the kill ${beforeKill.acked}, ` +
      `in flight at the kill ${inFlightAtKill} batches, failed batches resent ${pendingBatches} + acknowledged ones resent ${ackLost.length} (${resends} attempts), ` +
      `unacknowledged but already stored ${unackedStored}, stored ${all.stored}, lost ${beforeKill.lost}, duplicates ${all.duplicates}, ` +
      `rollup prompts ${prompts}; restart took ${restartMs} ms`);

    expect(inFlightAtKill, 'exports on the wire when the server was killed').to.be.greaterThan(0);
    expect(beforeKill.lostSeqs, 'acknowledged before the kill but not stored').to.deep.equal([]);
    expect(all.lostSeqs, 'acknowledged but not stored').to.deep.equal([]);
    expect(all.duplicates).to.equal(0);
    expect(all.acked).to.equal(all.sent);
    expect(all.stored).to.equal(all.sent);
    expect(prompts).to.equal(all.stored);
  });
});
