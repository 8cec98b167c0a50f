// LangChain JS (@langchain/openai on @langchain/core) against the portico binary and fake
// providers: invoke, .stream() (text, usage_metadata, tool calls, broken streams), bindTools,
// OpenAIEmbeddings, gateway errors and provider aliases, for openai, anthropic and bedrock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import {
  startFakes, startGateway, routeHeaders, keyFor, within, MODELS, TEXT, USAGE, PARTIAL,
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

function chat(provider, { headers = routeHeaders(fakes, provider), ...fields } = {}) {
  return new ChatOpenAI({
    model: MODELS[provider],
    apiKey: keyFor(provider),
    maxRetries: 0,
    timeout: TEST_TIMEOUT_MS,
    configuration: { baseURL: gateway.base, defaultHeaders: headers },
    ...fields,
  });
}

function embeddings(provider) {
  return new OpenAIEmbeddings({
    model: EMBEDDING_MODELS[provider],
    apiKey: keyFor(provider),
    maxRetries: 0,
    timeout: TEST_TIMEOUT_MS,
    configuration: { baseURL: gateway.base, defaultHeaders: routeHeaders(fakes, provider) },
  });
}

// Drains .stream() and concatenates the chunks as LangChain users do.
async function streamAll(model, input) {
  let final;
  for await (const chunk of await model.stream(input)) final = final ? final.concat(chunk) : chunk;
  return final;
}

const expectedUsage = (provider) => ({
  input_tokens: USAGE[provider].prompt_tokens,
  output_tokens: USAGE[provider].completion_tokens,
  total_tokens: USAGE[provider].total_tokens,
});

const usageNumbers = (m) => ({ input_tokens: m?.input_tokens, output_tokens: m?.output_tokens, total_tokens: m?.total_tokens });

for (const provider of ['openai', 'anthropic', 'bedrock']) {
  test(`${provider}: invoke`, T, async () => {
    const message = await chat(provider).invoke('Hi');
    assert.equal(message.content, TEXT[provider]);
    assert.equal(message.response_metadata.finish_reason, 'stop');
    assert.deepEqual(usageNumbers(message.usage_metadata), expectedUsage(provider));
  });

  test(`${provider}: .stream() finishes; usage_metadata is the upstream's, not doubled`, T, async () => {
    const final = await within(streamAll(chat(provider), 'Hi'));
    assert.equal(final.content, TEXT[provider]);
    assert.deepEqual(usageNumbers(final.usage_metadata), expectedUsage(provider));
    if (provider === 'openai') {
      assert.deepEqual(JSON.parse(fakes.last('openai').body).stream_options, { include_usage: true });
    }
  });

  if (provider !== 'openai') {
    test(`${provider}: .stream() without include_usage still reports usage once`, T, async () => {
      const final = await within(streamAll(chat(provider, { streamUsage: false }), 'Hi'));
      assert.equal(final.content, TEXT[provider]);
      assert.deepEqual(usageNumbers(final.usage_metadata), expectedUsage(provider));
    });
  }

  test(`${provider}: bindTools + invoke returns the parsed tool call`, T, async () => {
    const message = await chat(provider).bindTools([WEATHER_TOOL]).invoke('Weather in Paris?');
    assert.equal(message.tool_calls.length, 1);
    assert.equal(message.tool_calls[0].name, 'get_weather');
    assert.deepEqual(message.tool_calls[0].args, { city: 'Paris' });
  });

  test(`${provider}: bindTools + .stream() assembles the tool call`, T, async () => {
    const final = await within(streamAll(chat(provider).bindTools([WEATHER_TOOL]), 'Weather in Paris?'));
    assert.equal(final.tool_calls.length, 1);
    assert.equal(final.tool_calls[0].name, 'get_weather');
    assert.deepEqual(final.tool_calls[0].args, { city: 'Paris' });
  });

  test(`${provider}: .stream() throws when the stream breaks mid-way`, T, async () => {
    const texts = [];
    await assert.rejects(within((async () => {
      for await (const chunk of await chat(provider).stream('break')) texts.push(chunk.content);
    })()), (err) => err instanceof Error && !/did not finish within/.test(err.message));
    assert.equal(texts.join(''), PARTIAL);
  });
}

for (const id of ['perplexity-ai', 'perplexity']) {
  test(`${id}: .stream() over an upstream without [DONE] finishes cleanly`, T, async () => {
    const headers = { ...routeHeaders(fakes, 'perplexity-ai'), 'x-portkey-provider': id };
    const final = await within(streamAll(chat('perplexity-ai', { headers }), 'Hi'));
    assert.equal(final.content, TEXT['perplexity-ai']);
    assert.deepEqual(usageNumbers(final.usage_metadata), expectedUsage('perplexity-ai'));
  });
}

test('provider "mistral" is accepted', T, async () => {
  const headers = { ...routeHeaders(fakes, 'mistral-ai'), 'x-portkey-provider': 'mistral' };
  const message = await chat('mistral-ai', { headers }).invoke('Hi');
  assert.equal(message.content, TEXT['mistral-ai']);
});

test('openai: OpenAIEmbeddings embedQuery and embedDocuments', T, async () => {
  const e = embeddings('openai');
  assert.deepEqual(await e.embedQuery('hi'), embeddingOf('hi'));
  assert.deepEqual(await e.embedDocuments(['hi', 'there', 'x']), ['hi', 'there', 'x'].map(embeddingOf));
});

test('bedrock Titan: embedDocuments with several documents, in order', T, async () => {
  const docs = ['alpha', 'be', 'gamma ray'];
  assert.deepEqual(await embeddings('bedrock').embedDocuments(docs), docs.map(embeddingOf));
});

test('no provider: the gateway error reaches the thrown message', T, async () => {
  const model = chat('openai', { headers: {} });
  await assert.rejects(model.invoke('Hi'), (err) => {
    assert.match(err.message, /Either x-portkey-config or x-portkey-provider header is required/, `message: ${err.message}`);
    return true;
  });
});
