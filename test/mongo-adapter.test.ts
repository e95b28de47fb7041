/**
 * What is particular to the MongoDB adapter, beyond the shared contract
 * (test/store-contract.test.ts):
 * - which servers it refuses at start, decided from the buildInfo and hello replies
 *   (pure functions, on every run);
 * - how driver errors become the port's errors (the driver's own error classes, built as
 *   the driver builds them, or raised by the driver itself; on every run);
 * - on a real server, when there is one (MONGODB_URL or a mongod binary, see
 *   test/support/mongo.ts): the time-series options, the TTL's collMod when a tenant's
 *   retention changes, the indexes, and the refusal of a standalone server.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import {
  Binary,
  type Db,
  type Document,
  Long,
  MongoBulkWriteError,
  MongoClient,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
  ObjectId,
  Timestamp,
} from 'mongodb';
import { errorTable } from '../src/ingest/errors.js';
import { topologyRefusal, versionRefusal } from '../src/store/mongo/client.js';
import { OUT_OF_RANGE, regular, timeSeries, ttlSecondsOf } from '../src/store/mongo/collections.js';
import { guarded, isDuplicateKey, isUnavailable, toStoreError } from '../src/store/mongo/errors.js';
import { openMongoStore, type MongoStore } from '../src/store/mongo/index.js';
import { RAW_EXPIRY_MARGIN_DAYS, StoreConflictError, StoreUnavailableError, defaultPrivacyPolicy } from '../src/store/store.js';
import { mongoSkipReason, sharedMongoUrl, startStandaloneMongod } from './support/mongo.js';
import { freePort, testLogger } from './support/postgres.js';

const clusterTime = () => ({
  clusterTime: new Timestamp({ t: 1_767_225_600, i: 1 }),
  signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) },
});

/** A buildInfo reply as a server sends it, for a version string and versionArray. */
const buildInfo = (version: string, versionArray: number[]): Document => ({
  version,
  gitVersion: '0000000000000000000000000000000000000000',
  openssl: { running: 'OpenSSL 3.0.13 30 Jan 2024', compiled: 'OpenSSL 3.0.13 30 Jan 2024' },
  modules: [],
  allocator: 'tcmalloc-google',
  javascriptEngine: 'mozjs',
  sysInfo: 'deprecated',
  versionArray,
  bits: 64,
  debug: false,
  maxBsonObjectSize: 16_777_216,
  buildEnvironment: { distmod: 'ubuntu2404', distarch: 'x86_64', target_arch: 'x86_64', target_os: 'linux' },
  storageEngines: ['devnull', 'wiredTiger'],
  ok: 1,
  $clusterTime: clusterTime(),
  operationTime: new Timestamp({ t: 1_767_225_600, i: 1 }),
});

/** The fields every hello reply has. */
const helloCommon = () => ({
  topologyVersion: { processId: new ObjectId(), counter: Long.fromNumber(6) },
  maxBsonObjectSize: 16_777_216,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  logicalSessionTimeoutMinutes: 30,
  connectionId: 12,
  minWireVersion: 0,
  maxWireVersion: 25,
  readOnly: false,
  ok: 1,
});

const replicaSetMember = (primary: boolean): Document => ({
  ...helloCommon(),
  hosts: ['m0.example:27017', 'm1.example:27017', 'm2.example:27017'],
  setName: 'rs0',
  setVersion: 1,
  isWritablePrimary: primary,
  secondary: !primary,
  primary: 'm0.example:27017',
  me: primary ? 'm0.example:27017' : 'm1.example:27017',
  ...(primary ? { electionId: new ObjectId('7fffffff0000000000000001') } : {}),
  lastWrite: { opTime: { ts: new Timestamp({ t: 1_767_225_600, i: 1 }), t: Long.fromNumber(1) }, lastWriteDate: new Date() },
  $clusterTime: clusterTime(),
  operationTime: new Timestamp({ t: 1_767_225_600, i: 1 }),
});

describe('MongoDB adapter: the servers it refuses at start', () => {
  it('accepts 7.0 and newer, release candidates included, and refuses older versions saying what to do', () => {
    expect(versionRefusal(buildInfo('7.0.0', [7, 0, 0, 0]))).to.equal(null);
    expect(versionRefusal(buildInfo('7.0.14', [7, 0, 14, 0]))).to.equal(null);
    expect(versionRefusal(buildInfo('8.0.4', [8, 0, 4, 0]))).to.equal(null);
    expect(versionRefusal(buildInfo('8.2.0-rc3', [8, 2, 0, -47]))).to.equal(null);
    for (const [version, array] of [
      ['6.0.19', [6, 0, 19, 0]],
      ['6.3.2', [6, 3, 2, 0]],
      ['5.0.30', [5, 0, 30, 0]],
      ['4.4.29', [4, 4, 29, 0]],
    ] as const) {
      const refusal = versionRefusal(buildInfo(version, [...array]));
      expect(refusal).to.include(`MongoDB ${version} is too old`).and.include('7.0 or newer').and.include('DATABASE_URL');
    }
    // Without versionArray the version string decides; without either, refused.
    const { versionArray: _drop, ...noArray } = buildInfo('7.0.2', [7, 0, 2, 0]);
    expect(versionRefusal(noArray)).to.equal(null);
    expect(versionRefusal({ ok: 1 })).to.include('MongoDB unknown is too old');
  });

  it('accepts replica set members and mongos; refuses a standalone server and an uninitiated set', () => {
    expect(topologyRefusal(replicaSetMember(true))).to.equal(null);
    expect(topologyRefusal(replicaSetMember(false))).to.equal(null);
    const mongos = { ...helloCommon(), isWritablePrimary: true, msg: 'isdbgrid', $clusterTime: clusterTime(), operationTime: new Timestamp({ t: 1, i: 1 }) };
    expect(topologyRefusal(mongos)).to.equal(null);

    const standalone = { ...helloCommon(), isWritablePrimary: true };
    expect(topologyRefusal(standalone)).to.include('standalone server').and.include('--replSet rs0').and.include('rs.initiate()');

    const uninitiated = { ...helloCommon(), isWritablePrimary: false, secondary: false, info: 'Does not have a valid replica set config', isreplicaset: true };
    const refusal = topologyRefusal(uninitiated);
    expect(refusal).to.include('no configuration yet').and.include('rs.initiate()');
    expect(refusal).to.not.include('standalone');
  });
});

// The driver's internal bulk-write classes, which it uses to build the errors of insertMany
// and bulkWrite (lib/bulk/common.js); the package exports only MongoBulkWriteError itself.
const bulk = createRequire(import.meta.url)('mongodb/lib/bulk/common.js') as {
  BulkWriteResult: new (bulkResult: Document, isOrdered: boolean) => unknown;
  WriteConcernError: new (error: Document) => unknown;
  WriteError: new (error: Document) => unknown;
};

/** What the driver's unordered insertMany holds when a batch comes back with these errors. */
function bulkResult(over: { writeErrors?: unknown[]; writeConcernErrors?: unknown[] } = {}) {
  const raw = { ok: 1, writeErrors: [], writeConcernErrors: [], insertedIds: [{ index: 0, _id: new ObjectId() }], nInserted: 1, nUpserted: 0, nMatched: 0, nModified: 0, nRemoved: 0, upserted: [], ...over };
  return new bulk.BulkWriteResult(raw, false) as ConstructorParameters<typeof MongoBulkWriteError>[1];
}

describe('MongoDB adapter: driver errors become the port’s errors', () => {
  const unavailable = (err: unknown) => {
    expect(isUnavailable(err), String(err)).to.equal(true);
    const mapped = toStoreError(err, 'store the records');
    expect(mapped).to.be.instanceOf(StoreUnavailableError);
    expect((mapped as Error).message).to.match(/^MongoDB cannot store the records now: /);
    expect((mapped as StoreUnavailableError).cause).to.equal(err);
  };
  const permanent = (err: unknown) => {
    expect(isUnavailable(err), String(err)).to.equal(false);
    expect(toStoreError(err, 'store the records')).to.equal(err);
  };

  it('an unreachable server (the driver’s own server selection error) is unavailable, as ingest answers 503 / UNAVAILABLE', async () => {
    const port = await freePort();
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { serverSelectionTimeoutMS: 300, connectTimeoutMS: 300 });
    try {
      const err = await client.db('x').command({ ping: 1 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(MongoServerSelectionError);
      unavailable(err);
      const viaGuard = await guarded('answer', () => client.db('x').command({ ping: 1 })).catch((e: unknown) => e);
      expect(viaGuard).to.be.instanceOf(StoreUnavailableError);
    } finally {
      await client.close();
    }
    // StoreUnavailableError is what ingest turns into its retryable answer.
    expect(errorTable.unavailable).to.include({ http: 503, retryable: true });
  });

  it('openMongoStore rejects with StoreUnavailableError when no server answers', async function () {
    this.timeout(30_000);
    const port = await freePort();
    const err = await openMongoStore({ url: `mongodb://127.0.0.1:${port}/?directConnection=true`, retentionDays: 1, logger: testLogger }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StoreUnavailableError);
    expect((err as Error).message).to.include('MongoDB cannot be reached now');
  });

  it('network errors and timeouts are unavailable', () => {
    unavailable(new MongoNetworkError('connection 4 to 10.0.0.5:27017 closed'));
    unavailable(new MongoNetworkTimeoutError('connection 4 to 10.0.0.5:27017 timed out'));
  });

  it('not-primary, stepdown and shutdown replies during a failover are unavailable', () => {
    const server = (code: number, codeName: string, errmsg: string, errorLabels?: string[]) =>
      new MongoServerError({ ok: 0, errmsg, code, codeName, ...(errorLabels ? { errorLabels } : {}) });
    unavailable(server(10107, 'NotWritablePrimary', 'not primary'));
    unavailable(server(10107, 'NotWritablePrimary', 'not primary', ['RetryableWriteError']));
    unavailable(server(13435, 'NotPrimaryNoSecondaryOk', 'not primary and secondaryOk=false'));
    unavailable(server(189, 'PrimarySteppedDown', 'Primary stepped down while waiting for replication'));
    unavailable(server(11602, 'InterruptedDueToReplStateChange', 'operation was interrupted'));
    unavailable(server(91, 'ShutdownInProgress', 'The server is in quiesce mode and will shut down'));
    unavailable(server(251, 'NoSuchTransaction', 'Transaction with { txnNumber: 3 } has been aborted.', ['TransientTransactionError']));
    // An unknown code with a label the server puts on errors worth retrying.
    unavailable(server(999_999, 'SomethingNew', 'try later', ['RetryableWriteError']));
  });

  it('write concern errors (a majority did not acknowledge) are unavailable: the records are not durable yet', () => {
    // A command reply with ok: 1 and a writeConcernError, as the driver wraps it.
    unavailable(
      new MongoWriteConcernError({
        ok: 1,
        n: 1,
        writeConcernError: {
          code: 64,
          codeName: 'WriteConcernTimeout',
          errmsg: 'waiting for replication timed out',
          errInfo: { wtimeout: true, writeConcern: { w: 'majority', wtimeout: 10000, provenance: 'clientSupplied' } },
        },
      }),
    );
    unavailable(new MongoWriteConcernError({ ok: 1, n: 0, writeConcernError: { code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'Not enough data-bearing nodes' } }));
    unavailable(new MongoServerError({ ok: 0, code: 64, codeName: 'WriteConcernTimeout', errmsg: 'waiting for replication timed out' }));
  });

  it('insertMany’s errors, built as the driver builds them: outages are unavailable, refused documents are not', () => {
    // The write concern failed for a batch (lib/bulk/common.js, executeCommands).
    unavailable(new MongoBulkWriteError({ message: 'waiting for replication timed out', code: 64 }, bulkResult()));
    // The write concern error found after all batches (handleWriteError).
    const wce = new bulk.WriteConcernError({ code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'Not enough data-bearing nodes' });
    unavailable(new MongoBulkWriteError(wce as ConstructorParameters<typeof MongoBulkWriteError>[0], bulkResult({ writeConcernErrors: [wce] })));
    // The connection failed in the middle of the insert.
    unavailable(new MongoBulkWriteError(new MongoNetworkError('connection 7 to 10.0.0.5:27017 closed'), bulkResult()));
    // A not-primary reply for one batch becomes a write error of each of its documents.
    const notPrimary = new bulk.WriteError({ index: 0, code: 10107, errmsg: 'not primary' });
    unavailable(new MongoBulkWriteError({ message: 'not primary', code: 10107, writeErrors: [notPrimary] } as never, bulkResult({ writeErrors: [notPrimary] })));

    // A document the server refused would be refused again: not a retry.
    const invalid = new bulk.WriteError({ index: 1, code: 121, errmsg: 'Document failed validation', errInfo: {} });
    permanent(new MongoBulkWriteError({ message: 'Document failed validation', code: 121, writeErrors: [invalid] } as never, bulkResult({ writeErrors: [invalid] })));
    // Mixed with a not-primary one, still not a retry: the refused document decides.
    permanent(new MongoBulkWriteError({ message: 'not primary', code: 10107, writeErrors: [notPrimary, invalid] } as never, bulkResult({ writeErrors: [notPrimary, invalid] })));
  });

  it('requests the server refuses are not retried, duplicate keys are recognized, port errors pass through', () => {
    permanent(new MongoServerError({ ok: 0, code: 2, codeName: 'BadValue', errmsg: 'bad value' }));
    permanent(new MongoServerError({ ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'not authorized on ai_usage to execute command' }));
    const duplicate = new MongoServerError({ ok: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error collection: ai_usage.tokens index: hash_unique' });
    permanent(duplicate);
    expect(isDuplicateKey(duplicate)).to.equal(true);
    const dupWrite = new bulk.WriteError({ index: 0, code: 11000, errmsg: 'E11000 duplicate key error' });
    expect(isDuplicateKey(new MongoBulkWriteError({ message: 'E11000', code: 11000, writeErrors: [dupWrite] } as never, bulkResult({ writeErrors: [dupWrite] })))).to.equal(true);
    expect(isDuplicateKey(new MongoNetworkError('closed'))).to.equal(false);

    const conflict = new StoreConflictError('tenant t1 already exists');
    expect(toStoreError(conflict, 'create a tenant')).to.equal(conflict);
    const outage = new StoreUnavailableError('already mapped');
    expect(toStoreError(outage, 'x')).to.equal(outage);
    const plain = new Error('a bug');
    expect(toStoreError(plain, 'x')).to.equal(plain);
  });
});

describe('MongoDB adapter on a server', function () {
  const reason = mongoSkipReason('MongoDB adapter checks on a server');
  if (reason !== null) {
    it(reason, function () {
      console.log(reason);
      this.skip();
    });
    return;
  }

  const retentionDays = 30;
  let url: string;
  let client: MongoClient;
  let db: Db;
  let store: MongoStore;
  const database = `aiu_adapter_${process.pid}_${randomBytes(4).toString('hex')}`;
  const open = (days = retentionDays, name = database) => openMongoStore({ url, database: name, retentionDays: days, logger: testLogger });

  before(async () => {
    url = await sharedMongoUrl();
    client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    db = client.db(database);
    store = await open();
  });
  after(async () => {
    await store?.close();
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  const describeCollection = async (name: string) => (await db.listCollections({ name }).toArray())[0] as Document | undefined;
  /** expireAfterSeconds of each time-series collection and of the out-of-range collection's TTL index. */
  const ttls = async () => {
    const out: Record<string, unknown> = {};
    for (const name of Object.values(timeSeries)) out[name] = (await describeCollection(name))?.['options']?.['expireAfterSeconds'];
    out[OUT_OF_RANGE] = (await db.collection(OUT_OF_RANGE).listIndexes().toArray()).find((i) => i['name'] === 'ttl_time')?.['expireAfterSeconds'];
    return out;
  };
  /** The TTL for a longest retention of `days`: TTL keeps whole tenant-days, so it adds RAW_EXPIRY_MARGIN_DAYS. */
  const ttlFor = (days: number) => ttlSecondsOf(days + RAW_EXPIRY_MARGIN_DAYS);
  const allTtl = (days: number) => Object.fromEntries([...Object.values(timeSeries), OUT_OF_RANGE].map((n) => [n, ttlFor(days)]));

  it('creates events, metric_points and spans as time-series collections: timeField, metaField, granularity, TTL', async () => {
    for (const name of Object.values(timeSeries)) {
      const info = await describeCollection(name);
      expect(info?.['type'], name).to.equal('timeseries');
      // granularity "minutes" is what gives buckets of up to a day (bucketMaxSpanSeconds 86400).
      expect(info?.['options']?.['timeseries'], name).to.include({ timeField: 'time', metaField: 'meta', granularity: 'minutes', bucketMaxSpanSeconds: 86_400 });
      expect(info?.['options']?.['expireAfterSeconds'], name).to.equal(ttlFor(retentionDays));
    }
    expect((await describeCollection(OUT_OF_RANGE))?.['type']).to.equal('collection');
    expect(await ttls()).to.deep.equal(allTtl(retentionDays));
  });

  it('changes the TTL with collMod when a tenant’s retention changes, to the longest of any tenant and RETENTION_DAYS', async () => {
    const tenant = { id: 'long', name: 'Long', timezone: 'UTC', retentionDays: 400, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy } };
    await store.createTenant(tenant);
    expect(await ttls()).to.deep.equal(allTtl(400));
    await store.updateTenant('long', { retentionDays: 10 });
    expect(await ttls()).to.deep.equal(allTtl(retentionDays));
    await store.updateTenant('long', { retentionDays: 45 });
    expect(await ttls()).to.deep.equal(allTtl(45));
    // A start with a longer RETENTION_DAYS raises it; the collection options keep timeField and metaField.
    const other = await open(60);
    await other.close();
    expect(await ttls()).to.deep.equal(allTtl(60));
    expect((await describeCollection(timeSeries.event))?.['options']?.['timeseries']).to.include({ timeField: 'time', metaField: 'meta' });
  });

  it('creates the secondary indexes of the pipeline’s reads and the unique indexes of the regular collections', async () => {
    const keys = async (name: string) => Object.fromEntries((await db.collection(name).listIndexes().toArray()).map((i) => [i['name'], { key: i['key'], unique: i['unique'] === true }]));
    const raw = {
      tenant_time: { key: { 'meta.tenant': 1, time: 1 }, unique: false },
      tenant_seat_time: { key: { 'meta.tenant': 1, seat: 1, time: 1 }, unique: false },
      tenant_session: { key: { 'meta.tenant': 1, sessionId: 1 }, unique: false },
    };
    expect(await keys(timeSeries.event)).to.deep.include(raw);
    expect(await keys(timeSeries.span)).to.deep.include(raw);
    expect(await keys(timeSeries.point)).to.deep.include({ ...raw, tenant_name_time: { key: { 'meta.tenant': 1, 'meta.name': 1, time: 1 }, unique: false } });
    expect(await keys(OUT_OF_RANGE)).to.deep.include({
      tenant_kind_time: { key: { 'meta.tenant': 1, kind: 1, time: 1 }, unique: false },
      batch: { key: { batch: 1 }, unique: false },
    });
    expect(await keys(regular.tokens)).to.deep.include({ hash_unique: { key: { hash: 1 }, unique: true } });
    expect(await keys(regular.seatIdentities)).to.deep.include({
      identity_unique: { key: { tenant: 1, userEmail: 1, userAccountUuid: 1, endUserId: 1, userId: 1 }, unique: true },
    });
    expect(await keys(regular.surfacesSeen)).to.deep.include({ tenant_surface_unique: { key: { tenant: 1, surface: 1 }, unique: true } });
    expect(await keys(regular.seatRollups)).to.deep.include({ tenant_day_seat_surface_unique: { key: { tenant: 1, day: 1, seat: 1, surface: 1 }, unique: true } });
    expect(await keys(regular.modelRollups)).to.deep.include({
      tenant_day_seat_surface_model_unique: { key: { tenant: 1, day: 1, seat: 1, surface: 1, model: 1 }, unique: true },
    });
  });

  it('passes its own startup checks on this server, with the replies the server really sends', async () => {
    const admin = db.admin();
    expect(versionRefusal(await admin.command({ buildInfo: 1 }))).to.equal(null);
    expect(topologyRefusal(await admin.command({ hello: 1 }))).to.equal(null);
  });

  it('refuses a database whose events collection is not a time-series collection', async () => {
    const name = `${database}_regular`;
    await client.db(name).createCollection(timeSeries.event);
    try {
      const err = await open(retentionDays, name).catch((e: unknown) => e);
      expect(String(err)).to.include(`collection ${name}.events exists but is not the time-series collection`);
    } finally {
      await client.db(name).dropDatabase();
    }
  });

  it('refuses a standalone server at start, saying to run a replica set', async function () {
    this.timeout(120_000);
    const standalone = await startStandaloneMongod();
    if (standalone === null) {
      const why = 'SKIPPED: a standalone server can only be started from a mongod binary (MONGOMS_SYSTEM_BINARY or mongod on the PATH), and there is none; MONGODB_URL names a replica set';
      if (this.test !== undefined) this.test.title += ` [${why}]`;
      console.log(`    ${why}`);
      this.skip();
    }
    try {
      const err = await openMongoStore({ url: standalone.url, retentionDays: 1, logger: testLogger }).catch((e: unknown) => e);
      expect(String(err)).to.include('MongoDB is a standalone server').and.include('replica set');
    } finally {
      await standalone.stop();
    }
  });
});
