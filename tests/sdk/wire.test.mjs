// What SDKs depend on, checked on the raw bytes with plain fetch: how streams end, where usage
// goes, what a broken stream looks like, the shape of the gateway's own errors, provider
// aliases, key precedence and Titan embedding fan-out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startFakes, startGateway, routeHeaders, keyFor, rawPost, sseEvents, chunksOf,
  MODELS, TEXT, USAGE, PARTIAL, KEYS, EMBEDDING_MODELS, embeddingOf, TEST_TIMEOUT_MS,
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

function headersFor(provider) {
  return { ...routeHeaders(fakes, provider), authorization: `Bearer ${keyFor(provider)}` };
}

function chat(provider, content, extra = {}, headers = headersFor(provider)) {
  return rawPost(`${gateway.base}/chat/completions`, headers, {
    model: MODELS[provider] ?? MODELS[headers['x-portkey-provider']],
    messages: [{ role: 'user', content }],
    ...extra,
  });
}

function textOf(chunks) {
  return chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
}

const PROVIDERS = ['openai', 'anthropic', 'bedrock'];

for (const provider of PROVIDERS) {
  test(`${provider}: a stream ends with data: [DONE]`, T, async () => {
    const r = await chat(provider, 'Hi', { stream: true });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(textOf(chunksOf(r.text)), TEXT[provider]);
    assert.ok(r.text.endsWith('data: [DONE]\n\n'), `stream ends with ${JSON.stringify(r.text.slice(-60))}`);
  });

  test(`${provider}: include_usage gives exactly one usage chunk, last, with choices: []`, T, async () => {
    const r = await chat(provider, 'Hi', { stream: true, stream_options: { include_usage: true } });
    assert.equal(r.status, 200, r.text);
    const chunks = chunksOf(r.text);
    const withUsage = chunks.filter((c) => c.usage);
    assert.equal(withUsage.length, 1, `usage chunks: ${JSON.stringify(withUsage)}`);
    assert.equal(withUsage[0], chunks.at(-1), 'the usage chunk is the last chunk');
    assert.deepEqual(withUsage[0].choices, []);
    assert.equal(withUsage[0].usage.prompt_tokens, USAGE[provider].prompt_tokens);
    assert.equal(withUsage[0].usage.completion_tokens, USAGE[provider].completion_tokens);
    assert.equal(withUsage[0].usage.total_tokens, USAGE[provider].total_tokens);
  });

  if (provider === 'openai') {
    // OpenAI itself sends no usage unless asked; a relayed stream stays as the provider sent it.
    test('openai: without include_usage the relayed stream carries no invented usage chunk', T, async () => {
      const r = await chat(provider, 'Hi', { stream: true });
      const chunks = chunksOf(r.text);
      assert.equal(chunks.filter((c) => c.usage).length, 0);
      assert.equal(chunks.filter((c) => c.choices.length === 0).length, 0);
    });
  } else {
    test(`${provider}: without include_usage, usage comes once, on the finishing chunk`, T, async () => {
      const r = await chat(provider, 'Hi', { stream: true });
      assert.equal(r.status, 200, r.text);
      const chunks = chunksOf(r.text);
      const withUsage = chunks.filter((c) => c.usage);
      assert.equal(withUsage.length, 1, `usage chunks: ${JSON.stringify(withUsage)}`);
      assert.equal(withUsage[0].choices[0]?.finish_reason, 'stop', `usage chunk: ${JSON.stringify(withUsage[0])}`);
      assert.equal(withUsage[0].usage.prompt_tokens, USAGE[provider].prompt_tokens);
      assert.equal(withUsage[0].usage.completion_tokens, USAGE[provider].completion_tokens);
      assert.equal(withUsage[0].usage.total_tokens, USAGE[provider].total_tokens);
    });
  }

  test(`${provider}: a stream broken mid-way ends with event: error and no [DONE]`, T, async () => {
    const r = await chat(provider, 'break', { stream: true });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.text.includes(PARTIAL), r.text);
    assert.ok(!r.text.includes('[DONE]'), r.text);
    const last = sseEvents(r.text).at(-1);
    assert.equal(last.event, 'error', `last event: ${JSON.stringify(r.text.slice(-300))}`);
    const error = JSON.parse(last.data).error;
    assert.equal(typeof error?.message, 'string', last.data);
    assert.ok(error.message.length > 0);
  });

  test(`${provider}: non-streamed tool call`, T, async () => {
    const r = await chat(provider, 'Weather in Paris?', { tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] });
    assert.equal(r.status, 200, r.text);
    const choice = JSON.parse(r.text).choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), { city: 'Paris' });
  });
}

for (const alias of ['perplexity-ai', 'perplexity']) {
  test(`${alias}: a CRLF-framed upstream stream without [DONE] still ends with data: [DONE]`, T, async () => {
    const r = await chat('perplexity-ai', 'Hi', { stream: true }, { ...headersFor('perplexity-ai'), 'x-portkey-provider': alias });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-portkey-provider'), 'perplexity-ai');
    assert.equal(textOf(chunksOf(r.text)), TEXT['perplexity-ai']);
    assert.ok(r.text.endsWith('data: [DONE]\n\n'), `stream ends with ${JSON.stringify(r.text.slice(-60))}`);
  });
}

test('mistral is an alias of mistral-ai; the response names the canonical id', T, async () => {
  const r = await chat('mistral-ai', 'Hi', {}, { ...headersFor('mistral-ai'), 'x-portkey-provider': 'mistral' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('x-portkey-provider'), 'mistral-ai');
  assert.equal(JSON.parse(r.text).choices[0].message.content, TEXT['mistral-ai']);
  assert.equal(fakes.last('mistral-ai').headers.authorization, `Bearer ${KEYS['mistral-ai']}`);
});

for (const [what, headers, text] of [
  ['no provider header', {}, 'Either x-portkey-config or x-portkey-provider header is required'],
  ['an unknown provider', { 'x-portkey-provider': 'no-such-provider' }, 'Invalid provider passed'],
]) {
  test(`gateway error for ${what} has OpenAI's error shape (and keeps Portkey's message)`, T, async () => {
    const r = await rawPost(`${gateway.base}/chat/completions`, { authorization: 'Bearer sk-test', ...headers }, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(r.status, 400, r.text);
    const body = JSON.parse(r.text);
    assert.equal(body.message, text, r.text);
    assert.equal(typeof body.error, 'object', `no error object: ${r.text}`);
    assert.equal(body.error.message, text);
    assert.equal(typeof body.error.type, 'string', r.text);
    assert.equal(typeof body.error.code, 'string', r.text);
  });
}

test('Authorization: Bearer is the provider key even when x-portkey-api-key is sent', T, async () => {
  const mark = fakes.mark();
  const r = await chat('openai', 'Hi', {}, { ...headersFor('openai'), 'x-portkey-api-key': 'pk-portkey-user-key' });
  assert.equal(r.status, 200, r.text);
  const sent = fakes.since(mark);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].headers.authorization, 'Bearer sk-test');
  assert.ok(!JSON.stringify(sent[0].headers).includes('pk-portkey-user-key'));
});

test('bedrock Titan: several inputs fan out to one InvokeModel each, answered in order', T, async () => {
  const inputs = ['alpha', 'be', 'gamma ray'];
  const mark = fakes.mark();
  const r = await rawPost(`${gateway.base}/embeddings`, headersFor('bedrock'), { model: EMBEDDING_MODELS.bedrock, input: inputs, encoding_format: 'float' });
  assert.equal(r.status, 200, r.text);
  const out = JSON.parse(r.text);
  assert.equal(out.object, 'list');
  assert.deepEqual(out.data.map((d) => d.index), [0, 1, 2]);
  assert.deepEqual(out.data.map((d) => d.embedding), inputs.map(embeddingOf));
  assert.equal(out.usage.prompt_tokens, 4);
  const calls = fakes.since(mark);
  assert.equal(calls.length, 3);
  assert.deepEqual(calls.map((c) => JSON.parse(c.body).inputText).sort(), [...inputs].sort());
});
