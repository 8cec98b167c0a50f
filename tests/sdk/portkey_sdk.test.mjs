// The Portkey Node SDK (portkey-ai) against the portico binary and fake providers: key handling
// (the SDK's apiKey is the Portkey key, sent as x-portkey-api-key, and must never reach a
// provider), chat, streams, usage, tool calls, embeddings, broken streams and gateway errors for
// openai, anthropic and bedrock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Portkey } from 'portkey-ai';
import {
  startFakes, startGateway, keyFor, collectChunks, AWS, MODELS, TEXT, USAGE, PARTIAL,
  WEATHER_TOOL, EMBEDDING_MODELS, embeddingOf, TEST_TIMEOUT_MS,
} from './support.mjs';

const T = { timeout: TEST_TIMEOUT_MS };
const PORTKEY_KEY = 'pk-portkey-user-key';
let fakes;
let gateway;

before(async () => {
  delete process.env.PORTKEY_API_KEY; // only the test that sets it should see one
  fakes = await startFakes();
  gateway = await startGateway();
});

after(async () => {
  await gateway?.stop();
  await fakes?.close();
});

// A client as Portkey's docs show it, pointed at portico: `provider`, the provider key as
// `Authorization`, the fake as `customHost`; for bedrock the AWS fields instead of a key.
function portkey(provider, extra = {}) {
  const options = { baseURL: gateway.base, provider, customHost: fakes.customHost(provider === 'perplexity' ? 'perplexity-ai' : provider), ...extra };
  if (provider === 'bedrock') {
    Object.assign(options, { awsAccessKeyId: AWS.accessKeyId, awsSecretAccessKey: AWS.secretAccessKey, awsSessionToken: AWS.sessionToken, awsRegion: AWS.region });
  } else if (!('Authorization' in extra)) {
    options.Authorization = `Bearer ${keyFor(provider === 'perplexity' ? 'perplexity-ai' : provider)}`;
  }
  return new Portkey(options);
}

function assertPortkeyKeyNeverSent(mark) {
  const sent = fakes.since(mark);
  assert.ok(sent.length > 0, 'no request reached the provider');
  for (const r of sent) {
    assert.ok(!JSON.stringify(r.headers).includes(PORTKEY_KEY), `the Portkey key reached ${r.provider}: ${JSON.stringify(r.headers)}`);
    assert.ok(!r.body.includes(PORTKEY_KEY), `the Portkey key reached ${r.provider} in the body`);
  }
}

// The SDK sends x-portkey-strict-open-ai-compliance: false unless told otherwise, and then
// Portkey (and portico) keep the provider's own stop reason.
const STOP = { openai: 'stop', anthropic: 'end_turn', bedrock: 'end_turn' };
const TOOL_STOP = { openai: 'tool_calls', anthropic: 'tool_use', bedrock: 'tool_use' };

const hi = (provider, extra = {}) => ({ model: MODELS[provider], messages: [{ role: 'user', content: 'Hi' }], ...extra });

// ---- key handling ------------------------------------------------------------------------------

test('apiKey (the Portkey key) and Authorization (the provider key): openai gets only Bearer sk-test', T, async () => {
  const mark = fakes.mark();
  const client = portkey('openai', { apiKey: PORTKEY_KEY });
  const completion = await client.chat.completions.create(hi('openai'));
  assert.equal(completion.choices[0].message.content, TEXT.openai);
  assert.equal(fakes.last('openai').headers.authorization, 'Bearer sk-test');
  assertPortkeyKeyNeverSent(mark);
});

test('apiKey and Authorization: a stream to openai is authorised by Authorization too', T, async () => {
  const mark = fakes.mark();
  const client = portkey('openai', { apiKey: PORTKEY_KEY });
  const out = await collectChunks(await client.chat.completions.create(hi('openai', { stream: true })));
  assert.equal(out.text, TEXT.openai);
  assert.equal(fakes.last('openai').headers.authorization, 'Bearer sk-test');
  assertPortkeyKeyNeverSent(mark);
});

test('apiKey and Authorization: anthropic gets the provider key as x-api-key', T, async () => {
  const mark = fakes.mark();
  const client = portkey('anthropic', { apiKey: PORTKEY_KEY });
  const completion = await client.chat.completions.create(hi('anthropic'));
  assert.equal(completion.choices[0].message.content, TEXT.anthropic);
  assert.equal(fakes.last('anthropic').headers['x-api-key'], keyFor('anthropic'));
  assertPortkeyKeyNeverSent(mark);
});

test('apiKey with bedrock: requests are SigV4-signed and the Portkey key goes nowhere', T, async () => {
  const mark = fakes.mark();
  const client = portkey('bedrock', { apiKey: PORTKEY_KEY });
  const completion = await client.chat.completions.create(hi('bedrock'));
  assert.equal(completion.choices[0].message.content, TEXT.bedrock);
  assertPortkeyKeyNeverSent(mark);
});

test('PORTKEY_API_KEY from the environment only: openai still gets Bearer sk-test', T, async () => {
  process.env.PORTKEY_API_KEY = PORTKEY_KEY;
  try {
    const mark = fakes.mark();
    const client = portkey('openai');
    assert.equal(client.apiKey, PORTKEY_KEY, 'the SDK read PORTKEY_API_KEY');
    const completion = await client.chat.completions.create(hi('openai'));
    assert.equal(completion.choices[0].message.content, TEXT.openai);
    assert.equal(fakes.last('openai').headers.authorization, 'Bearer sk-test');
    assertPortkeyKeyNeverSent(mark);
  } finally {
    delete process.env.PORTKEY_API_KEY;
  }
});

test('apiKey with a config that carries the provider key: the config key is used, the Portkey key is not', T, async () => {
  const mark = fakes.mark();
  const client = new Portkey({
    apiKey: PORTKEY_KEY,
    baseURL: gateway.base,
    config: { provider: 'openai', api_key: keyFor('openai'), custom_host: fakes.customHost('openai') },
  });
  const completion = await client.chat.completions.create(hi('openai'));
  assert.equal(completion.choices[0].message.content, TEXT.openai);
  assert.equal(fakes.last('openai').headers.authorization, 'Bearer sk-test');
  assertPortkeyKeyNeverSent(mark);
});

// ---- per provider ------------------------------------------------------------------------------

for (const provider of ['openai', 'anthropic', 'bedrock']) {
  test(`${provider}: chat completion`, T, async () => {
    const completion = await portkey(provider).chat.completions.create(hi(provider));
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0].message.content, TEXT[provider]);
    assert.equal(completion.choices[0].finish_reason, STOP[provider]);
    assert.equal(completion.usage.total_tokens, USAGE[provider].total_tokens);
    // getHeaders() strips the x-portkey- prefix.
    assert.equal(completion.getHeaders().provider, provider);
  });

  test(`${provider}: a stream finishes and yields the text`, T, async () => {
    const out = await collectChunks(await portkey(provider).chat.completions.create(hi(provider, { stream: true })));
    assert.equal(out.text, TEXT[provider]);
    assert.equal(out.finish, STOP[provider]);
  });

  test(`${provider}: include_usage gives one usage chunk with choices: []`, T, async () => {
    const out = await collectChunks(await portkey(provider).chat.completions.create(hi(provider, { stream: true, stream_options: { include_usage: true } })));
    assert.equal(out.usageChunks.length, 1, JSON.stringify(out.usageChunks));
    assert.deepEqual(out.usageChunks[0].choices, []);
    assert.deepEqual(
      [out.usageChunks[0].usage.prompt_tokens, out.usageChunks[0].usage.completion_tokens, out.usageChunks[0].usage.total_tokens],
      [USAGE[provider].prompt_tokens, USAGE[provider].completion_tokens, USAGE[provider].total_tokens],
    );
  });

  if (provider !== 'openai') {
    test(`${provider}: without include_usage, usage once, on the finishing chunk`, T, async () => {
      const out = await collectChunks(await portkey(provider).chat.completions.create(hi(provider, { stream: true })));
      assert.equal(out.usageChunks.length, 1, `usage chunks: ${JSON.stringify(out.usageChunks)}`);
      assert.equal(out.usageChunks[0].choices[0]?.finish_reason, STOP[provider]);
      assert.equal(out.usageChunks[0].usage.total_tokens, USAGE[provider].total_tokens);
    });
  }

  test(`${provider}: non-streamed tool call comes back parsed`, T, async () => {
    const completion = await portkey(provider).chat.completions.create(hi(provider, { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] }));
    const call = completion.choices[0].message.tool_calls[0];
    assert.equal(completion.choices[0].finish_reason, TOOL_STOP[provider]);
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  });

  test(`${provider}: streamed tool call accumulates`, T, async () => {
    const out = await collectChunks(await portkey(provider).chat.completions.create(hi(provider, { stream: true, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] })));
    assert.equal(out.toolCalls.length, 1);
    assert.equal(out.toolCalls[0].name, 'get_weather');
    assert.deepEqual(JSON.parse(out.toolCalls[0].arguments), { city: 'Paris' });
    assert.equal(out.finish, TOOL_STOP[provider]);
  });

  test(`${provider}: a stream broken mid-way raises`, T, async () => {
    const stream = await portkey(provider).chat.completions.create(hi(provider, { stream: true, messages: [{ role: 'user', content: 'break' }] }));
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
    }, (err) => err instanceof Error);
    assert.equal(text, PARTIAL);
  });
}

for (const id of ['perplexity-ai', 'perplexity']) {
  test(`${id}: a stream whose upstream sends no [DONE] finishes cleanly`, T, async () => {
    const out = await collectChunks(await portkey(id).chat.completions.create(hi('perplexity-ai', { stream: true })));
    assert.equal(out.text, TEXT['perplexity-ai']);
    assert.equal(out.finish, 'stop');
  });
}

test('provider "mistral" is accepted; the response names mistral-ai', T, async () => {
  const client = new Portkey({ baseURL: gateway.base, provider: 'mistral', Authorization: `Bearer ${keyFor('mistral-ai')}`, customHost: fakes.customHost('mistral-ai') });
  const completion = await client.chat.completions.create(hi('mistral-ai'));
  assert.equal(completion.choices[0].message.content, TEXT['mistral-ai']);
  assert.equal(completion.getHeaders().provider, 'mistral-ai');
});

// ---- embeddings --------------------------------------------------------------------------------

test('openai: embeddings.create', T, async () => {
  const result = await portkey('openai').embeddings.create({ model: EMBEDDING_MODELS.openai, input: ['hi', 'there'] });
  assert.deepEqual(result.data.map((d) => d.embedding), [embeddingOf('hi'), embeddingOf('there')]);
});

test('bedrock Titan: several inputs come back as one answer, in order', T, async () => {
  const inputs = ['alpha', 'be', 'gamma ray'];
  const result = await portkey('bedrock').embeddings.create({ model: EMBEDDING_MODELS.bedrock, input: inputs });
  assert.deepEqual(result.data.map((d) => d.index), [0, 1, 2]);
  assert.deepEqual(result.data.map((d) => d.embedding), inputs.map(embeddingOf));
});

// ---- gateway errors ----------------------------------------------------------------------------

test('no provider: the gateway error raises with its message', T, async () => {
  const client = new Portkey({ baseURL: gateway.base, Authorization: 'Bearer sk-test' });
  await assert.rejects(client.chat.completions.create(hi('openai')), (err) => {
    assert.equal(err.status, 400);
    assert.match(err.message, /Either x-portkey-config or x-portkey-provider header is required/);
    // The SDK keeps the whole body as err.error: Portkey's top-level message and OpenAI's error.
    assert.equal(typeof err.error?.error?.message, 'string', `error body: ${JSON.stringify(err.error)}`);
    return true;
  });
});
