// The Vercel AI SDK (ai + @ai-sdk/openai, chat-completions model) against the portico binary and
// fake providers: generateText, streamText (text, usage, tool calls, broken streams), embed and
// embedMany, gateway errors and provider aliases, for openai, anthropic and bedrock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, embed, embedMany, tool, jsonSchema } from 'ai';
import {
  startFakes, startGateway, routeHeaders, keyFor, MODELS, TEXT, USAGE, PARTIAL,
  EMBEDDING_MODELS, embeddingOf, TEST_TIMEOUT_MS, within,
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

// The OpenAI provider pointed at portico, with the Portkey headers as its default headers.
function openaiVia(provider, headers = routeHeaders(fakes, provider)) {
  return createOpenAI({ baseURL: gateway.base, apiKey: keyFor(provider), headers });
}

// Chat Completions (not the Responses API), which is what the gateway translates.
function chatModel(provider, headers) {
  return openaiVia(provider, headers).chat(MODELS[provider]);
}

const call = () => ({ maxRetries: 0, abortSignal: AbortSignal.timeout(TEST_TIMEOUT_MS) });

const weatherTools = {
  get_weather: tool({
    description: 'The weather in a city',
    inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
  }),
};

// Runs streamText to its end. Returns the parts of fullStream, any error thrown while reading
// and the errors onError saw.
async function drain(options) {
  const errors = [];
  const result = streamText({ ...call(), ...options, onError: ({ error }) => errors.push(error) });
  const parts = [];
  let thrown = null;
  try {
    for await (const part of result.fullStream) parts.push(part);
  } catch (err) {
    thrown = err;
  }
  return { result, parts, thrown, errors };
}

for (const provider of ['openai', 'anthropic', 'bedrock']) {
  test(`${provider}: generateText`, T, async () => {
    const result = await generateText({ ...call(), model: chatModel(provider), prompt: 'Hi' });
    assert.equal(result.text, TEXT[provider]);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.usage.inputTokens, USAGE[provider].prompt_tokens);
    assert.equal(result.usage.outputTokens, USAGE[provider].completion_tokens);
    assert.equal(result.response.headers['x-portkey-provider'], provider);
  });

  test(`${provider}: streamText finishes with the text and the upstream's usage`, T, async () => {
    const { result, parts, thrown, errors } = await drain({ model: chatModel(provider), prompt: 'Hi' });
    assert.equal(thrown, null);
    assert.deepEqual(errors, []);
    assert.ok(parts.some((p) => p.type === 'finish'), `parts: ${parts.map((p) => p.type)}`);
    assert.equal(await within(result.text), TEXT[provider]);
    assert.equal(await within(result.finishReason), 'stop');
    const usage = await within(result.usage);
    assert.equal(usage.inputTokens, USAGE[provider].prompt_tokens, JSON.stringify(usage));
    assert.equal(usage.outputTokens, USAGE[provider].completion_tokens, JSON.stringify(usage));
    assert.equal(usage.totalTokens, USAGE[provider].total_tokens, JSON.stringify(usage));
    // The SDK always asks for include_usage; the upstream or the gateway must honour it once.
    const sent = JSON.parse(fakes.last(provider).body);
    if (provider === 'openai') assert.deepEqual(sent.stream_options, { include_usage: true });
  });

  test(`${provider}: generateText tool call comes back parsed`, T, async () => {
    const result = await generateText({ ...call(), model: chatModel(provider), prompt: 'Weather in Paris?', tools: weatherTools });
    assert.equal(result.finishReason, 'tool-calls');
    assert.equal(result.toolCalls.length, 1);
    assert.equal(result.toolCalls[0].toolName, 'get_weather');
    assert.deepEqual(result.toolCalls[0].input, { city: 'Paris' });
  });

  test(`${provider}: streamText tool call comes back parsed`, T, async () => {
    const { result, thrown, errors } = await drain({ model: chatModel(provider), prompt: 'Weather in Paris?', tools: weatherTools });
    assert.equal(thrown, null);
    assert.deepEqual(errors, []);
    const calls = await within(result.toolCalls);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].toolName, 'get_weather');
    assert.deepEqual(calls[0].input, { city: 'Paris' });
    assert.equal(await within(result.finishReason), 'tool-calls');
  });

  test(`${provider}: streamText raises a stream broken mid-way (error part or thrown)`, T, async () => {
    const { parts, thrown, errors } = await drain({ model: chatModel(provider), prompt: 'break' });
    const errorParts = parts.filter((p) => p.type === 'error');
    assert.ok(thrown || errorParts.length > 0, `no error surfaced; parts: ${JSON.stringify(parts.map((p) => p.type))}`);
    assert.ok(thrown || errors.length > 0, 'onError was not called');
    const text = parts.filter((p) => p.type === 'text-delta').map((p) => p.text).join('');
    assert.equal(text, PARTIAL);
  });
}

for (const id of ['perplexity-ai', 'perplexity']) {
  test(`${id}: streamText over an upstream without [DONE] finishes cleanly`, T, async () => {
    const headers = { ...routeHeaders(fakes, 'perplexity-ai'), 'x-portkey-provider': id };
    const { result, parts, thrown, errors } = await drain({ model: chatModel('perplexity-ai', headers), prompt: 'Hi' });
    assert.equal(thrown, null, String(thrown));
    assert.deepEqual(errors.map(String), []);
    assert.ok(parts.some((p) => p.type === 'finish'));
    assert.equal(await within(result.text), TEXT['perplexity-ai']);
    assert.equal(await within(result.finishReason), 'stop');
  });
}

test('provider "mistral" is accepted; the response names mistral-ai', T, async () => {
  const headers = { ...routeHeaders(fakes, 'mistral-ai'), 'x-portkey-provider': 'mistral' };
  const result = await generateText({ ...call(), model: chatModel('mistral-ai', headers), prompt: 'Hi' });
  assert.equal(result.text, TEXT['mistral-ai']);
  assert.equal(result.response.headers['x-portkey-provider'], 'mistral-ai');
});

test('openai: embed', T, async () => {
  const { embedding } = await embed({ ...call(), model: openaiVia('openai').embedding(EMBEDDING_MODELS.openai), value: 'hi' });
  assert.deepEqual(embedding, embeddingOf('hi'));
});

test('openai: embedMany keeps the order', T, async () => {
  const values = ['hi', 'there', 'x'];
  const { embeddings } = await embedMany({ ...call(), model: openaiVia('openai').embedding(EMBEDDING_MODELS.openai), values });
  assert.deepEqual(embeddings, values.map(embeddingOf));
});

test('bedrock Titan: embed', T, async () => {
  const { embedding } = await embed({ ...call(), model: openaiVia('bedrock').embedding(EMBEDDING_MODELS.bedrock), value: 'hello world' });
  assert.deepEqual(embedding, embeddingOf('hello world'));
});

test('bedrock Titan: embedMany with several values, one answer in order', T, async () => {
  const values = ['alpha', 'be', 'gamma ray'];
  const { embeddings } = await embedMany({ ...call(), model: openaiVia('bedrock').embedding(EMBEDDING_MODELS.bedrock), values });
  assert.deepEqual(embeddings, values.map(embeddingOf));
});

test('no provider: the gateway error reaches the SDK error message', T, async () => {
  const model = createOpenAI({ baseURL: gateway.base, apiKey: 'sk-test' }).chat(MODELS.openai);
  await assert.rejects(generateText({ ...call(), model, prompt: 'Hi' }), (err) => {
    const e = err.lastError ?? err;
    assert.equal(e.statusCode, 400, String(e));
    assert.match(e.message, /Either x-portkey-config or x-portkey-provider header is required/, `message: ${e.message}; body: ${e.responseBody}`);
    return true;
  });
});
