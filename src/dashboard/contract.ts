// The API shapes this page reads (see /api/v1). Kept here so the page depends on the contract, not the server code.

export type Scope = 'ingest' | 'read' | 'admin';

export interface WhoAmI {
  readonly tenant: string;
  readonly scope: Scope;
  readonly tokenId: string;
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

export interface SeatDayRow extends UsageMeasures {
  readonly day: string;
  readonly seat: string;
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

export interface UsageResponse<Row> {
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
  readonly rows: readonly Row[];
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
