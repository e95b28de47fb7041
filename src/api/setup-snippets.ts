// Pure builders for the setup snippets shown on the Connect page and printed by `ai-usage setup`.
// No DOM and no imports, so the CLI can reuse this file as is.

export type OtlpProtocol = 'grpc' | 'http/protobuf';

/** Shown in place of a token when no ingest token was issued in this session. */
export const INGEST_TOKEN_PLACEHOLDER = '<INGEST_TOKEN>';

/** Cowork sends over HTTP only; http/protobuf is the protocol its admin settings accept everywhere. */
export const COWORK_PROTOCOL = 'http/protobuf';

export interface CoworkField {
  readonly key: 'endpoint' | 'protocol' | 'headers';
  readonly label: string;
  readonly value: string;
}

/** The OTLP headers value: `Authorization=Bearer <token>`. */
export function authorizationHeader(token: string): string {
  return `Authorization=Bearer ${token}`;
}

/** The environment Claude Code needs to export all three signals to this receiver, in a stable order. */
export function telemetryEnv(
  protocol: OtlpProtocol,
  endpoint: string,
  token: string,
  tenant: string,
): Record<string, string> {
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_TRACES_EXPORTER: 'otlp',
    CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_HEADERS: authorizationHeader(token),
    OTEL_RESOURCE_ATTRIBUTES: `tenant.id=${tenant}`,
  };
}

/** A Claude Code `managed-settings.json`, pretty-printed, ending with a newline. */
export function managedSettings(protocol: OtlpProtocol, endpoint: string, token: string, tenant: string): string {
  return `${JSON.stringify({ env: telemetryEnv(protocol, endpoint, token, tenant) }, null, 2)}\n`;
}

/** POSIX shell `export` lines for the same environment, one per line, ending with a newline. */
export function envLines(protocol: OtlpProtocol, endpoint: string, token: string, tenant: string): string {
  const env = telemetryEnv(protocol, endpoint, token, tenant);
  return Object.entries(env)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join('');
}

/** The three fields of Cowork's Monitoring settings (endpoint, protocol, headers). */
export function coworkFields(httpEndpoint: string, token: string): CoworkField[] {
  return [
    { key: 'endpoint', label: 'OTLP endpoint', value: httpEndpoint },
    { key: 'protocol', label: 'OTLP protocol', value: COWORK_PROTOCOL },
    { key: 'headers', label: 'OTLP headers', value: authorizationHeader(token) },
  ];
}

// Values with spaces or shell metacharacters (the header, the placeholder) are single-quoted;
// plain ones stay bare so the common lines read naturally.
function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_.,:/=@+%-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
