import { createRequire } from 'node:module';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

/** Agenda's own reader of durations ("1 hour", "30 minutes"); CommonJS without types. */
const humanInterval = createRequire(import.meta.url)('human-interval') as (text: string) => number | undefined;

/**
 * What Agenda makes of a repeat interval, read as it reads one (agenda/dist/utils/nextRunAt.js):
 * a number is milliseconds; a text human-interval reads is a duration (it wins over cron);
 * anything else must be a cron expression. Agenda does not check when a job is scheduled: a
 * value it cannot read fails every computation of the next run, and the job never runs.
 */
type Repeat = { kind: 'duration'; ms: number } | { kind: 'cron' } | { kind: 'unreadable'; why: string };

function readRepeat(value: string): Repeat {
  if (value.trim() !== '' && Number.isFinite(Number(value))) return { kind: 'duration', ms: Number(value) };
  const ms = humanInterval(value);
  if (typeof ms === 'number' && !Number.isNaN(ms)) return { kind: 'duration', ms };
  try {
    CronExpressionParser.parse(value, { tz: 'UTC' }).next();
    return { kind: 'cron' };
  } catch (e) {
    return { kind: 'unreadable', why: e instanceof Error ? e.message : String(e) };
  }
}

/** PIPELINE_INTERVAL: a duration longer than 0 (0 or less would run the job in a loop), or a cron expression. */
export function intervalProblem(value: string): string | null {
  const r = readRepeat(value);
  if (r.kind === 'cron') return null;
  if (r.kind === 'duration') return r.ms > 0 ? null : `"${value}" is read as ${r.ms} ms; use a duration longer than 0 such as "1 hour" or "30 minutes"`;
  return `"${value}" is neither a duration ("1 hour", "30 minutes") nor a cron expression ("0 * * * *"): ${r.why}`;
}

/** PIPELINE_DAILY_CRON: a cron expression that Agenda does not take for a duration ("@weekly" would be every 7 days from start). */
export function cronProblem(value: string): string | null {
  const r = readRepeat(value);
  if (r.kind === 'cron') return null;
  if (r.kind === 'duration') {
    return `"${value}" is read by the scheduler as a duration of ${r.ms} ms, not a time of day; write a cron expression such as "15 0 * * *"`;
  }
  return `"${value}" is not a cron expression (minute hour day-of-month month day-of-week, e.g. "15 0 * * *"): ${r.why}`;
}

const checked = (problem: (v: string) => string | null) => (value: string, ctx: z.RefinementCtx<string>) => {
  const message = problem(value);
  if (message !== null) ctx.addIssue({ code: 'custom', message });
};

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Every setting the service reads, all from the environment. The keys of this
 * schema are the complete list of variables: the k8s manifests and the README
 * are checked against it.
 */
export const configSchema = z
  .object({
    BIND_HOST: z.string().min(1).default('0.0.0.0'),
    OTLP_GRPC_PORT: port(4317),
    OTLP_HTTP_PORT: port(4318),
    API_PORT: port(8080),
    /** Public URLs the Connect page and `setup` print; default: derived from the request host. */
    PUBLIC_GRPC_URL: optionalString,
    PUBLIC_HTTP_URL: optionalString,

    DATABASE_URL: optionalString,
    MONGODB_URL: optionalString,
    DATA_DIR: z.string().min(1).default('./.data'),
    EMBEDDED_PG_PORT: port(54329),

    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    /** Largest request body, checked before and after decompression (OTLP recommends 64 MiB). */
    MAX_REQUEST_BYTES: positiveInt(64 * 1024 * 1024),
    /**
     * Bytes of request bodies held at once; past it new requests get UNAVAILABLE / 503. The
     * process holds about three times this at the most (the bodies, and their records as
     * the store's write buffers until committed).
     */
    MAX_INFLIGHT_BYTES: positiveInt(64 * 1024 * 1024),
    /** Seconds a client is told to wait (RetryInfo / Retry-After) when the store or the server is busy. */
    RETRY_AFTER_SECONDS: positiveInt(5),
    /** How long a token lookup is cached; a revocation takes effect within this time. */
    TOKEN_CACHE_TTL_MS: positiveInt(5000),
    /** Records stamped further than this in the future are rejected through partial_success. */
    MAX_FUTURE_SKEW_SECONDS: positiveInt(3600),
    /** Records older than this are rejected through partial_success (they would fall outside retention). */
    MAX_RECORD_AGE_DAYS: positiveInt(90),
    MAX_ATTRIBUTE_DEPTH: positiveInt(8),
    MAX_ATTRIBUTES_PER_RECORD: positiveInt(256),
    MAX_STRING_LENGTH: positiveInt(65536),
    /** Failed authentications allowed per source address per minute before 429 / RESOURCE_EXHAUSTED. */
    AUTH_FAILURES_PER_MINUTE: positiveInt(30),

    RETENTION_DAYS: positiveInt(90),
    PIPELINE_ENABLED: bool(true),
    /** How often the refresh job runs: a duration Agenda reads ("1 hour") or a cron expression. */
    PIPELINE_INTERVAL: z.string().min(1).superRefine(checked(intervalProblem)).default('1 hour'),
    /** When the finalize job runs, a cron expression in UTC. */
    PIPELINE_DAILY_CRON: z.string().min(1).superRefine(checked(cronProblem)).default('15 0 * * *'),
    PIPELINE_CATCHUP_DAYS: z.coerce.number().int().min(0).max(60).default(3),

    GRPC_MAX_CONNECTION_AGE_MS: positiveInt(5 * 60 * 1000),
    GRPC_MAX_CONNECTION_AGE_GRACE_MS: positiveInt(30 * 1000),
    GRPC_MAX_CONNECTION_IDLE_MS: positiveInt(10 * 60 * 1000),
    GRPC_KEEPALIVE_TIME_MS: positiveInt(60 * 1000),
    GRPC_KEEPALIVE_TIMEOUT_MS: positiveInt(20 * 1000),
    /** HTTP/2 streams (calls at once) per gRPC connection. */
    GRPC_MAX_CONCURRENT_STREAMS: positiveInt(32),
    HTTP_REQUEST_TIMEOUT_MS: positiveInt(60 * 1000),
    HTTP_HEADERS_TIMEOUT_MS: positiveInt(15 * 1000),
    HTTP_KEEPALIVE_TIMEOUT_MS: positiveInt(65 * 1000),
    SHUTDOWN_TIMEOUT_MS: positiveInt(25 * 1000),

    TLS_CERT_FILE: optionalString,
    TLS_KEY_FILE: optionalString,
    /** When set, clients must present a certificate signed by this CA (mTLS). */
    TLS_CLIENT_CA_FILE: optionalString,
  })
  .superRefine((c, ctx) => {
    if (c.DATABASE_URL && c.MONGODB_URL) {
      ctx.addIssue({ code: 'custom', path: ['MONGODB_URL'], message: 'set DATABASE_URL or MONGODB_URL, not both' });
    }
    if (Boolean(c.TLS_CERT_FILE) !== Boolean(c.TLS_KEY_FILE)) {
      ctx.addIssue({ code: 'custom', path: ['TLS_KEY_FILE'], message: 'TLS_CERT_FILE and TLS_KEY_FILE go together' });
    }
    if (c.TLS_CLIENT_CA_FILE && !c.TLS_CERT_FILE) {
      ctx.addIssue({ code: 'custom', path: ['TLS_CLIENT_CA_FILE'], message: 'mTLS needs TLS_CERT_FILE and TLS_KEY_FILE' });
    }
  });

export type Config = Readonly<z.infer<typeof configSchema>>;

/** The variable names the service understands. */
export const configKeys: readonly string[] = Object.freeze(Object.keys(configSchema.shape));

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; throws a ConfigError that names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string | undefined> = {};
  for (const key of configKeys) if (env[key] !== undefined) picked[key] = env[key];
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}
