// Shared by every SDK test: fake providers on loopback that check what the real ones check
// (path, auth, required fields) and answer in their own wire formats, and the portico binary
// started as a process in front of them. Each *.test.mjs file runs in its own node process, so
// each gets its own fakes and its own gateway.
//
// What the fakes answer is chosen by the request, not by test state:
// - a last user message containing "break": a stream that sends one chunk, then the socket dies;
// - a conversation ending with a tool result (OpenAI tool message, Anthropic tool_result block,
//   Converse toolResult block): the text toolAnswer(provider, <the result's text>), tools or not;
// - otherwise tools in the request: a call to get_weather with {"city":"Paris"};
// - otherwise the provider's TEXT, split in two deltas when streamed, and its USAGE.
import http from 'node:http';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';

// ---- what the fakes expect and answer --------------------------------------------------------

export const KEYS = {
  openai: 'sk-test',
  anthropic: 'sk-ant-test',
  'perplexity-ai': 'pplx-test',
  'mistral-ai': 'mistral-test',
};

export const AWS = {
  accessKeyId: 'AKIDSDKTEST',
  secretAccessKey: 'sdk/secret+KEY',
  sessionToken: 'FwoGZXIvYXdzSDKSESSIONTOKEN',
  region: 'eu-west-3',
};

export const MODELS = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-haiku-latest',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
  'perplexity-ai': 'sonar',
  'mistral-ai': 'mistral-small-latest',
};

export const EMBEDDING_MODELS = { openai: 'text-embedding-3-small', bedrock: 'amazon.titan-embed-text-v2:0' };

// Streams send TEXT[p] as two deltas; plain answers send it whole.
export const TEXT = {
  openai: 'Hello',
  anthropic: 'Bonjour',
  bedrock: 'Hola',
  'perplexity-ai': 'Ciao',
  'mistral-ai': 'Salut',
};

// What a provider answers to a conversation whose last turn is a tool result: its TEXT and the
// result, so a test sees the result reached the provider.
export function toolAnswer(provider, result) {
  return `${TEXT[provider]}: ${result}`;
}

// The token counts each upstream reports, in OpenAI's names.
export const USAGE = {
  openai: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
  anthropic: { prompt_tokens: 10, completion_tokens: 7, total_tokens: 17 },
  bedrock: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 },
  'perplexity-ai': { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
  'mistral-ai': { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

// What a broken stream delivers before the socket dies.
export const PARTIAL = 'par';

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

// A deterministic embedding per input text, so order mistakes show: [length, first char code].
export function embeddingOf(text) {
  return [text.length, text.charCodeAt(0) || 0];
}

// ---- small helpers ---------------------------------------------------------------------------

export const TEST_TIMEOUT_MS = 10_000;

// Rejects when `promise` has not settled within `ms`.
export function within(promise, ms = TEST_TIMEOUT_MS, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function parseBody(raw) {
  try {
    return raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => p?.text ?? '').join('');
  return '';
}

function lastUserText(messages) {
  const users = (messages ?? []).filter((m) => m.role === 'user');
  return users.length ? textOf(users.at(-1).content) : '';
}

// Writes `bytes` in awkward pieces, so frames and events straddle writes.
function writeInPieces(res, bytes, size = 13) {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  for (let i = 0; i < buf.length; i += size) res.write(buf.subarray(i, i + size));
}

// Sends `head` and then kills the connection: no end of stream, no [DONE], no last chunk.
function breakAfter(res, head) {
  res.write(head, () => res.socket.destroy());
}

// ---- OpenAI and OpenAI-compatible providers ----------------------------------------------------

// The top-level fields OpenAI's chat completions and embeddings accept; anything else is a 400
// "Unrecognized request argument supplied" there (checked only on the openai fake: the others
// have their own lists).
const OPENAI_CHAT_FIELDS = new Set([
  'model', 'messages', 'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias',
  'logprobs', 'max_completion_tokens', 'max_tokens', 'metadata', 'modalities', 'n',
  'parallel_tool_calls', 'prediction', 'presence_penalty', 'prompt_cache_key',
  'prompt_cache_retention', 'reasoning_effort', 'response_format', 'safety_identifier', 'seed',
  'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools',
  'top_logprobs', 'top_p', 'user', 'verbosity', 'web_search_options',
]);
const OPENAI_EMBEDDING_FIELDS = new Set(['model', 'input', 'dimensions', 'encoding_format', 'user']);
const OPENAI_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

// What is wrong with a chat `messages` array by OpenAI's rules ('' when nothing): known roles,
// well-formed tool_calls, and every tool message answering a tool_call of the assistant message
// before it, every tool_call answered.
function openaiMessagesProblem(messages) {
  let pending = null; // the tool_call ids of the last assistant message not yet answered
  for (const [i, m] of messages.entries()) {
    if (!m || !OPENAI_ROLES.has(m.role)) return `Invalid value: '${m?.role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`;
    if (m.role === 'tool') {
      if (!pending || !pending.has(m.tool_call_id)) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
      }
      pending.delete(m.tool_call_id);
      continue;
    }
    if (pending?.size) {
      return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(', ')}`;
    }
    pending = null;
    if (m.role === 'assistant' && m.tool_calls !== undefined) {
      if (!Array.isArray(m.tool_calls) || !m.tool_calls.length) return `Invalid 'messages[${i}].tool_calls': empty array. Expected an array with minimum length 1.`;
      for (const c of m.tool_calls) {
        if (typeof c.id !== 'string' || c.type !== 'function' || typeof c.function?.name !== 'string' || typeof c.function?.arguments !== 'string') {
          return `Invalid 'messages[${i}].tool_calls': each needs id, type 'function', function.name and function.arguments (a string).`;
        }
      }
      pending = new Set(m.tool_calls.map((c) => c.id));
    } else if (m.content === undefined || m.content === null) {
      return `Invalid value for 'messages[${i}].content': expected a string or an array, got null.`;
    }
  }
  return pending?.size ? `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(', ')}` : '';
}

// `prefix`: the path the provider's API lives under ("/v1" for OpenAI, "" for Perplexity).
// `crlf`: frame SSE events with \r\n\r\n; `done`: end streams with data: [DONE].
// `alwaysUsage`: put usage on the finishing chunk even unasked (Perplexity does).
// `strict`: refuse unknown top-level fields and malformed tool conversations (OpenAI does).
function openaiCompatible(provider, { prefix, crlf = false, done = true, alwaysUsage = false, strict = false }) {
  const key = KEYS[provider];
  const sep = crlf ? '\r\n\r\n' : '\n\n';
  const error = (res, status, message, type, code = null, param = null) =>
    json(res, status, { error: { message, type, param, code } });
  return (req, raw, res) => {
    const body = parseBody(raw);
    if (req.headers.authorization !== `Bearer ${key}`) {
      return error(res, 401, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');
    }
    if (req.method !== 'POST') return error(res, 405, 'method not allowed', 'invalid_request_error');
    if (!body || typeof body !== 'object') {
      return error(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
    }
    if (typeof body.model !== 'string' || !body.model) {
      return error(res, 400, 'you must provide a model parameter', 'invalid_request_error');
    }
    const fields = req.url === `${prefix}/embeddings` ? OPENAI_EMBEDDING_FIELDS : OPENAI_CHAT_FIELDS;
    const unknown = strict ? Object.keys(body).find((k) => !fields.has(k)) : undefined;
    if (unknown !== undefined) {
      return error(res, 400, `Unrecognized request argument supplied: ${unknown}`, 'invalid_request_error', null, unknown);
    }
    if (req.url === `${prefix}/embeddings`) {
      const inputs = typeof body.input === 'string' ? [body.input] : body.input;
      if (!Array.isArray(inputs) || !inputs.length || !inputs.every((i) => typeof i === 'string')) {
        return error(res, 400, "'input' must be a string or an array of strings", 'invalid_request_error');
      }
      const encode = (v) => (body.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
      return json(res, 200, {
        object: 'list',
        model: body.model,
        data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: encode(embeddingOf(text)) })),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
      });
    }
    if (req.url !== `${prefix}/chat/completions`) return error(res, 404, `Unknown request URL: POST ${req.url}`, 'invalid_request_error');
    if (!Array.isArray(body.messages) || !body.messages.length) {
      return error(res, 400, "'messages' must be a non-empty array", 'invalid_request_error');
    }
    const problem = strict ? openaiMessagesProblem(body.messages) : '';
    if (problem) return error(res, 400, problem, 'invalid_request_error', null, 'messages');
    for (const tool of body.tools ?? []) {
      if (tool.type !== 'function' || typeof tool.function?.name !== 'string') {
        return error(res, 400, "Missing required parameter: 'tools[0].function'", 'invalid_request_error');
      }
      if (strict && tool.function.parameters !== undefined && (typeof tool.function.parameters !== 'object' || tool.function.parameters?.type !== 'object')) {
        return error(res, 400, `Invalid schema for function '${tool.function.name}': schema must be a JSON Schema of 'type: "object"'.`, 'invalid_request_error');
      }
    }
    const usage = USAGE[provider];
    // A conversation that ends with a tool result is answered with text, whatever the tools.
    const lastMessage = body.messages.at(-1);
    const toolResult = lastMessage.role === 'tool' ? textOf(lastMessage.content) : undefined;
    const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && toolResult === undefined;
    const text = toolResult === undefined ? TEXT[provider] : toolAnswer(provider, toolResult);
    const base = { id: 'chatcmpl-1', created: 1, model: body.model };
    if (!body.stream) {
      const message = wantsTool
        ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }
        : { role: 'assistant', content: text };
      return json(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message, logprobs: null, finish_reason: wantsTool ? 'tool_calls' : 'stop' }],
        usage,
      });
    }
    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (delta, finish = null, extra = {}) =>
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}${sep}`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (lastUserText(body.messages).includes('break')) {
      return breakAfter(res, chunk({ role: 'assistant', content: PARTIAL }));
    }
    const events = [];
    if (wantsTool) {
      events.push(
        chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      );
    } else {
      const half = Math.ceil(text.length / 2);
      events.push(chunk({ role: 'assistant', content: '' }), chunk({ content: text.slice(0, half) }), chunk({ content: text.slice(half) }));
    }
    events.push(chunk({}, wantsTool ? 'tool_calls' : 'stop', alwaysUsage ? { usage } : {}));
    if (includeUsage && !alwaysUsage) {
      events.push(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}${sep}`);
    }
    if (done) events.push(`data: [DONE]${sep}`);
    writeInPieces(res, events.join(''));
    res.end();
  };
}

// ---- Anthropic (and Claude on Bedrock's InvokeModel, which takes the same body) ----------------

// The top-level fields Anthropic's Messages API accepts; others are a 400 "Extra inputs are not
// permitted". Bedrock's InvokeModel takes these without model and stream, plus anthropic_version
// and anthropic_beta.
const ANTHROPIC_FIELDS = new Set([
  'model', 'messages', 'max_tokens', 'system', 'stop_sequences', 'stream', 'temperature', 'top_p',
  'top_k', 'tools', 'tool_choice', 'metadata', 'thinking', 'service_tier', 'container',
  'mcp_servers', 'context_management', 'output_config',
]);
const BEDROCK_CLAUDE_FIELDS = new Set([
  ...[...ANTHROPIC_FIELDS].filter((k) => k !== 'model' && k !== 'stream' && k !== 'service_tier' && k !== 'container' && k !== 'mcp_servers'),
  'anthropic_version', 'anthropic_beta',
]);
const ANTHROPIC_BLOCKS = new Set([
  'text', 'image', 'document', 'search_result', 'tool_use', 'tool_result', 'thinking',
  'redacted_thinking', 'server_tool_use', 'web_search_tool_result',
]);

const blocksOf = (m) => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content);

// What is wrong with a Messages body by Anthropic's rules ('' when nothing): messages and
// max_tokens present, system a string or text blocks, roles alternating, known block types, every
// tool_use answered by a tool_result (first in the next user message) and no tool_result without
// its tool_use, tools with input_schema.
function claudeProblem(body) {
  if (!Array.isArray(body.messages) || !body.messages.length) return 'messages: Field required';
  if (!Number.isInteger(body.max_tokens)) return 'max_tokens: Field required';
  if (body.system !== undefined && typeof body.system !== 'string' &&
      !(Array.isArray(body.system) && body.system.every((b) => b?.type === 'text' && typeof b.text === 'string'))) {
    return 'system: Input should be a valid string or a list of text blocks';
  }
  let prev = null;
  for (const [i, m] of body.messages.entries()) {
    if (m?.role !== 'user' && m?.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (prev && m.role === prev.role) return 'messages: roles must alternate between "user" and "assistant"';
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return `messages.${i}.content: Input should be a valid list`;
    const blocks = blocksOf(m);
    for (const [j, b] of blocks.entries()) {
      if (!ANTHROPIC_BLOCKS.has(b?.type)) return `messages.${i}.content.${j}: Input tag '${b?.type}' found using 'type' does not match any of the expected tags`;
      if (b.type === 'text' && typeof b.text !== 'string') return `messages.${i}.content.${j}.text: Field required`;
      if (b.type === 'tool_use' && (typeof b.id !== 'string' || typeof b.name !== 'string' || typeof b.input !== 'object' || b.input === null || Array.isArray(b.input))) {
        return `messages.${i}.content.${j}: tool_use needs id, name and an object input`;
      }
      if (b.type === 'tool_use' && m.role !== 'assistant') return `messages.${i}.content.${j}: tool_use blocks are only allowed in assistant messages`;
      if (b.type === 'tool_result' && m.role !== 'user') return `messages.${i}.content.${j}: tool_result blocks are only allowed in user messages`;
    }
    const uses = prev ? blocksOf(prev).filter((b) => b.type === 'tool_use').map((b) => b.id) : [];
    const results = blocks.filter((b) => b.type === 'tool_result');
    for (const r of results) {
      if (!uses.includes(r.tool_use_id)) {
        return `messages.${i}.content.${blocks.indexOf(r)}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${r.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
    if (results.length && blocks.slice(0, results.length).some((b) => b.type !== 'tool_result')) {
      return `messages.${i}: \`tool_result\` blocks must come first in the content of a user message`;
    }
    const missing = uses.filter((id) => !results.some((r) => r.tool_use_id === id));
    if (missing.length) {
      return `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
    prev = m;
  }
  for (const [i, tool] of (body.tools ?? []).entries()) {
    if (typeof tool.name !== 'string' || typeof tool.input_schema !== 'object' || tool.input_schema?.type !== 'object') {
      return `tools.${i}.input_schema: Field required (a JSON schema of type object)`;
    }
  }
  return '';
}

// What a Claude model answers to `body` (already checked): the message and, for streams, its
// events (objects with their type), for `provider`'s TEXT and USAGE.
function claudeAnswer(body, provider, model) {
  const last = body.messages.at(-1);
  const results = last.role === 'user' ? blocksOf(last).filter((b) => b.type === 'tool_result') : [];
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && !results.length;
  const text = results.length ? toolAnswer(provider, textOf(results.at(-1).content)) : TEXT[provider];
  const { prompt_tokens: input, completion_tokens: output } = USAGE[provider];
  const content = wantsTool
    ? [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }]
    : [{ type: 'text', text }];
  const stopReason = wantsTool ? 'tool_use' : 'end_turn';
  const message = {
    id: 'msg_1', type: 'message', role: 'assistant', model, content,
    stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: input, output_tokens: output },
  };
  const start = {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, usage: { input_tokens: input, output_tokens: 1 } },
  };
  const events = [start, { type: 'ping' }];
  if (wantsTool) {
    events.push(
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } },
    );
  } else {
    const half = Math.ceil(text.length / 2);
    events.push(
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(0, half) } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(half) } },
    );
  }
  events.push(
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: output } },
    { type: 'message_stop' },
  );
  const broken = [start, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: PARTIAL } }];
  return { message, events, broken, breaks: lastUserText(body.messages).includes('break') };
}

function anthropic() {
  const error = (res, status, type, message) => json(res, status, { type: 'error', error: { type, message } });
  return (req, raw, res) => {
    const body = parseBody(raw);
    if (req.method !== 'POST' || req.url !== '/v1/messages') return error(res, 404, 'not_found_error', `Not found: ${req.url}`);
    if (req.headers['x-api-key'] !== KEYS.anthropic || req.headers.authorization) {
      return error(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (!req.headers['anthropic-version']) return error(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (!body || typeof body !== 'object' || typeof body.model !== 'string') {
      return error(res, 400, 'invalid_request_error', 'model: Field required');
    }
    const extra = Object.keys(body).find((k) => !ANTHROPIC_FIELDS.has(k));
    if (extra !== undefined) return error(res, 400, 'invalid_request_error', `${extra}: Extra inputs are not permitted`);
    const problem = claudeProblem(body);
    if (problem) return error(res, 400, 'invalid_request_error', problem);
    const answer = claudeAnswer(body, 'anthropic', body.model);
    if (!body.stream) return json(res, 200, answer.message);
    const sse = (events) => events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    if (answer.breaks) return breakAfter(res, sse(answer.broken));
    writeInPieces(res, sse(answer.events));
    res.end();
  };
}

// ---- Bedrock: SigV4, Converse, binary event streams, Titan ------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// One application/vnd.amazon.eventstream message: total length, headers length, prelude CRC,
// headers (name length, name, type 7 = string, value length, value), payload, message CRC.
export function eventStreamFrame(headers, payload) {
  const parts = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(v.length);
    parts.push(Buffer.from([n.length]), n, Buffer.from([7]), len, v);
  }
  const head = Buffer.concat(parts);
  const body = Buffer.from(payload);
  const total = 12 + head.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(head.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude));
  const withoutCrc = Buffer.concat([prelude, preludeCrc, head, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(withoutCrc));
  return Buffer.concat([withoutCrc, crc]);
}

const bedrockEvent = (type, payload) =>
  eventStreamFrame({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, JSON.stringify(payload));

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// AWS's canonical URI for non-S3 services: the path as sent, every byte except unreserved ones
// and '/' percent-encoded again ("%3A" -> "%253A").
function canonicalUri(path) {
  let out = '';
  for (const byte of Buffer.from(path)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~/]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// "" when the request carries a valid SigV4 signature for bedrock in AWS.region, else the reason.
// Recomputed here from the raw request, independent of the gateway's signer.
export function verifySigV4(req, raw) {
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) return `not SigV4: ${auth.slice(0, 20)}`;
  const field = (name) => (auth.match(new RegExp(`${name}=([^,\\s]+)`)) ?? [])[1] ?? '';
  const credential = field('Credential');
  const signedHeaders = field('SignedHeaders');
  const signature = field('Signature');
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[0] !== AWS.accessKeyId || scope[2] !== AWS.region || scope[3] !== 'bedrock' || scope[4] !== 'aws4_request') {
    return `bad credential scope: ${credential}`;
  }
  const amzDate = req.headers['x-amz-date'] ?? '';
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== scope[1]) return 'bad x-amz-date';
  const when = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(Date.now() - when) > 5 * 60 * 1000) return 'Signature expired';
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date']) if (!names.includes(required)) return `unsigned ${required}`;
  if (req.headers['x-amz-security-token'] !== undefined && !names.includes('x-amz-security-token')) return 'unsigned x-amz-security-token';
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  let canonical = `${req.method}\n${canonicalUri(path)}\n${query}\n`;
  for (const name of names) canonical += `${name}:${String(req.headers[name] ?? '').trim()}\n`;
  canonical += `\n${signedHeaders}\n${sha256(raw)}`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope[1]}/${AWS.region}/bedrock/aws4_request\n${sha256(canonical)}`;
  let key = hmac(`AWS4${AWS.secretAccessKey}`, scope[1]);
  key = hmac(key, AWS.region);
  key = hmac(key, 'bedrock');
  key = hmac(key, 'aws4_request');
  const expected = hmac(key, toSign).toString('hex');
  return expected === signature ? '' : 'signature mismatch';
}

function bedrock() {
  const awsError = (res, status, type, message) =>
    json(res, status, { message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
  return (req, raw, res) => {
    const m = req.url.match(/^\/model\/([^/?]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/);
    if (req.method !== 'POST' || !m) return awsError(res, 404, 'UnknownOperationException', `no route for ${req.url}`);
    const why = verifySigV4(req, raw);
    if (why) {
      return awsError(res, 403, 'InvalidSignatureException', `The request signature we calculated does not match the signature you provided. (${why})`);
    }
    if (req.headers['x-amz-security-token'] !== AWS.sessionToken) {
      return awsError(res, 403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return awsError(res, 400, 'ValidationException', 'bad content type');
    }
    const model = decodeURIComponent(m[1]);
    const action = m[2];
    const body = parseBody(raw);
    if (!body || typeof body !== 'object' || Array.isArray(body)) return awsError(res, 400, 'ValidationException', 'Malformed input request');

    // InvokeModel with a Claude model: Anthropic's Messages body, minus model and stream (the
    // model is in the path, streaming is the -with-response-stream action), plus
    // anthropic_version "bedrock-2023-05-31"; the answer is Anthropic's message JSON, or an event
    // stream of "chunk" events whose payload is {"bytes": base64(one Anthropic event's JSON)}.
    if ((action === 'invoke' || action === 'invoke-with-response-stream') && /(^|\.)anthropic\.claude/.test(model)) {
      const extra = Object.keys(body).find((k) => !BEDROCK_CLAUDE_FIELDS.has(k));
      if (extra !== undefined) {
        return awsError(res, 400, 'ValidationException', `Malformed input request: #: extraneous key [${extra}] is not permitted, please reformat your input and try again.`);
      }
      if (body.anthropic_version === undefined) {
        return awsError(res, 400, 'ValidationException', 'Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.');
      }
      if (body.anthropic_version !== 'bedrock-2023-05-31') {
        return awsError(res, 400, 'ValidationException', `Invalid API version: ${body.anthropic_version}`);
      }
      const problem = claudeProblem(body);
      if (problem) return awsError(res, 400, 'ValidationException', problem);
      const answer = claudeAnswer(body, 'bedrock', model.replace(/^(\w+\.)?anthropic\./, '').replace(/-v\d+:\d+$/, ''));
      if (action === 'invoke') return json(res, 200, answer.message);
      const u = USAGE.bedrock;
      const chunkFrame = (event) => eventStreamFrame(
        { ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' },
        JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64') }),
      );
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-bedrock-content-type': 'application/json' });
      if (answer.breaks) return breakAfter(res, Buffer.concat(answer.broken.map(chunkFrame)));
      const events = answer.events.map((e) => (e.type === 'message_stop'
        ? { ...e, 'amazon-bedrock-invocationMetrics': { inputTokenCount: u.prompt_tokens, outputTokenCount: u.completion_tokens, invocationLatency: 120, firstByteLatency: 40 } }
        : e));
      writeInPieces(res, Buffer.concat(events.map(chunkFrame)));
      return res.end();
    }
    if (action === 'invoke-with-response-stream') {
      return awsError(res, 400, 'ValidationException', `The provided model identifier is invalid: ${model}`);
    }

    if (action === 'invoke') {
      if (!model.startsWith('amazon.titan-embed')) return awsError(res, 400, 'ValidationException', `The provided model identifier is invalid: ${model}`);
      // Titan takes exactly one string per call.
      const extra = Object.keys(body).filter((k) => !['inputText', 'dimensions', 'normalize', 'embeddingTypes'].includes(k));
      if (typeof body.inputText !== 'string' || extra.length) {
        return awsError(res, 400, 'ValidationException', `Malformed input request: #: expected type: String, found: ${Array.isArray(body.inputText) ? 'JSONArray' : typeof body.inputText}${extra.length ? `; extraneous key [${extra[0]}] is not permitted` : ''}, please reformat your input and try again.`);
      }
      return json(res, 200, { embedding: embeddingOf(body.inputText), inputTextTokenCount: body.inputText.split(/\s+/).filter(Boolean).length });
    }

    if ('model' in body || 'stream' in body || !Array.isArray(body.messages)) {
      return awsError(res, 400, 'ValidationException', 'Malformed input request: extraneous key [model/stream] or missing messages');
    }
    let last = '';
    for (const msg of body.messages) {
      if ((msg.role !== 'user' && msg.role !== 'assistant') || !Array.isArray(msg.content)) {
        return awsError(res, 400, 'ValidationException', 'messages: each message needs a role and a content list');
      }
      if (msg.role === last) return awsError(res, 400, 'ValidationException', 'A conversation must alternate between user and assistant roles.');
      last = msg.role;
    }
    const tools = body.toolConfig?.tools;
    if (tools !== undefined && (!Array.isArray(tools) || !tools.every((t) => typeof t.toolSpec?.name === 'string' && t.toolSpec?.inputSchema?.json))) {
      return awsError(res, 400, 'ValidationException', 'toolConfig.tools: each tool needs toolSpec.name and toolSpec.inputSchema.json');
    }
    // Tool turns: toolUse only from the assistant, toolResult only from the user and each one
    // answering a toolUse of the turn before, and a toolConfig whenever either appears.
    let previousUses = [];
    for (const [i, msg] of body.messages.entries()) {
      const uses = msg.content.filter((b) => b?.toolUse).map((b) => b.toolUse);
      const results = msg.content.filter((b) => b?.toolResult).map((b) => b.toolResult);
      if ((uses.length || results.length) && !Array.isArray(tools)) {
        return awsError(res, 400, 'ValidationException', 'The toolConfig field must be defined when using toolUse and toolResult content blocks.');
      }
      if (uses.length && msg.role !== 'assistant') return awsError(res, 400, 'ValidationException', `messages.${i}: toolUse blocks are only allowed in assistant messages`);
      if (uses.some((u) => typeof u.toolUseId !== 'string' || typeof u.name !== 'string' || typeof u.input !== 'object' || u.input === null)) {
        return awsError(res, 400, 'ValidationException', `messages.${i}: toolUse needs toolUseId, name and input`);
      }
      if (results.length > previousUses.length) {
        return awsError(res, 400, 'ValidationException', `The number of toolResult blocks at messages.${i}.content exceeds the number of toolUse blocks of previous turn.`);
      }
      for (const r of results) {
        if (!previousUses.some((u) => u.toolUseId === r.toolUseId)) {
          return awsError(res, 400, 'ValidationException', `messages.${i}: toolResult ${r.toolUseId} does not match any toolUse of the previous turn`);
        }
        if (!Array.isArray(r.content) || !r.content.every((c) => typeof c.text === 'string' || (c.json !== undefined && typeof c.json === 'object'))) {
          return awsError(res, 400, 'ValidationException', `messages.${i}: toolResult.content must be a list of {text} or {json} blocks`);
        }
      }
      if (previousUses.length && results.length < previousUses.length) {
        return awsError(res, 400, 'ValidationException', `Expected toolResult blocks at messages.${i}.content for the following Ids: ${previousUses.map((u) => u.toolUseId).join(', ')}`);
      }
      previousUses = uses;
    }
    const lastResults = body.messages.at(-1).content.filter((b) => b?.toolResult).map((b) => b.toolResult);
    const resultText = lastResults.length
      ? lastResults.at(-1).content.map((c) => c.text ?? JSON.stringify(c.json)).join('')
      : undefined;
    const wantsTool = Array.isArray(tools) && tools.length > 0 && resultText === undefined;
    const text = resultText === undefined ? TEXT.bedrock : toolAnswer('bedrock', resultText);
    const u = USAGE.bedrock;
    const usage = { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens, totalTokens: u.total_tokens };
    if (action === 'converse') {
      const content = wantsTool ? [{ toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } }] : [{ text }];
      return json(res, 200, { output: { message: { role: 'assistant', content } }, stopReason: wantsTool ? 'tool_use' : 'end_turn', usage, metrics: { latencyMs: 9 } });
    }
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    const start = bedrockEvent('messageStart', { role: 'assistant' });
    if (lastUserText(body.messages).includes('break')) {
      return breakAfter(res, Buffer.concat([start, bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: PARTIAL } })]));
    }
    const frames = [start];
    if (wantsTool) {
      frames.push(
        bedrockEvent('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } } }),
        bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":' } } }),
        bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '"Paris"}' } } }),
      );
    } else {
      const half = Math.ceil(text.length / 2);
      frames.push(
        bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: text.slice(0, half) } }),
        bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: text.slice(half) } }),
      );
    }
    frames.push(
      bedrockEvent('contentBlockStop', { contentBlockIndex: 0 }),
      bedrockEvent('messageStop', { stopReason: wantsTool ? 'tool_use' : 'end_turn' }),
      bedrockEvent('metadata', { usage, metrics: { latencyMs: 100 } }),
    );
    writeInPieces(res, Buffer.concat(frames));
    res.end();
  };
}

// ---- the fake servers ------------------------------------------------------------------------

const HANDLERS = {
  openai: () => openaiCompatible('openai', { prefix: '/v1', strict: true }),
  'mistral-ai': () => openaiCompatible('mistral-ai', { prefix: '/v1' }),
  // Perplexity: no /v1, CRLF-framed events, usage on the finishing chunk, no [DONE].
  'perplexity-ai': () => openaiCompatible('perplexity-ai', { prefix: '', crlf: true, done: false, alwaysUsage: true }),
  anthropic,
  bedrock,
};

// Where each provider's API lives on its fake, as the gateway's x-portkey-custom-host.
const CUSTOM_HOST_PATH = { openai: '/v1', 'mistral-ai': '/v1', 'perplexity-ai': '', anthropic: '/v1', bedrock: '' };

// Starts one loopback server per provider. Returns { seen, customHost(p), since(mark), close() };
// `seen` holds every request: { provider, method, url, headers, body (string) }.
export async function startFakes() {
  const seen = [];
  const servers = {};
  const bases = {};
  const sockets = new Set();
  for (const [provider, make] of Object.entries(HANDLERS)) {
    const handler = make();
    const server = http.createServer((req, res) => {
      const parts = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        seen.push({ provider, method: req.method, url: req.url, headers: { ...req.headers }, body: raw.toString('utf8') });
        try {
          handler(req, raw, res);
        } catch (err) {
          json(res, 500, { error: { message: `fake ${provider} failed: ${err.stack}` } });
        }
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers[provider] = server;
    bases[provider] = `http://127.0.0.1:${server.address().port}`;
  }
  return {
    seen,
    bases,
    customHost: (provider) => bases[provider] + CUSTOM_HOST_PATH[provider],
    last: (provider) => seen.filter((r) => r.provider === provider).at(-1),
    mark: () => seen.length,
    since: (mark) => seen.slice(mark),
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(Object.values(servers).map((s) => new Promise((r) => s.close(r))));
    },
  };
}

// The x-portkey-* headers that route a request to `provider`'s fake, without the provider key
// (except for bedrock, whose AWS credentials are x-portkey headers themselves).
export function routeHeaders(fakes, provider) {
  const h = { 'x-portkey-provider': provider, 'x-portkey-custom-host': fakes.customHost(provider) };
  if (provider === 'bedrock') {
    Object.assign(h, {
      'x-portkey-aws-access-key-id': AWS.accessKeyId,
      'x-portkey-aws-secret-access-key': AWS.secretAccessKey,
      'x-portkey-aws-session-token': AWS.sessionToken,
      'x-portkey-aws-region': AWS.region,
    });
  }
  return h;
}

// The key an OpenAI-style client sends as Authorization: Bearer (bedrock signs instead, but
// OpenAI-style clients insist on some key).
export function keyFor(provider) {
  return KEYS[provider] ?? 'unused-by-bedrock';
}

// ---- the gateway -----------------------------------------------------------------------------

// Starts the portico binary (PORTICO_BINARY) on a port it picks itself; resolves once it logs
// that it listens. Returns { port, base (…/v1), url(path), stop() }.
export async function startGateway() {
  const binary = process.env.PORTICO_BINARY;
  if (!binary) throw new Error('PORTICO_BINARY is not set');
  const child = spawn(binary, ['--port', '0', '--threads', '2', '--shutdown-grace-ms', '500'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORTICO_LOG_LEVEL: 'info' },
  });
  let log = '';
  const verbose = !!process.env.PORTICO_SDK_VERBOSE;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await within(
    new Promise((resolve, reject) => {
      const onData = (d) => {
        log += d;
        if (verbose) process.stderr.write(d);
        const m = log.match(/listening on \S+:(\d+)/);
        if (m) resolve(Number(m[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', reject);
      exited.then(({ code, signal }) => reject(new Error(`portico exited (${code ?? signal}) before listening:\n${log}`)));
    }),
    TEST_TIMEOUT_MS,
    'portico start',
  );
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    base: `${origin}/v1`,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      try {
        await within(exited, 5000, 'portico shutdown');
      } catch {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// ---- the raw wire -----------------------------------------------------------------------------

// POSTs JSON with plain fetch and reads the whole answer. Returns { status, headers, text }.
export async function rawPost(url, headers, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

// Splits an SSE body into events: [{ event, data }], LF or CRLF framed.
export function sseEvents(text) {
  const out = [];
  for (const block of text.split(/\r\n\r\n|\n\n|\r\r/)) {
    if (!block.trim()) continue;
    let event = null;
    const data = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    out.push({ event, data: data.join('\n') });
  }
  return out;
}

// The chat.completion.chunk objects of a stream (not [DONE], not error events).
export function chunksOf(text) {
  return sseEvents(text)
    .filter((e) => e.event === null && e.data && e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data))
    .filter((c) => c.object === 'chat.completion.chunk');
}

// Drains a stream of chat.completion.chunk objects (OpenAI SDK or Portkey SDK). Returns the
// text, the last finish_reason, every chunk that carried usage, the assembled tool calls and the
// chunks themselves.
export async function collectChunks(stream) {
  const out = { text: '', finish: null, usageChunks: [], toolCalls: [], chunks: [] };
  for await (const chunk of stream) {
    out.chunks.push(chunk);
    if (chunk.usage) out.usageChunks.push(chunk);
    for (const choice of chunk.choices ?? []) {
      out.text += choice.delta?.content ?? '';
      if (choice.finish_reason) out.finish = choice.finish_reason;
      for (const call of choice.delta?.tool_calls ?? []) {
        const slot = (out.toolCalls[call.index ?? 0] ??= { id: undefined, name: '', arguments: '' });
        if (call.id) slot.id = call.id;
        if (call.function?.name) slot.name += call.function.name;
        if (call.function?.arguments) slot.arguments += call.function.arguments;
      }
    }
  }
  return out;
}
