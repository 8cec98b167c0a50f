// The official OpenAI SDK talking to the real portico binary, which talks to fake providers on
// loopback. Proves that what SDK users send and parse works: chat, streams, tool calls,
// embeddings and errors, for OpenAI itself and for a translated provider (Anthropic).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import OpenAI from 'openai';

const seen = [];
let upstream;
let upstreamBase;
let portico;
let porticoPort;

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(e);
  res.end();
}

// One fake server, two providers: /openai/... speaks OpenAI, /anthropic/... speaks Anthropic.
function handle(req, body, res) {
  seen.push({ method: req.method, url: req.url, headers: req.headers, body });
  const parsed = body ? JSON.parse(body) : {};
  if (req.url.startsWith('/openai/')) {
    if (req.headers.authorization !== 'Bearer sk-test') {
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
    if (req.url === '/openai/v1/embeddings') {
      // Like OpenAI: base64 little-endian float32 when asked (the SDK asks by default).
      const floats = [0.5, 0.25];
      const embedding = parsed.encoding_format === 'base64' ? Buffer.from(new Float32Array(floats).buffer).toString('base64') : floats;
      return json(res, 200, { object: 'list', model: parsed.model, data: [{ object: 'embedding', index: 0, embedding }], usage: { prompt_tokens: 1, total_tokens: 1 } });
    }
    if (parsed.stream) {
      const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: parsed.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      if (parsed.messages[0].content === 'break') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk({ role: 'assistant', content: 'par' }));
        setTimeout(() => res.socket.destroy(), 20);
        return;
      }
      return sse(res, [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), 'data: [DONE]\n\n']);
    }
    return json(res, 200, { id: 'c1', object: 'chat.completion', created: 1, model: parsed.model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from openai' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } });
  }
  if (req.url === '/anthropic/v1/messages') {
    if (req.headers['x-api-key'] !== 'sk-ant' || !req.headers['anthropic-version'] || !parsed.max_tokens) {
      return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'bad request' } });
    }
    if (parsed.stream) {
      const ev = (name, data) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
      return sse(res, [
        ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: parsed.model, content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } } }),
        ev('ping', {}),
        ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }),
        ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
        ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }),
        ev('content_block_stop', { index: 0 }),
        ev('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } }),
        ev('message_stop', {}),
      ]);
    }
    return json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', model: parsed.model, content: [{ type: 'text', text: 'Bonjour' }], stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 2 } });
  }
  json(res, 404, { error: { message: 'no route ' + req.url } });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => handle(req, body, res));
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamBase = `http://127.0.0.1:${upstream.address().port}`;
  porticoPort = await freePort();
  portico = spawn(process.env.PORTICO_BINARY, ['--port', String(porticoPort), '--threads', '1'], { stdio: 'inherit' });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${porticoPort}/`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('portico did not start');
});

after(async () => {
  portico?.kill('SIGTERM');
  await new Promise((r) => upstream.close(r));
});

function client(provider, key, base) {
  return new OpenAI({
    apiKey: key,
    baseURL: `http://127.0.0.1:${porticoPort}/v1`,
    maxRetries: 0,
    defaultHeaders: { 'x-portkey-provider': provider, 'x-portkey-custom-host': base },
  });
}

test('chat completion through the openai provider', async () => {
  const openai = client('openai', 'sk-test', `${upstreamBase}/openai/v1`);
  const { data: completion, response } = await openai.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] })
    .withResponse();
  assert.equal(completion.choices[0].message.content, 'Hello from openai');
  assert.equal(response.headers.get('x-portkey-provider'), 'openai');
  assert.equal(seen.at(-1).url, '/openai/v1/chat/completions');
});

test('streamed chat completion, [DONE] included', async () => {
  const openai = client('openai', 'sk-test', `${upstreamBase}/openai/v1`);
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi' }] });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, 'Hello');
  assert.equal(finish, 'stop');
});

test('embeddings', async () => {
  const openai = client('openai', 'sk-test', `${upstreamBase}/openai/v1`);
  const result = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
  assert.deepEqual(result.data[0].embedding, [0.5, 0.25]);
});

test('upstream errors surface as APIError with the upstream status', async () => {
  const openai = client('openai', 'sk-wrong', `${upstreamBase}/openai/v1`);
  await assert.rejects(
    openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    (err) => err instanceof OpenAI.APIError && err.status === 401 && /openai error: Incorrect API key/.test(err.message),
  );
});

test('a stream that breaks mid-way raises instead of ending quietly', async () => {
  const openai = client('openai', 'sk-test', `${upstreamBase}/openai/v1`);
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'break' }] });
  await assert.rejects(async () => {
    for await (const chunk of stream) void chunk;
  });
});

test('anthropic answers in OpenAI format', async () => {
  const openai = client('anthropic', 'sk-ant', `${upstreamBase}/anthropic/v1`);
  const completion = await openai.chat.completions.create({ model: 'claude-3-5-haiku-latest', messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Hello' }] });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.content, 'Bonjour');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.equal(completion.usage.total_tokens, 7);
  const sent = JSON.parse(seen.at(-1).body);
  assert.equal(sent.system[0].text, 'Be brief');
});

test('anthropic tool-call stream accumulates like OpenAI', async () => {
  const openai = client('anthropic', 'sk-ant', `${upstreamBase}/anthropic/v1`);
  const runner = openai.beta.chat.completions.stream({
    model: 'claude-3-5-haiku-latest',
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  });
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
});
