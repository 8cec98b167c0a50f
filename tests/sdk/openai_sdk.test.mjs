// The official OpenAI SDK talking to the real portico binary, which talks to fake providers on
// loopback (support.mjs). Proves that what SDK users send and parse works: chat, streams, usage,
// tool calls, embeddings and errors, for OpenAI itself and for translated providers (Anthropic,
// Bedrock).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  startFakes, startGateway, routeHeaders, keyFor, collectChunks, MODELS, TEXT, USAGE, PARTIAL,
  WEATHER_TOOL, EMBEDDING_MODELS, embeddingOf, TEST_TIMEOUT_MS,
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

function client(provider, { key = keyFor(provider), headers = routeHeaders(fakes, provider) } = {}) {
  return new OpenAI({ apiKey: key, baseURL: gateway.base, maxRetries: 0, timeout: TEST_TIMEOUT_MS, defaultHeaders: headers });
}

const hi = (provider, extra = {}) => ({ model: MODELS[provider], messages: [{ role: 'user', content: 'Hi' }], ...extra });

test('chat completion through the openai provider', T, async () => {
  const { data: completion, response } = await client('openai').chat.completions.create(hi('openai')).withResponse();
  assert.equal(completion.choices[0].message.content, TEXT.openai);
  assert.equal(response.headers.get('x-portkey-provider'), 'openai');
  assert.equal(fakes.last('openai').url, '/v1/chat/completions');
});

for (const provider of ['openai', 'anthropic', 'bedrock']) {
  test(`${provider}: streamed chat completion ends and yields the text`, T, async () => {
    const out = await collectChunks(await client(provider).chat.completions.create(hi(provider, { stream: true })));
    assert.equal(out.text, TEXT[provider]);
    assert.equal(out.finish, 'stop');
  });

  test(`${provider}: include_usage gives one usage chunk with choices: []`, T, async () => {
    const out = await collectChunks(await client(provider).chat.completions.create(hi(provider, { stream: true, stream_options: { include_usage: true } })));
    assert.equal(out.usageChunks.length, 1, JSON.stringify(out.usageChunks));
    assert.deepEqual(out.usageChunks[0].choices, []);
    assert.equal(out.usageChunks[0].usage.total_tokens, USAGE[provider].total_tokens);
  });

  if (provider !== 'openai') {
    test(`${provider}: without include_usage, usage once, on the finishing chunk`, T, async () => {
      const out = await collectChunks(await client(provider).chat.completions.create(hi(provider, { stream: true })));
      assert.equal(out.usageChunks.length, 1, `usage chunks: ${JSON.stringify(out.usageChunks)}`);
      assert.equal(out.usageChunks[0].choices[0]?.finish_reason, 'stop');
      assert.equal(out.usageChunks[0].usage.total_tokens, USAGE[provider].total_tokens);
    });
  }

  test(`${provider}: a stream that breaks mid-way raises instead of ending quietly`, T, async () => {
    const stream = await client(provider).chat.completions.create(hi(provider, { stream: true, messages: [{ role: 'user', content: 'break' }] }));
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
    }, (err) => err instanceof OpenAI.APIError);
    assert.equal(text, PARTIAL);
  });

  test(`${provider}: tool-call stream accumulates like OpenAI`, T, async () => {
    const runner = client(provider).beta.chat.completions.stream(hi(provider, { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] }));
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
  });
}

test('embeddings (base64, as the SDK asks by default)', T, async () => {
  const result = await client('openai').embeddings.create({ model: EMBEDDING_MODELS.openai, input: 'hi' });
  assert.deepEqual(result.data[0].embedding, embeddingOf('hi'));
  assert.equal(JSON.parse(fakes.last('openai').body).encoding_format, 'base64');
});

test('bedrock Titan embeddings for several inputs', T, async () => {
  const inputs = ['alpha', 'be', 'gamma ray'];
  const result = await client('bedrock').embeddings.create({ model: EMBEDDING_MODELS.bedrock, input: inputs });
  assert.deepEqual(result.data.map((d) => d.embedding), inputs.map(embeddingOf));
});

test('upstream errors surface as APIError with the upstream status', T, async () => {
  await assert.rejects(
    client('openai', { key: 'sk-wrong' }).chat.completions.create(hi('openai')),
    (err) => err instanceof OpenAI.APIError && err.status === 401 && /openai error: Incorrect API key/.test(err.message),
  );
});

test('gateway errors surface as APIError with their message and OpenAI fields', T, async () => {
  await assert.rejects(client('openai', { headers: {} }).chat.completions.create(hi('openai')), (err) => {
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 400);
    assert.match(err.message, /Either x-portkey-config or x-portkey-provider header is required/);
    assert.equal(typeof err.type, 'string', `type: ${err.type}`);
    assert.equal(typeof err.code, 'string', `code: ${err.code}`);
    return true;
  });
});

test('anthropic answers in OpenAI format', T, async () => {
  const completion = await client('anthropic').chat.completions.create({ model: MODELS.anthropic, messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Hello' }] });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.content, TEXT.anthropic);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.equal(completion.usage.total_tokens, USAGE.anthropic.total_tokens);
  const sent = JSON.parse(fakes.last('anthropic').body);
  assert.equal(sent.system[0].text, 'Be brief');
});

test('bedrock answers in OpenAI format', T, async () => {
  const completion = await client('bedrock').chat.completions.create(hi('bedrock'));
  assert.equal(completion.choices[0].message.content, TEXT.bedrock);
  assert.equal(completion.usage.total_tokens, USAGE.bedrock.total_tokens);
  assert.match(fakes.last('bedrock').url, /^\/model\/anthropic\.claude-3-haiku-20240307-v1%3A0\/converse$/);
});

for (const id of ['perplexity-ai', 'perplexity']) {
  test(`${id}: a stream whose upstream sends no [DONE] ends cleanly`, T, async () => {
    const headers = { ...routeHeaders(fakes, 'perplexity-ai'), 'x-portkey-provider': id };
    const out = await collectChunks(await client('perplexity-ai', { headers }).chat.completions.create(hi('perplexity-ai', { stream: true })));
    assert.equal(out.text, TEXT['perplexity-ai']);
  });
}
