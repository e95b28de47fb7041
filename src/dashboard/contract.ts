// The API shapes this page reads (see /api/v1). Kept here so the page depends on the contract, not the server code.

export type Scope = 'ingest' | 'read' | 'admin';

export interface WhoAmI {
  readonly tenant: string;
  readonly scope: Scope;
  readonly tokenId: string;
  /** The tenant's IANA time zone: its days, and so every day on the Usage page, begin at midnight there. */
  readonly timezone: string;
}

export interface TenantInfo {
  readonly id: string;
  readonly name: string;
  readonly timezone: string;
  readonly retentionDays: number;
  readonly policy: {
    readonly prompts: 'keep' | 'hash' | 'drop';
    readonly responses: 'keep' | 'drop';
    readonly toolDetails: 'keep' | 'drop';
    readonly emails: 'keep' | 'hash';
  };
}

export interface ConnectSetup {
  readonly tenant: string;
  readonly grpcEndpoint: string;
  readonly httpEndpoint: string;
}

export interface SurfaceSeen {
  readonly surface: string;
  readonly lastSeenAt: string;
}

export interface ConnectStatus {
  readonly tenant: string;
  readonly receiving: boolean;
  readonly seats: number;
  readonly surfaces: readonly SurfaceSeen[];
  readonly lastReceivedAt: string | null;
}

export interface TokenInfo {
  readonly id: string;
  readonly tenant: string;
  readonly scope: Scope;
  readonly prefix: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface IssuedToken {
  readonly id: string;
  readonly token: string;
  readonly tenant: string;
  readonly scope: Scope;
}

/** The measures every seat and surface row carries. */
export interface UsageMeasures {
  sessions: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  linesAdded: number;
  linesRemoved: number;
  commits: number;
  pullRequests: number;
  activeTimeUserSeconds: number;
  activeTimeCliSeconds: number;
  editAccepts: number;
  editRejects: number;
  prompts: number;
  apiRequests: number;
  apiErrors: number;
  toolCalls: number;
  toolFailures: number;
}

/** One day's totals over all seats; `activeSeats` counts the distinct seats with usage that day. */
export interface DayTotalsRow extends UsageMeasures {
  readonly day: string;
  readonly activeSeats: number;
}

/** One seat's totals over the range; `activeDays` counts the distinct days it had usage. */
export interface SeatTotalsRow extends UsageMeasures {
  readonly seat: string;
  readonly activeDays: number;
}

export interface ModelDayRow {
  readonly day: string;
  readonly model: string;
  readonly costUsd: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheCreationTokens: number;
}

/** GET /api/v1/usage/summary: everything the Usage page draws for a range, in one answer. */
export interface UsageSummary {
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
  readonly timezone: string;
  /** Days with usage, in order. */
  readonly days: readonly DayTotalsRow[];
  readonly seats: readonly SeatTotalsRow[];
  readonly models: readonly ModelDayRow[];
}

export interface PipelineRun {
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
  readonly days: number;
}

export const MEASURE_KEYS = [
  'sessions',
  'costUsd',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheCreationTokens',
  'linesAdded',
  'linesRemoved',
  'commits',
  'pullRequests',
  'activeTimeUserSeconds',
  'activeTimeCliSeconds',
  'editAccepts',
  'editRejects',
  'prompts',
  'apiRequests',
  'apiErrors',
  'toolCalls',
  'toolFailures',
] as const satisfies readonly (keyof UsageMeasures)[];
