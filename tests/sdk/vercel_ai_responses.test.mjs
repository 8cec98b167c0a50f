// The Vercel AI SDK (ai 6 + @ai-sdk/openai 3) with its DEFAULT OpenAI model, `openai(model)`,
// which speaks the Responses API (POST /v1/responses), against providers portico translates
// (anthropic: Messages, bedrock: Converse): generateText, streamText, tool calls, a two-step tool
// loop, for each.
//
// What @ai-sdk/openai 3.0.141 sends and needs (read in dist/index.mjs, checked here on the wire):
// - POST {baseURL}/responses, body { model, input: [{ role: 'user', content: [{ type:
//   'input_text', text }] }], tools: [{ type: 'function', name, description, parameters }]
//   (strict only when the tool sets it), tool_choice: 'auto', stream: true only when streaming
//   (absent otherwise) }. No store, include,
//   previous_response_id, stream_options, instructions, truncation unless providerOptions.openai
//   asks (store, include, previousResponseId, ...). A system prompt is an input item with role
//   'system' (not `instructions`) for non-reasoning model ids.
// - Multi-step / multi-turn: earlier turns are replayed from the SDK's messages. Its `store`
//   defaults to true on the client side although nothing is sent, and then every replayed
//   assistant TEXT part (and reasoning, provider-executed tool call) that carries the item id it
//   got back (providerOptions.openai.itemId, msg_...) becomes { type: 'item_reference', id }
//   (input conversion: `store && id != null`), which a stateless gateway cannot resolve. Plain
//   function calls are always replayed in full ({ type: 'function_call', call_id, name,
//   arguments }, no id) followed by { type: 'function_call_output', call_id, output }, so a tool
//   loop whose tool step has no text works with the defaults. providerOptions.openai.store =
//   false sends `store: false` and replays text as { role: 'assistant', content: [{ type:
//   'output_text', text }], id }.
// - Answers: generateText parses output[] items (message with id, role 'assistant' and content
//   [{ type: 'output_text', text, annotations: [] }], function_call with id, call_id, name,
//   arguments) and usage { input_tokens, output_tokens, input_tokens_details?, ... }. Streams need
//   response.created (response.id, created_at, model), response.output_item.added (item with id;
//   for function_call also call_id, name, arguments), response.output_text.delta (item_id, delta),
//   response.function_call_arguments.delta, response.output_item.done and response.completed
//   (response.usage; incomplete_details decides the finish reason).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, tool, jsonSchema, stepCountIs } from 'ai';
import {
  startFakes, startGateway, routeHeaders, keyFor, toolAnswer, MODELS, TEXT, USAGE,
  TEST_TIMEOUT_MS, within,
} from './support.mjs';

const T = { timeout: TEST_TIMEOUT_MS };
let fakes;
let gateway;
// Every request the SDK sent to portico: { url, body (parsed) }.
const sent = [];

before(async () => {
  fakes = await startFakes();
  gateway = await startGateway();
});

after(async () => {
  await gateway?.stop();
  await fakes?.close();
});

const recordingFetch = async (url, init) => {
  sent.push({ url: String(url), body: typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body });
  return fetch(url, init);
};

// The default model of the OpenAI provider pointed at portico: the Responses API.
function responsesModel(provider) {
  const openai = createOpenAI({ baseURL: gateway.base, apiKey: keyFor(provider), headers: routeHeaders(fakes, provider), fetch: recordingFetch });
  return openai(MODELS[provider]);
}

const call = () => ({ maxRetries: 0, abortSignal: AbortSignal.timeout(TEST_TIMEOUT_MS) });

const weatherSchema = jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false });
const weatherTools = { get_weather: tool({ description: 'The weather in a city', inputSchema: weatherSchema }) };
let executed = [];
const executingTools = {
  get_weather: tool({
    description: 'The weather in a city',
    inputSchema: weatherSchema,
    execute: async ({ city }) => {
      executed.push(city);
      return `Sunny in ${city}`;
    },
  }),
};

// The requests the fake of `provider` got since `mark`, and what the SDK sent since `sentMark`.
const upstreamSince = (provider, mark) => fakes.since(mark).filter((r) => r.provider === provider);

// What each provider's native API path looks like for a plain and a streamed call.
const NATIVE = {
  anthropic: { plain: /^\/v1\/messages$/, stream: /^\/v1\/messages$/ },
  bedrock: { plain: /^\/model\/[^/]+\/converse$/, stream: /^\/model\/[^/]+\/converse-stream$/ },
};

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

const describeError = (err) => {
  const e = err?.lastError ?? err;
  return e ? `${e.name}: ${e.message}${e.statusCode ? ` (status ${e.statusCode}, body ${e.responseBody})` : ''}` : String(err);
};

for (const provider of ['anthropic', 'bedrock']) {
  test(`${provider}: generateText over /v1/responses gives the text and the upstream's usage`, T, async () => {
    const mark = fakes.mark();
    const sentMark = sent.length;
    const result = await generateText({ ...call(), model: responsesModel(provider), prompt: 'Hi' }).catch((err) => assert.fail(describeError(err)));
    assert.equal(result.text, TEXT[provider]);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.usage.inputTokens, USAGE[provider].prompt_tokens, JSON.stringify(result.usage));
    assert.equal(result.usage.outputTokens, USAGE[provider].completion_tokens, JSON.stringify(result.usage));
    assert.equal(result.usage.totalTokens, USAGE[provider].total_tokens, JSON.stringify(result.usage));
    assert.equal(result.response.headers['x-portkey-provider'], provider);
    // What the SDK sent: the Responses API, nothing stateful.
    const request = sent.slice(sentMark);
    assert.equal(request.length, 1);
    assert.equal(new URL(request[0].url).pathname, '/v1/responses');
    assert.equal(request[0].body.model, MODELS[provider]);
    assert.ok(Array.isArray(request[0].body.input), JSON.stringify(request[0].body));
    for (const field of ['store', 'previous_response_id', 'include', 'stream_options', 'stream']) {
      assert.equal(request[0].body[field], undefined, `${field} sent: ${JSON.stringify(request[0].body)}`);
    }
    // What the provider got: its own API, not a pass-through.
    const upstream = upstreamSince(provider, mark);
    assert.equal(upstream.length, 1);
    assert.match(upstream[0].url, NATIVE[provider].plain);
  });

  test(`${provider}: streamText over /v1/responses assembles the deltas, usage and finish reason`, T, async () => {
    const mark = fakes.mark();
    const sentMark = sent.length;
    const { result, parts, thrown, errors } = await drain({ model: responsesModel(provider), prompt: 'Hi' });
    assert.equal(thrown, null, describeError(thrown));
    assert.deepEqual(errors.map(describeError), []);
    const deltas = parts.filter((p) => p.type === 'text-delta').map((p) => p.text);
    assert.ok(deltas.length >= 2, `text deltas: ${JSON.stringify(deltas)}`);
    assert.equal(deltas.join(''), TEXT[provider]);
    assert.equal(await within(result.text), TEXT[provider]);
    assert.equal(await within(result.finishReason), 'stop');
    const usage = await within(result.usage);
    assert.equal(usage.inputTokens, USAGE[provider].prompt_tokens, JSON.stringify(usage));
    assert.equal(usage.outputTokens, USAGE[provider].completion_tokens, JSON.stringify(usage));
    assert.equal(usage.totalTokens, USAGE[provider].total_tokens, JSON.stringify(usage));
    const request = sent.slice(sentMark);
    assert.equal(request[0].body.stream, true);
    assert.equal(request[0].body.stream_options, undefined, 'the Responses API has no stream_options');
    const upstream = upstreamSince(provider, mark);
    assert.equal(upstream.length, 1);
    assert.match(upstream[0].url, NATIVE[provider].stream);
  });

  test(`${provider}: generateText with a tool (no execute) returns the parsed call, finish 'tool-calls'`, T, async () => {
    const sentMark = sent.length;
    const result = await generateText({ ...call(), model: responsesModel(provider), prompt: 'Weather in Paris?', tools: weatherTools })
      .catch((err) => assert.fail(describeError(err)));
    assert.equal(result.finishReason, 'tool-calls');
    assert.equal(result.toolCalls.length, 1, JSON.stringify(result.content));
    assert.equal(result.toolCalls[0].toolName, 'get_weather');
    assert.deepEqual(result.toolCalls[0].input, { city: 'Paris' });
    assert.ok(result.toolCalls[0].toolCallId, 'a tool call id');
    const body = sent[sentMark].body;
    assert.equal(body.tools?.[0]?.type, 'function', JSON.stringify(body.tools));
    assert.equal(body.tools[0].name, 'get_weather');
    assert.deepEqual(body.tools[0].parameters?.required, ['city']);
  });

  test(`${provider}: streamText with an executing tool: one step, the call parsed, the tool run`, T, async () => {
    executed = [];
    const { result, thrown, errors } = await drain({ model: responsesModel(provider), prompt: 'Weather in Paris?', tools: executingTools });
    assert.equal(thrown, null, describeError(thrown));
    assert.deepEqual(errors.map(describeError), []);
    const calls = await within(result.toolCalls);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].toolName, 'get_weather');
    assert.deepEqual(calls[0].input, { city: 'Paris' });
    assert.deepEqual(executed, ['Paris']);
    const results = await within(result.toolResults);
    assert.equal(results[0]?.output, 'Sunny in Paris');
    assert.equal(await within(result.finishReason), 'tool-calls');
  });

  test(`${provider}: a two-step tool loop (default options) ends with the provider's text`, T, async () => {
    executed = [];
    const mark = fakes.mark();
    const sentMark = sent.length;
    const result = await generateText({
      ...call(), model: responsesModel(provider), prompt: 'Weather in Paris?', tools: executingTools, stopWhen: stepCountIs(2),
    }).catch((err) => assert.fail(describeError(err)));
    assert.deepEqual(executed, ['Paris']);
    assert.equal(result.steps.length, 2);
    assert.equal(result.text, toolAnswer(provider, 'Sunny in Paris'));
    assert.equal(result.finishReason, 'stop');
    // The second request replays the call and its output as full items, not references.
    const second = sent.slice(sentMark)[1]?.body;
    const types = second.input.map((i) => i.type ?? `role:${i.role}`);
    assert.deepEqual(types, ['role:user', 'function_call', 'function_call_output'], JSON.stringify(second.input));
    assert.equal(second.input[1].call_id, second.input[2].call_id);
    assert.equal(second.input[2].output, 'Sunny in Paris');
    assert.equal(upstreamSince(provider, mark).length, 2);
  });

  test(`${provider}: a second turn with store: false replays the first answer in full`, T, async () => {
    const model = responsesModel(provider);
    const providerOptions = { openai: { store: false } };
    const first = await generateText({ ...call(), model, prompt: 'Hi', providerOptions }).catch((err) => assert.fail(describeError(err)));
    const sentMark = sent.length;
    const messages = [{ role: 'user', content: 'Hi' }, ...first.response.messages, { role: 'user', content: 'And again?' }];
    const second = await generateText({ ...call(), model, messages, providerOptions }).catch((err) => assert.fail(describeError(err)));
    assert.equal(second.text, TEXT[provider]);
    const body = sent[sentMark].body;
    assert.equal(body.store, false);
    assert.ok(!body.input.some((i) => i.type === 'item_reference'), JSON.stringify(body.input));
    assert.ok(body.input.some((i) => i.role === 'assistant'), JSON.stringify(body.input));
  });
}

// A second turn with the SDK's defaults replays the first answer's text as an item_reference to
// the stored response item; a gateway that stores nothing must refuse it clearly (400), not guess.
test('anthropic: a second turn with default options sends an item_reference, which portico refuses with a 400', T, async () => {
  const model = responsesModel('anthropic');
  const first = await generateText({ ...call(), model, prompt: 'Hi' }).catch((err) => assert.fail(describeError(err)));
  const sentMark = sent.length;
  const messages = [{ role: 'user', content: 'Hi' }, ...first.response.messages, { role: 'user', content: 'And again?' }];
  await assert.rejects(generateText({ ...call(), model, messages }), (err) => {
    const e = err.lastError ?? err;
    assert.equal(e.statusCode, 400, describeError(err));
    assert.match(e.message, /item_reference/, describeError(err));
    return true;
  });
  const body = sent[sentMark]?.body;
  assert.ok(body?.input.some((i) => i.type === 'item_reference'), `input items: ${JSON.stringify(body?.input)}`);
});
