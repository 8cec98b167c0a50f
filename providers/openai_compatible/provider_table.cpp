// The OpenAI-compatible providers: one row each. Base URLs, prefixes and endpoint sets follow
// Portkey's provider registry, so that a custom host given for Portkey works the same here.
#include <array>

#include "openai_compatible/openai_compatible_adapter.hpp"

namespace portico::providers {
namespace {

constexpr unsigned kChatText = kChat | kText;
constexpr unsigned kChatEmbed = kChat | kEmbed;
constexpr unsigned kAll = kChat | kText | kEmbed;
// kResp: providers with their own Responses API (/v1/responses), served natively (the rest get
// it translated through chat, or passed through when they are passthrough-only).

constexpr std::array kSpecs = {
    OpenAiCompatibleSpec{.id = "openai",
                         .base_url = "https://api.openai.com/v1",
                         .endpoints = kAll | kResp,
                         .openai_headers = true,
                         .asks_stream_usage = true},
    OpenAiCompatibleSpec{.id = "groq",
                         .base_url = "https://api.groq.com/openai/v1",
                         .endpoints = kChat | kResp,
                         .usage_in_x_groq = true},
    OpenAiCompatibleSpec{.id = "together-ai",
                         .base_url = "https://api.together.xyz",
                         .endpoints = kAll,
                         .api_prefix = "/v1"},
    OpenAiCompatibleSpec{
        .id = "anyscale", .base_url = "https://api.endpoints.anyscale.com/v1", .endpoints = kAll},
    OpenAiCompatibleSpec{.id = "perplexity-ai", .base_url = "https://api.perplexity.ai"},
    OpenAiCompatibleSpec{.id = "ollama",
                         .base_url = "",
                         .endpoints = kChatEmbed,
                         .auth = AuthStyle::kNone,
                         // Ollama's OpenAI-compatible routes, /v1/embeddings included (its
                         // native /api/embeddings takes `prompt` and answers {"embedding":..}).
                         .api_prefix = "/v1"},
    OpenAiCompatibleSpec{
        .id = "deepseek", .base_url = "https://api.deepseek.com", .api_prefix = "/v1"},
    OpenAiCompatibleSpec{.id = "fireworks-ai",
                         .base_url = "https://api.fireworks.ai/inference/v1",
                         .endpoints = kAll | kResp},
    OpenAiCompatibleSpec{.id = "openrouter",
                         .base_url = "https://openrouter.ai/api",
                         .endpoints = kChat | kResp,
                         .api_prefix = "/v1",
                         .extra_header_name = "http-referer",
                         .extra_header_value = "https://portkey.ai/"},
    OpenAiCompatibleSpec{.id = "deepinfra", .base_url = "https://api.deepinfra.com/v1/openai"},
    OpenAiCompatibleSpec{
        .id = "x-ai", .base_url = "https://api.x.ai/v1", .endpoints = kAll | kResp},
    OpenAiCompatibleSpec{.id = "cerebras", .base_url = "https://api.cerebras.ai/v1"},
    OpenAiCompatibleSpec{.id = "ncompass", .base_url = "https://api.ncompass.tech/v1"},
    OpenAiCompatibleSpec{.id = "jina", .base_url = "https://api.jina.ai/v1", .endpoints = kEmbed},
    OpenAiCompatibleSpec{
        .id = "moonshot", .base_url = "https://api.moonshot.cn", .api_prefix = "/v1"},
    OpenAiCompatibleSpec{
        .id = "lingyi", .base_url = "https://api.lingyiwanwu.com", .api_prefix = "/v1"},
    OpenAiCompatibleSpec{
        .id = "zhipu", .base_url = "https://open.bigmodel.cn/api/paas/v4", .endpoints = kChatEmbed},
    OpenAiCompatibleSpec{
        .id = "novita-ai", .base_url = "https://api.novita.ai/v3/openai", .endpoints = kChatText},
    OpenAiCompatibleSpec{.id = "monsterapi", .base_url = "https://llm.monsterapi.ai/v1"},
    OpenAiCompatibleSpec{
        .id = "voyage", .base_url = "https://api.voyageai.com/v1", .endpoints = kEmbed},
    OpenAiCompatibleSpec{.id = "deepbricks", .base_url = "https://api.deepbricks.ai/v1"},
    OpenAiCompatibleSpec{
        .id = "siliconflow", .base_url = "https://api.siliconflow.cn/v1", .endpoints = kChatEmbed},
    OpenAiCompatibleSpec{.id = "inference-net", .base_url = "https://api.inference.net/v1"},
    OpenAiCompatibleSpec{
        .id = "sambanova", .base_url = "https://api.sambanova.ai", .api_prefix = "/v1"},
    OpenAiCompatibleSpec{.id = "lemonfox-ai", .base_url = "https://api.lemonfox.ai/v1"},
    OpenAiCompatibleSpec{
        .id = "upstage", .base_url = "https://api.upstage.ai/v1/solar", .endpoints = kChatEmbed},
    OpenAiCompatibleSpec{
        .id = "lambda", .base_url = "https://api.lambdalabs.com/v1", .endpoints = kChatText},
    OpenAiCompatibleSpec{.id = "dashscope",
                         .base_url = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
                         .endpoints = kChatEmbed},
    OpenAiCompatibleSpec{
        .id = "nebius", .base_url = "https://api.studio.nebius.ai/v1", .endpoints = kAll},
    OpenAiCompatibleSpec{.id = "lepton",
                         .base_url = "https://api.lepton.ai",
                         .endpoints = kChatText,
                         .api_prefix = "/api/v1"},
    OpenAiCompatibleSpec{
        .id = "kluster-ai", .base_url = "https://api.kluster.ai/v1", .endpoints = kChatEmbed},
    OpenAiCompatibleSpec{.id = "nscale", .base_url = "https://inference.api.nscale.com/v1"},
    OpenAiCompatibleSpec{
        .id = "hyperbolic", .base_url = "https://api.hyperbolic.xyz", .api_prefix = "/v1"},
    OpenAiCompatibleSpec{.id = "featherless-ai",
                         .base_url = "https://api.featherless.ai/v1",
                         .endpoints = kChatText},
    OpenAiCompatibleSpec{.id = "krutrim", .base_url = "https://cloud.olakrutrim.com/v1"},
    OpenAiCompatibleSpec{.id = "302ai", .base_url = "https://api.302.ai", .api_prefix = "/v1"},
    OpenAiCompatibleSpec{
        .id = "cometapi", .base_url = "https://api.cometapi.com/v1", .endpoints = kChatEmbed},
    OpenAiCompatibleSpec{.id = "matterai", .base_url = "https://api.matterai.so/v1"},
    OpenAiCompatibleSpec{
        .id = "nextbit", .base_url = "https://api.nextbit256.com/v1", .endpoints = kChatText},
    OpenAiCompatibleSpec{.id = "modal",
                         .base_url = "https://api.modal.com/v1",
                         .endpoints = kChatText,
                         .auth = AuthStyle::kBearerOptional},
    OpenAiCompatibleSpec{.id = "z-ai", .base_url = "https://api.z.ai/api/paas/v4"},
    OpenAiCompatibleSpec{.id = "iointelligence",
                         .base_url = "https://api.intelligence.io.solutions/api/v1",
                         .endpoints = kChatEmbed},
    OpenAiCompatibleSpec{.id = "aibadgr", .base_url = "https://aibadgr.com/api/v1"},
    OpenAiCompatibleSpec{.id = "ovhcloud",
                         .base_url = "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1"},
    OpenAiCompatibleSpec{.id = "github",
                         .base_url = "https://models.inference.ai.azure.com",
                         .endpoints = kChatEmbed},
    // Proxy-only providers: reachable through the /v1/* passthrough with their auth added.
    OpenAiCompatibleSpec{
        .id = "replicate", .base_url = "https://api.replicate.com/v1", .endpoints = kProxyOnly},
    OpenAiCompatibleSpec{.id = "milvus", .base_url = "", .endpoints = kProxyOnly},
};

}  // namespace

std::span<const OpenAiCompatibleSpec> openAiCompatibleSpecs() { return kSpecs; }

}  // namespace portico::providers
