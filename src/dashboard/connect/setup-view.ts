// The Setup card: endpoints, tenant id, and ready-to-copy snippets with the session's ingest token filled in.
import type { ConnectSetup } from '../contract.js';
import { copyButton, esc } from '../dom.js';
import {
  INGEST_TOKEN_PLACEHOLDER,
  coworkFields,
  envLines,
  managedSettings,
  type OtlpProtocol,
} from '../../api/setup-snippets.js';

export interface SetupInputs {
  readonly setup: ConnectSetup;
  readonly protocol: OtlpProtocol;
  /** The ingest token issued in this session, or null to show the placeholder. */
  readonly token: string | null;
  readonly isAdmin: boolean;
}

export function setupHtml(inputs: SetupInputs): string {
  const { setup, protocol, isAdmin } = inputs;
  const token = inputs.token ?? INGEST_TOKEN_PLACEHOLDER;
  const endpoint = protocol === 'grpc' ? setup.grpcEndpoint : setup.httpEndpoint;
  const cowork = coworkFields(setup.httpEndpoint, token);
  return `
    <dl class="kv">
      ${kvRow('Tenant id', 'setup-tenant', setup.tenant)}
      ${kvRow('OTLP gRPC endpoint', 'setup-grpc-endpoint', setup.grpcEndpoint)}
      ${kvRow('OTLP HTTP endpoint', 'setup-http-endpoint', setup.httpEndpoint)}
    </dl>
    ${tokenNote(inputs.token !== null, isAdmin)}
    <h3 class="subhead">Claude Code</h3>
    <fieldset class="segmented" data-testid="setup-protocol">
      <legend class="visually-hidden">OTLP protocol</legend>
      ${protocolOption('grpc', 'gRPC', protocol)}
      ${protocolOption('http/protobuf', 'HTTP/protobuf', protocol)}
    </fieldset>
    ${snippet('managed-settings.json', 'setup-managed-settings', managedSettings(protocol, endpoint, token, setup.tenant))}
    <p class="hint">Deploy it as <code>managed-settings.json</code> on each machine
      (macOS <code>/Library/Application Support/ClaudeCode/</code>, Linux <code>/etc/claude-code/</code>,
      Windows <code>C:\\ProgramData\\ClaudeCode\\</code>); users cannot override it. Claude Code reads it at start.</p>
    ${snippet('Environment variables', 'setup-env', envLines(protocol, endpoint, token, setup.tenant))}
    <p class="hint">For a single machine or CI: put these in the shell profile before starting <code>claude</code>.</p>
    <h3 class="subhead">Claude Cowork</h3>
    <p class="hint">In Claude's admin settings, open <strong>Cowork → Monitoring</strong> and enter these three fields.
      Cowork sends over HTTP only.</p>
    <dl class="kv">${cowork.map((f) => kvRow(f.label, `setup-cowork-${f.key}`, f.value)).join('')}</dl>`;
}

function tokenNote(hasToken: boolean, isAdmin: boolean): string {
  if (hasToken) {
    return `<p class="note note-ok" data-testid="setup-token-note">The snippets below contain the ingest token issued on this page.
      Treat them as secrets.</p>`;
  }
  const how = isAdmin
    ? 'Issue an ingest token under <button type="button" class="link-button" data-scroll-to="tokens-card">Tokens</button> to fill it in.'
    : 'Ask an admin for an ingest token and put it in place of the placeholder.';
  return `<p class="note" data-testid="setup-token-note">The snippets show <code>${esc(INGEST_TOKEN_PLACEHOLDER)}</code>. ${how}</p>`;
}

function kvRow(label: string, id: string, value: string): string {
  return `<div class="kv-row"><dt>${esc(label)}</dt>
    <dd><code class="copyable" id="${id}" data-testid="${id}">${esc(value)}</code>${copyButton(id, `${id}-copy`)}</dd></div>`;
}

function protocolOption(value: OtlpProtocol, label: string, current: OtlpProtocol): string {
  const slug = value === 'grpc' ? 'grpc' : 'http';
  return `<label class="segment"><input type="radio" name="setup-protocol" value="${value}"
    data-testid="setup-protocol-${slug}"${value === current ? ' checked' : ''}><span>${esc(label)}</span></label>`;
}

function snippet(title: string, id: string, text: string): string {
  return `<div class="snippet">
      <div class="snippet-head"><span class="snippet-title">${esc(title)}</span>${copyButton(id, `${id}-copy`)}</div>
      <pre class="snippet-body" id="${id}" data-testid="${id}" tabindex="0">${esc(text)}</pre>
    </div>`;
}
