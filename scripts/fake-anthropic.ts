/**
 * A local stand-in for the Anthropic Messages API, so the real Claude Code CLI runs offline.
 *
 * The main agent loop is driven by a script of turns. The next turn is chosen from the conversation
 * itself (the number of tool_result blocks the request carries), so side requests such as title or
 * summary generation get a plain text answer and never advance the script. Every response carries
 * fixed, known token usage, and every request is recorded so tests can compute expected totals.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** What the script can see when it builds a turn: the working directory Claude Code announced. */
export interface TurnContext {
  cwd: string | undefined;
}

export type Turn =
  | { type: 'text'; text: string; usage?: Usage }
  | {
      type: 'tool_use';
      name: string;
      input: Record<string, unknown> | ((ctx: TurnContext) => Record<string, unknown>);
      /** Text the model "says" before calling the tool. */
      preamble?: string;
      usage?: Usage;
    };

export type RequestKind = 'main' | 'side' | 'count_tokens' | 'other';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Claude Code's x-claude-code-session-id header: the session.id its telemetry carries. */
  sessionId: string | undefined;
  kind: RequestKind;
  model: string | undefined;
  stream: boolean | undefined;
  /** Index of the script turn served (main requests only). */
  turn: number | undefined;
  /** Token usage reported back (messages requests only). */
  usage: Usage | undefined;
  status: number;
  body: unknown;
}

export interface FakeAnthropic {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export const MAIN_USAGE: Usage = {
  input_tokens: 1200,
  output_tokens: 80,
  cache_read_input_tokens: 3000,
  cache_creation_input_tokens: 400,
};
export const SIDE_USAGE: Usage = {
  input_tokens: 150,
  output_tokens: 12,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
};

export const HELLO_FILE = 'hello.py';
export const HELLO_CONTENT = [
  '#!/usr/bin/env python3',
  '"""Print a friendly greeting."""',
  '',
  '',
  'def main() -> None:',
  '    print("hello, world")',
  '',
  '',
  'if __name__ == "__main__":',
  '    main()',
  '',
].join('\n');
export const COMMIT_MESSAGE = 'add hello';
export const FINAL_TEXT = `Created ${HELLO_FILE} and committed it as "${COMMIT_MESSAGE}".`;

export const DEFAULT_SCRIPT: Turn[] = [
  {
    type: 'tool_use',
    name: 'Write',
    preamble: `I'll create ${HELLO_FILE}.`,
    input: (ctx) => ({
      file_path: ctx.cwd ? `${ctx.cwd}/${HELLO_FILE}` : HELLO_FILE,
      content: HELLO_CONTENT,
    }),
  },
  {
    type: 'tool_use',
    name: 'Bash',
    preamble: 'Now I will commit it.',
    input: {
      command: `git init -q && git add -A && git -c user.email=dev@example.com -c user.name=Dev commit -qm "${COMMIT_MESSAGE}"`,
      description: 'Initialise a repository and commit the new file',
    },
  },
  { type: 'text', text: FINAL_TEXT },
];

interface MessagesBody {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: unknown }[];
  system?: unknown;
  tools?: { name?: string }[];
}

function countToolResults(body: MessagesBody): number {
  let n = 0;
  for (const message of body.messages ?? []) {
    if (message.role !== 'user' || !Array.isArray(message.content)) continue;
    for (const block of message.content as { type?: string }[]) if (block.type === 'tool_result') n++;
  }
  return n;
}

// Claude Code states the working directory in its system prompt (or, with some flags, the first user message).
function findCwd(body: MessagesBody): string | undefined {
  const text = JSON.stringify([body.system, body.messages]);
  const match = /Primary working directory: ([^\\"]+?)(?:\\n|")/.exec(text);
  return match?.[1]?.trim();
}

// The main loop offers the tools the script calls; side requests (titles, summaries, ...) do not.
function isMainLoop(body: MessagesBody, script: Turn[]): boolean {
  const offered = new Set((body.tools ?? []).map((t) => t.name));
  const called = script.flatMap((t) => (t.type === 'tool_use' ? [t.name] : []));
  return called.length ? called.some((name) => offered.has(name)) : offered.size > 0;
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function blocksFor(turn: Turn, ctx: TurnContext, turnIndex: number): Block[] {
  if (turn.type === 'text') return [{ type: 'text', text: turn.text }];
  const input = typeof turn.input === 'function' ? turn.input(ctx) : turn.input;
  const call: Block = { type: 'tool_use', id: `toolu_fake_${turnIndex}_${randomUUID().slice(0, 8)}`, name: turn.name, input };
  return turn.preamble ? [{ type: 'text', text: turn.preamble }, call] : [call];
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

// Chunked like the real API: text in a few text_delta pieces, tool input as input_json_delta fragments.
function streamEvents(id: string, model: string, blocks: Block[], usage: Usage, stopReason: string): string[] {
  const out = [
    sse('message_start', {
      type: 'message_start',
      message: {
        id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }),
  ];
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      out.push(sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      out.push(sse('ping', { type: 'ping' }));
      for (const piece of chunk(block.text, 16)) {
        out.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
      }
    } else {
      out.push(sse('content_block_start', {
        type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      }));
      for (const piece of chunk(JSON.stringify(block.input), 40)) {
        out.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }));
      }
    }
    out.push(sse('content_block_stop', { type: 'content_block_stop', index }));
  });
  out.push(sse('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage }));
  out.push(sse('message_stop', { type: 'message_stop' }));
  return out;
}

function chunk(s: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < s.length; i += size) parts.push(s.slice(i, i + size));
  return parts.length ? parts : [''];
}

export interface FakeAnthropicOptions {
  script?: Turn[];
  port?: number;
  /** Log every request to stderr. */
  log?: boolean;
  /** Wait this long before answering each messages request, e.g. to make a session span several metric export intervals. */
  delayMs?: number;
}

export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const script = opts.script ?? DEFAULT_SCRIPT;
  const requests: RecordedRequest[] = [];
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  let messageCounter = 0;

  const record = (req: FastifyRequest, entry: Omit<RecordedRequest, 'method' | 'path' | 'headers' | 'sessionId' | 'body'>): void => {
    const path = req.url.split('?')[0] ?? req.url;
    const session = req.headers['x-claude-code-session-id'];
    requests.push({ method: req.method, path, headers: req.headers, sessionId: typeof session === 'string' ? session : undefined, body: req.body, ...entry });
    if (opts.log) process.stderr.write(`[fake-anthropic] ${req.method} ${req.url} -> ${entry.status} ${entry.kind}${entry.turn === undefined ? '' : ` turn ${entry.turn}`} model=${entry.model ?? '-'} stream=${String(entry.stream)}\n`);
  };

  app.post('/v1/messages', async (req: FastifyRequest, reply: FastifyReply) => {
    const body = (req.body ?? {}) as MessagesBody;
    const model = body.model ?? 'claude-unknown';
    const main = isMainLoop(body, script);
    const turnIndex = main ? Math.min(countToolResults(body), script.length - 1) : undefined;
    const turn: Turn = turnIndex === undefined ? { type: 'text', text: 'Hello session' } : (script[turnIndex] as Turn);
    const usage = turn.usage ?? (main ? MAIN_USAGE : SIDE_USAGE);
    const blocks = blocksFor(turn, { cwd: findCwd(body) }, turnIndex ?? -1);
    const stopReason = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
    const id = `msg_fake_${++messageCounter}`;
    record(req, { kind: main ? 'main' : 'side', model, stream: body.stream === true, turn: turnIndex, usage, status: 200 });
    if (opts.delayMs) await new Promise((resolve) => setTimeout(resolve, opts.delayMs));
    void reply.header('request-id', `req_fake_${messageCounter}`);
    if (body.stream !== true) {
      return { id, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage };
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': `req_fake_${messageCounter}`,
    });
    for (const event of streamEvents(id, model, blocks, usage, stopReason)) reply.raw.write(event);
    reply.raw.end();
    return reply;
  });

  app.post('/v1/messages/count_tokens', async (req) => {
    const tokens = Math.ceil(JSON.stringify(req.body ?? {}).length / 4);
    record(req, { kind: 'count_tokens', model: (req.body as MessagesBody | undefined)?.model, stream: undefined, turn: undefined, usage: undefined, status: 200 });
    return { input_tokens: tokens };
  });

  const models = ['claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-sonnet-4-5'].map((id) => ({
    type: 'model', id, display_name: id, created_at: '2026-01-01T00:00:00Z',
  }));
  app.get('/v1/models', async (req) => {
    record(req, { kind: 'other', model: undefined, stream: undefined, turn: undefined, usage: undefined, status: 200 });
    return { data: models, has_more: false, first_id: models[0]?.id, last_id: models.at(-1)?.id };
  });

  // Claude Code probes this before its first request (unless nonessential traffic is disabled).
  app.route({
    method: ['GET', 'HEAD'],
    url: '/api/hello',
    handler: async (req) => {
      record(req, { kind: 'other', model: undefined, stream: undefined, turn: undefined, usage: undefined, status: 200 });
      return { message: 'hello' };
    },
  });

  app.setNotFoundHandler(async (req, reply) => {
    record(req, { kind: 'other', model: undefined, stream: undefined, turn: undefined, usage: undefined, status: 404 });
    return reply.code(404).send({ type: 'error', error: { type: 'not_found_error', message: `fake-anthropic: no route ${req.method} ${req.url}` } });
  });

  const address = await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  return { url: address, requests, close: () => app.close() };
}

async function cli(): Promise<void> {
  const flag = (name: string): number => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : 0;
  };
  const fake = await startFakeAnthropic({ port: flag('--port'), delayMs: flag('--delay-ms'), log: true });
  process.stdout.write(`fake Anthropic API listening on ${fake.url} (set ANTHROPIC_BASE_URL=${fake.url})\n`);
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void cli();
