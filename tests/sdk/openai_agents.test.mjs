// The OpenAI Agents SDK (@openai/agents) with its DEFAULT model provider, the Responses API over
// HTTP, pointed at portico through setDefaultOpenAIClient, tracing disabled so nothing leaves
// loopback: an Agent with a function tool runs to its final output against providers portico
// translates (anthropic: Messages, bedrock: Converse), plain and streamed.
//
// @openai/agents 0.20.0 depends on openai ^7.2.0 (not a peer: it brings its own copy); the
// `openai` this directory pins for openai_sdk.test.mjs is 4.x, so the client handed to
// setDefaultOpenAIClient comes from the alias "openai-v7" (npm:openai@7.59.0, the version the
// Agents SDK resolves). openai 7 declares node >= 22; it runs on node 20 for what is used here.
//
// What the Agents SDK sends (dist/openaiResponsesModel.mjs _buildResponsesCreateRequest, seen on
// the wire): POST /v1/responses { model, instructions, input, include: [] (always sent, empty
// unless a hosted tool needs outputs), tools: [{ type: 'function', name, description,
// parameters (with "$schema": draft-07 and additionalProperties: false), strict: true }],
// stream: false | true (always sent) }. store, previous_response_id, conversation, truncation,
// parallel_tool_calls, tool_choice, prompt_cache_* only when ModelSettings / run options set them
// (run(..., { previousResponseId }) sends previous_response_id). No item_reference and no
// stream_options: the second turn replays the whole history, { role: 'user', content: '<string>' }
// (no type) and the model's output items as it got them: { id, type: 'function_call', name,
// call_id, arguments, status: 'completed' } then { type: 'function_call_output', call_id,
// output: '<string>', status: 'completed' }. It reads response.output[] (message /
// function_call items), response.usage, response.id; streamed, it needs response.created ...
// response.completed (the final output comes from response.completed's response.output).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai-v7';
import { z } from 'zod';
import { Agent, run, tool, setDefaultOpenAIClient, setTracingDisabled } from '@openai/agents';
import {
  startFakes, startGateway, routeHeaders, keyFor, toolAnswer, MODELS, TEST_TIMEOUT_MS, within,
} from './support.mjs';

const T = { timeout: TEST_TIMEOUT_MS };
let fakes;
let gateway;
// Every request the SDK sent to portico: { url, body (parsed) }.
const sent = [];
let executed = [];

// The default model provider creates its model (and takes the default client) once and keeps
// it, so one default client serves every test: its fetch sends each request to the provider the
// running test chose, with that provider's routing headers and key.
let current = null;

before(async () => {
  fakes = await startFakes();
  gateway = await startGateway();
  setTracingDisabled(true);
  setDefaultOpenAIClient(new OpenAI({
    baseURL: gateway.base,
    apiKey: 'replaced-per-provider',
    maxRetries: 0,
    timeout: TEST_TIMEOUT_MS,
    fetch: routingFetch,
  }));
});

after(async () => {
  await gateway?.stop();
  await fakes?.close();
});

async function routingFetch(url, init) {
  const headers = new Headers(init?.headers);
  for (const [name, value] of Object.entries(routeHeaders(fakes, current))) headers.set(name, value);
  headers.set('authorization', `Bearer ${keyFor(current)}`);
  sent.push({ url: String(url), body: typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body, headers });
  return fetch(url, { ...init, headers });
}

function useProvider(provider) {
  current = provider;
}

const getWeather = tool({
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    executed.push(city);
    return `Sunny in ${city}`;
  },
});

const weatherAgent = (provider) => new Agent({
  name: 'Weather',
  instructions: 'Answer weather questions with the get_weather tool.',
  model: MODELS[provider],
  tools: [getWeather],
});

const describeError = (err) => `${err?.name}: ${err?.message}${err?.status ? ` (status ${err.status}, ${JSON.stringify(err.error)})` : ''}`;

// What the two turns of a tool run sent to portico.
function checkTurns(requests, provider, { stream }) {
  assert.equal(requests.length, 2, `requests: ${JSON.stringify(requests.map((r) => r.body))}`);
  for (const r of requests) {
    assert.equal(new URL(r.url).pathname, '/v1/responses');
    assert.equal(r.body.model, MODELS[provider]);
    assert.equal(r.body.stream, stream);
    assert.equal(r.body.instructions, 'Answer weather questions with the get_weather tool.');
    assert.equal(r.body.tools?.[0]?.name, 'get_weather', JSON.stringify(r.body.tools));
    assert.equal(r.body.tools[0].type, 'function');
    // Nothing that needs a stored response.
    assert.ok(r.body.store !== true, `store: ${r.body.store}`);
    assert.equal(r.body.previous_response_id, undefined);
    assert.equal(r.body.conversation, undefined);
    assert.ok(!JSON.stringify(r.body.input).includes('item_reference'), JSON.stringify(r.body.input));
  }
  const input = requests[1].body.input;
  const call = input.find((i) => i.type === 'function_call');
  const output = input.find((i) => i.type === 'function_call_output');
  assert.ok(call && output, `second turn input: ${JSON.stringify(input)}`);
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
  assert.equal(output.call_id, call.call_id);
}

for (const provider of ['anthropic', 'bedrock']) {
  test(`${provider}: run() executes the tool and ends with the provider's text`, T, async () => {
    useProvider(provider);
    executed = [];
    const mark = fakes.mark();
    const sentMark = sent.length;
    const result = await within(run(weatherAgent(provider), 'weather in Paris?', { maxTurns: 3 }), TEST_TIMEOUT_MS, 'run')
      .catch((err) => assert.fail(describeError(err)));
    assert.deepEqual(executed, ['Paris']);
    assert.equal(result.finalOutput, toolAnswer(provider, 'Sunny in Paris'));
    checkTurns(sent.slice(sentMark), provider, { stream: false });
    const upstream = fakes.since(mark).filter((r) => r.provider === provider);
    assert.equal(upstream.length, 2, 'one provider call per turn');
    assert.match(upstream[0].url, provider === 'anthropic' ? /^\/v1\/messages$/ : /^\/model\/[^/]+\/converse$/);
  });

  test(`${provider}: run() streamed executes the tool and ends with the provider's text`, T, async () => {
    useProvider(provider);
    executed = [];
    const sentMark = sent.length;
    const result = await run(weatherAgent(provider), 'weather in Paris?', { maxTurns: 3, stream: true })
      .catch((err) => assert.fail(describeError(err)));
    let text = '';
    try {
      for await (const chunk of result.toTextStream()) text += chunk;
      await within(result.completed, TEST_TIMEOUT_MS, 'streamed run');
    } catch (err) {
      assert.fail(describeError(err));
    }
    assert.equal(result.error ?? null, null, describeError(result.error));
    assert.deepEqual(executed, ['Paris']);
    assert.equal(result.finalOutput, toolAnswer(provider, 'Sunny in Paris'));
    assert.equal(text, toolAnswer(provider, 'Sunny in Paris'));
    checkTurns(sent.slice(sentMark), provider, { stream: true });
  });
}

// The SDK's server-side conversation state (previousResponseId) is what a translating gateway
// cannot serve: a 400 the SDK surfaces, not a silent new conversation.
test('anthropic: run() with previousResponseId gets a 400', T, async () => {
  useProvider('anthropic');
  const sentMark = sent.length;
  await assert.rejects(run(weatherAgent('anthropic'), 'and tomorrow?', { previousResponseId: 'resp_123' }), (err) => {
    const status = err.status ?? err.cause?.status ?? err.error?.status;
    assert.equal(status, 400, describeError(err));
    return true;
  });
  assert.equal(sent[sentMark]?.body.previous_response_id, 'resp_123');
});

test('bedrock: an agent with modelSettings.store = true gets a 400 (nothing is stored)', T, async () => {
  useProvider('bedrock');
  const sentMark = sent.length;
  const agent = new Agent({ name: 'Weather', model: MODELS.bedrock, modelSettings: { store: true } });
  await assert.rejects(run(agent, 'weather in Paris?'), (err) => {
    const status = err.status ?? err.cause?.status ?? err.error?.status;
    assert.equal(status, 400, describeError(err));
    return true;
  });
  assert.equal(sent[sentMark]?.body.store, true);
});
