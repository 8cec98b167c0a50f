// The official Anthropic SDK (@anthropic-ai/sdk) against portico's POST /v1/messages, for
// providers portico serves it for: anthropic (native), openai (translated through chat
// completions), bedrock with a Claude model (native: InvokeModel /model/{id}/invoke and
// /invoke-with-response-stream) and bedrock with a non-Claude model (translated: Converse).
// messages.create (text, usage), messages.stream (text events, finalMessage with usage and
// stop_reason), tool calls (tool_use with parsed input, stop_reason 'tool_use'), a tool result
// turn, and an upstream error in Anthropic's shape.
//
// What @anthropic-ai/sdk 1.16.0 sends and needs (client.mjs, lib/MessageStream.mjs):
// - POST {baseURL}/v1/messages (baseURL is the origin, no /v1), headers anthropic-version:
//   2026-10-21 (this version's constant), accept: application/json, x-stainless-*, and the
//   apiKey as `Authorization: Bearer <apiKey>`: this version sends NO x-api-key (client.mjs
//   apiKeyAuth; only an x-api-key put in defaultHeaders is sent as such). The client refuses to
//   send without an apiKey or authToken. Portico takes the provider key from Authorization
//   first, so the provider key goes in apiKey: with apiKey 'unused' plus x-portkey-api-key,
//   'unused' would reach the provider. For anthropic portico turns the Bearer key into the
//   x-api-key Anthropic wants (the fake refuses Authorization). Body { model, max_tokens,
//   messages, stream: true only for .stream() }.
// - messages.create reads the body as a Message (content blocks, stop_reason, usage).
// - messages.stream needs message_start first (its message.usage is the snapshot),
//   content_block_start / content_block_delta (text_delta; input_json_delta, parsed as partial
//   JSON into tool_use.input) / content_block_stop, message_delta (stop_reason; usage.output_tokens
//   overwrites, usage.input_tokens overwrites only when present) and message_stop; it throws
//   "request ended without sending any chunks" on a stream without message_start.
// - errors: APIError subclasses by status; err.error is the parsed body
//   ({ type: 'error', error: { type, message } }).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import {
  startFakes, startGateway, routeHeaders, keyFor, toolAnswer, KEYS, MODELS, TEXT, USAGE, TEST_TIMEOUT_MS, within,
} from './support.mjs';

const T = { timeout: TEST_TIMEOUT_MS };
let fakes;
let gateway;

before(async () => {
  fakes = await startFakes();
  gateway = await startGateway();
});

after(async () => {
  await gateway?.stop();
  await fakes?.close();
});

const NOVA = 'amazon.nova-lite-v1:0';
// A Bedrock path: /model/<model id, percent-encoded or not>/<action>.
const bedrockPath = (model, action) => ({
  test: (url) => {
    const m = url.match(/^\/model\/([^/]+)\/([a-z-]+)$/);
    return !!m && decodeURIComponent(m[1]) === model && m[2] === action;
  },
  toString: () => `/model/${model}/${action}`,
});

// The targets: which provider header, which model, whose TEXT/USAGE comes back, and which
// upstream paths a plain and a streamed call must reach.
const TARGETS = {
  'openai (translated)': {
    fake: 'openai', model: MODELS.openai, plain: /^\/v1\/chat\/completions$/, stream: /^\/v1\/chat\/completions$/,
  },
  'bedrock Claude (InvokeModel)': {
    fake: 'bedrock', model: MODELS.bedrock,
    plain: bedrockPath(MODELS.bedrock, 'invoke'), stream: bedrockPath(MODELS.bedrock, 'invoke-with-response-stream'),
  },
  'bedrock Nova (Converse)': {
    fake: 'bedrock', model: NOVA, plain: bedrockPath(NOVA, 'converse'), stream: bedrockPath(NOVA, 'converse-stream'),
  },
  'anthropic (native)': {
    fake: 'anthropic', model: MODELS.anthropic, plain: /^\/v1\/messages$/, stream: /^\/v1\/messages$/,
  },
};

function client(target, { apiKey } = {}) {
  const { fake } = TARGETS[target];
  // The provider key is the SDK's apiKey (sent as Authorization: Bearer); bedrock signs with the
  // x-portkey-aws-* headers and needs none, but the SDK insists on one.
  return new Anthropic({
    baseURL: gateway.origin, apiKey: apiKey ?? keyFor(fake), defaultHeaders: routeHeaders(fakes, fake), maxRetries: 0, timeout: TEST_TIMEOUT_MS,
  });
}

const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const hi = (target, extra = {}) => ({ model: TARGETS[target].model, max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }], ...extra });

const describeError = (err) => `${err?.name}: ${err?.message}${err?.status ? ` (status ${err.status})` : ''}`;

// The one upstream request a call made since `mark`, checked against the target's path.
function upstreamOf(target, mark, kind) {
  const { fake } = TARGETS[target];
  const upstream = fakes.since(mark).filter((r) => r.provider === fake);
  assert.equal(upstream.length, 1, `upstream requests: ${JSON.stringify(upstream.map((r) => r.url))}`);
  const want = TARGETS[target][kind];
  assert.ok(want.test(upstream[0].url), `upstream path ${upstream[0].url}, want ${want}`);
  return { ...upstream[0], json: JSON.parse(upstream[0].body) };
}

for (const target of Object.keys(TARGETS)) {
  const { fake } = TARGETS[target];

  test(`${target}: messages.create gives the text, usage and end_turn`, T, async () => {
    const mark = fakes.mark();
    const { data: message, response } = await client(target).messages.create(hi(target)).withResponse()
      .catch((err) => assert.fail(describeError(err)));
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.deepEqual(message.content.map((b) => b.type), ['text']);
    assert.equal(message.content[0].text, TEXT[fake]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, USAGE[fake].prompt_tokens, JSON.stringify(message.usage));
    assert.equal(message.usage.output_tokens, USAGE[fake].completion_tokens, JSON.stringify(message.usage));
    assert.match(message.id, /\S/);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const upstream = upstreamOf(target, mark, 'plain');
    if (target.startsWith('bedrock Claude')) {
      assert.equal(upstream.json.anthropic_version, 'bedrock-2023-05-31');
      assert.equal('model' in upstream.json, false);
      assert.equal('stream' in upstream.json, false);
      assert.equal(upstream.json.max_tokens, 256);
    }
    if (fake === 'openai') assert.equal(upstream.headers.authorization, `Bearer ${KEYS.openai}`);
  });

  test(`${target}: messages.stream gives text events and a final message with usage`, T, async () => {
    const mark = fakes.mark();
    const stream = client(target).messages.stream(hi(target));
    const deltas = [];
    const types = [];
    stream.on('text', (delta) => deltas.push(delta));
    stream.on('streamEvent', (event) => types.push(event.type));
    const final = await within(stream.finalMessage(), TEST_TIMEOUT_MS, 'finalMessage').catch((err) => assert.fail(describeError(err)));
    assert.equal(deltas.join(''), TEXT[fake]);
    assert.ok(deltas.length >= 1, JSON.stringify(deltas));
    assert.equal(types[0], 'message_start', `events: ${types}`);
    assert.equal(types.at(-1), 'message_stop', `events: ${types}`);
    assert.ok(types.includes('content_block_start') && types.includes('content_block_stop') && types.includes('message_delta'), `events: ${types}`);
    assert.equal(final.content[0]?.text, TEXT[fake]);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.input_tokens, USAGE[fake].prompt_tokens, JSON.stringify(final.usage));
    assert.equal(final.usage.output_tokens, USAGE[fake].completion_tokens, JSON.stringify(final.usage));
    const upstream = upstreamOf(target, mark, 'stream');
    if (fake === 'openai') {
      assert.equal(upstream.json.stream, true);
      assert.deepEqual(upstream.json.stream_options, { include_usage: true }, 'usage must be asked for');
    }
    if (target.startsWith('bedrock Claude')) {
      assert.equal(upstream.json.anthropic_version, 'bedrock-2023-05-31');
      assert.equal('stream' in upstream.json, false);
    }
  });

  test(`${target}: messages.create with a tool gives a tool_use with parsed input`, T, async () => {
    const mark = fakes.mark();
    const message = await client(target).messages.create(hi(target, { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER] }))
      .catch((err) => assert.fail(describeError(err)));
    assert.equal(message.stop_reason, 'tool_use');
    const uses = message.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1, JSON.stringify(message.content));
    assert.equal(uses[0].name, 'get_weather');
    assert.deepEqual(uses[0].input, { city: 'Paris' });
    assert.match(uses[0].id, /\S/);
    const upstream = upstreamOf(target, mark, 'plain');
    if (fake === 'openai') assert.equal(upstream.json.tools?.[0]?.function?.name, 'get_weather');
  });

  test(`${target}: messages.stream with a tool: the final message has the parsed tool_use`, T, async () => {
    const stream = client(target).messages.stream(hi(target, { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER] }));
    let json = '';
    stream.on('inputJson', (partial) => { json += partial; });
    const final = await within(stream.finalMessage(), TEST_TIMEOUT_MS, 'finalMessage').catch((err) => assert.fail(describeError(err)));
    assert.equal(final.stop_reason, 'tool_use');
    const uses = final.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1, JSON.stringify(final.content));
    assert.equal(uses[0].name, 'get_weather');
    assert.deepEqual(uses[0].input, { city: 'Paris' });
    assert.deepEqual(JSON.parse(json), { city: 'Paris' });
  });

  test(`${target}: a tool_result turn reaches the provider and is answered with text`, T, async () => {
    const messages = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_abc', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_abc', content: 'Sunny in Paris' }] },
    ];
    const message = await client(target).messages.create(hi(target, { messages, tools: [WEATHER] }))
      .catch((err) => assert.fail(describeError(err)));
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.content.map((b) => b.text ?? '').join(''), toolAnswer(fake, 'Sunny in Paris'));
  });

  test(`${target}: a system prompt and stop_sequences are accepted`, T, async () => {
    const message = await client(target).messages.create(hi(target, { system: 'Be brief.', stop_sequences: ['\n\nHuman:'], temperature: 0.2 }))
      .catch((err) => assert.fail(describeError(err)));
    assert.equal(message.content[0].text, TEXT[fake]);
  });
}

test('openai (translated): a wrong provider key is a 401 in Anthropic\'s error shape', T, async () => {
  const c = client('openai (translated)', { apiKey: 'sk-wrong' });
  await assert.rejects(c.messages.create(hi('openai (translated)')), (err) => {
    assert.ok(err instanceof Anthropic.APIError, describeError(err));
    assert.equal(err.status, 401, describeError(err));
    assert.equal(err.error?.type, 'error', JSON.stringify(err.error));
    assert.equal(err.error?.error?.type, 'authentication_error', JSON.stringify(err.error));
    assert.match(err.error?.error?.message ?? '', /\S/);
    return true;
  });
});

test('bedrock Claude (InvokeModel): an upstream validation error is a 400 in Anthropic\'s error shape', T, async () => {
  // A tool_result without its tool_use: Bedrock refuses it (the fake checks the pairing).
  const messages = [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_missing', content: 'x' }] }];
  await assert.rejects(client('bedrock Claude (InvokeModel)').messages.create(hi('bedrock Claude (InvokeModel)', { messages })), (err) => {
    assert.ok(err instanceof Anthropic.APIError, describeError(err));
    assert.equal(err.status, 400, describeError(err));
    assert.equal(err.error?.type, 'error', JSON.stringify(err.error));
    assert.equal(err.error?.error?.type, 'invalid_request_error', JSON.stringify(err.error));
    return true;
  });
});
