// The OTEL_* variables, read through an injected lookup: endpoints, headers (percent-decoded,
// never echoed in errors), timeout, resource, sampler choice, and the sampler's decisions.
#include "telemetry/otlp_settings.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace portico::telemetry {
namespace {

using Env = std::map<std::string, std::string>;

EnvLookup lookupIn(const Env& env) {
  return [env](const char* name) -> std::optional<std::string> {
    auto found = env.find(name);
    if (found == env.end()) return std::nullopt;
    return found->second;
  };
}

OtlpSettings read(const Env& env) { return readOtlpSettings(lookupIn(env)); }

std::string errorOf(const Env& env) {
  try {
    read(env);
  } catch (const OtlpSettingsError& e) {
    return e.what();
  }
  return "";
}

const AttributeValue* resourceValue(const OtlpSettings& settings, const std::string& key) {
  for (const auto& attribute : settings.resource) {
    if (attribute.key == key) return &attribute.value;
  }
  return nullptr;
}

TEST(OtlpSettings, OffWithoutAnEndpoint) {
  auto settings = read({{"OTEL_SERVICE_NAME", "x"}, {"OTEL_EXPORTER_OTLP_HEADERS", "a=b"}});
  EXPECT_FALSE(settings.enabled);
  EXPECT_FALSE(makeSampler(settings));
  EXPECT_FALSE(read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "  "}}).enabled);  // empty is unset
}

TEST(OtlpSettings, TheGeneralEndpointGetsTheTracesPath) {
  EXPECT_EQ(read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}}).url,
            "http://collector:4318/v1/traces");
  EXPECT_EQ(read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector/base/"}}).url,
            "https://collector/base/v1/traces");
  auto settings = read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}});
  EXPECT_TRUE(settings.enabled);
  EXPECT_TRUE(makeSampler(settings));
}

TEST(OtlpSettings, TheTracesEndpointIsUsedAsItIs) {
  auto settings = read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"},
                        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom"}});
  EXPECT_EQ(settings.url, "http://traces:9999/custom");
}

TEST(OtlpSettings, RefusesEndpointsThatAreNotHttpUrls) {
  for (const char* bad : {"collector:4317", "grpc://collector:4317", "ftp://x/", "http://",
                          "not a url", "/v1/traces"}) {
    const std::string error = errorOf({{"OTEL_EXPORTER_OTLP_ENDPOINT", bad}});
    EXPECT_NE(error.find("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL"),
              std::string::npos)
        << bad << ": " << error;
  }
  EXPECT_NE(errorOf({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "localhost:4318"}})
                .find("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            std::string::npos);
}

TEST(OtlpSettings, ExporterNoneAndSdkDisabledTurnItOff) {
  const Env base = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"}};  // not even checked
  Env none = base;
  none["OTEL_TRACES_EXPORTER"] = "none";
  EXPECT_FALSE(read(none).enabled);
  Env disabled = base;
  disabled["OTEL_SDK_DISABLED"] = "TRUE";
  EXPECT_FALSE(read(disabled).enabled);
  auto console =
      read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {"OTEL_TRACES_EXPORTER", "console"}});
  EXPECT_FALSE(console.enabled);
  ASSERT_EQ(console.warnings.size(), 1u);
  EXPECT_TRUE(read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
                    {"OTEL_TRACES_EXPORTER", "otlp, console"}})
                  .enabled);
}

TEST(OtlpSettings, HeadersArePercentDecoded) {
  auto settings = read(
      {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
       {"OTEL_EXPORTER_OTLP_HEADERS", " api-key = secret%20value%2C1 ,x-tenant=a%3Db,, empty="}});
  const PostHeaders expected = {{"api-key", "secret value,1"}, {"x-tenant", "a=b"}, {"empty", ""}};
  EXPECT_EQ(settings.headers, expected);
}

TEST(OtlpSettings, TracesHeadersWinOverTheGeneralOnes) {
  auto settings = read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
                        {"OTEL_EXPORTER_OTLP_HEADERS", "a=general"},
                        {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=traces"}});
  const PostHeaders expected = {{"b", "traces"}};
  EXPECT_EQ(settings.headers, expected);
}

TEST(OtlpSettings, MalformedHeadersAreAnErrorThatDoesNotQuoteTheValue) {
  const Env base = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  for (const char* bad : {"api-key=sk-secret%zz", "api-key", "=sk-secret", "bad name=sk-secret",
                          "api-key=sk-secret%0d%0ainjected: 1"}) {
    Env env = base;
    env["OTEL_EXPORTER_OTLP_HEADERS"] = bad;
    const std::string error = errorOf(env);
    EXPECT_NE(error.find("OTEL_EXPORTER_OTLP_HEADERS is malformed"), std::string::npos) << bad;
    EXPECT_EQ(error.find("sk-secret"), std::string::npos) << error;
  }
  Env traces = base;
  traces["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] = "x";
  EXPECT_NE(errorOf(traces).find("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), std::string::npos);
}

TEST(OtlpSettings, Timeout) {
  const Env base = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  EXPECT_EQ(read(base).timeout, std::chrono::milliseconds(10'000));
  Env general = base;
  general["OTEL_EXPORTER_OTLP_TIMEOUT"] = "2500";
  EXPECT_EQ(read(general).timeout, std::chrono::milliseconds(2'500));
  Env traces = general;
  traces["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] = "700";
  EXPECT_EQ(read(traces).timeout, std::chrono::milliseconds(700));
  for (const char* bad : {"-1", "0", "ten", "5s"}) {
    Env env = base;
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = bad;
    auto settings = read(env);
    EXPECT_EQ(settings.timeout, std::chrono::milliseconds(10'000)) << bad;
    EXPECT_EQ(settings.warnings.size(), 1u) << bad;
  }
}

TEST(OtlpSettings, ServiceNameAndResourceAttributes) {
  const Env base = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  auto plain = read(base);
  ASSERT_FALSE(plain.resource.empty());
  EXPECT_EQ(plain.resource[0].key, "service.name");
  EXPECT_EQ(std::get<std::string>(plain.resource[0].value), "portico");
  ASSERT_TRUE(resourceValue(plain, "service.version"));

  Env env = base;
  env["OTEL_RESOURCE_ATTRIBUTES"] = "service.name=from-attrs,deployment.environment=prod%2Feu";
  auto from_attributes = read(env);
  EXPECT_EQ(std::get<std::string>(*resourceValue(from_attributes, "service.name")), "from-attrs");
  EXPECT_EQ(std::get<std::string>(*resourceValue(from_attributes, "deployment.environment")),
            "prod/eu");
  env["OTEL_SERVICE_NAME"] = "gateway-eu";
  auto named = read(env);
  EXPECT_EQ(std::get<std::string>(named.resource[0].value), "gateway-eu");
  int service_names = 0;
  for (const auto& attribute : named.resource) service_names += attribute.key == "service.name";
  EXPECT_EQ(service_names, 1);

  env["OTEL_RESOURCE_ATTRIBUTES"] = "broken";
  auto broken = read(env);
  EXPECT_EQ(resourceValue(broken, "deployment.environment"), nullptr);
  EXPECT_EQ(broken.warnings.size(), 1u);
}

TEST(OtlpSettings, SamplerNamesAndArgument) {
  const Env base = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  EXPECT_EQ(read(base).sampler, SamplerKind::kParentBasedAlwaysOn);
  const std::pair<const char*, SamplerKind> names[] = {
      {"always_on", SamplerKind::kAlwaysOn},
      {"always_off", SamplerKind::kAlwaysOff},
      {"traceidratio", SamplerKind::kTraceIdRatio},
      {"parentbased_always_on", SamplerKind::kParentBasedAlwaysOn},
      {"parentbased_always_off", SamplerKind::kParentBasedAlwaysOff},
      {"ParentBased_TraceIdRatio", SamplerKind::kParentBasedTraceIdRatio},
  };
  for (const auto& [name, kind] : names) {
    Env env = base;
    env["OTEL_TRACES_SAMPLER"] = name;
    EXPECT_EQ(read(env).sampler, kind) << name;
  }
  Env unknown = base;
  unknown["OTEL_TRACES_SAMPLER"] = "jaeger_remote";
  EXPECT_EQ(read(unknown).sampler, SamplerKind::kParentBasedAlwaysOn);
  EXPECT_EQ(read(unknown).warnings.size(), 1u);

  Env ratio = base;
  ratio["OTEL_TRACES_SAMPLER"] = "traceidratio";
  ratio["OTEL_TRACES_SAMPLER_ARG"] = "0.25";
  EXPECT_DOUBLE_EQ(read(ratio).ratio, 0.25);
  for (const char* bad : {"1.5", "-0.1", "half"}) {
    ratio["OTEL_TRACES_SAMPLER_ARG"] = bad;
    EXPECT_DOUBLE_EQ(read(ratio).ratio, 1.0) << bad;
    EXPECT_EQ(read(ratio).warnings.size(), 1u) << bad;
  }
}

TEST(OtlpSettings, CertificateProtocolAndBatchVariables) {
  auto settings = read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"},
                        {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"},
                        {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
                        {"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
                        {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"},
                        {"OTEL_BSP_SCHEDULE_DELAY", "250"}});
  EXPECT_EQ(settings.ca_file, "/etc/ca.pem");
  EXPECT_EQ(settings.warnings.size(), 1u);  // grpc
  EXPECT_EQ(settings.max_queue_spans, 100u);
  EXPECT_EQ(settings.max_batch_spans, 100u);  // never more than the queue
  EXPECT_EQ(settings.batch_interval, std::chrono::milliseconds(250));
  auto options = exporterOptions(settings);
  EXPECT_EQ(options.url, "https://c:4318/v1/traces");
  EXPECT_EQ(options.max_queue_spans, 100u);
  EXPECT_EQ(options.batch_interval, std::chrono::milliseconds(250));
  EXPECT_TRUE(read({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"},
                    {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}})
                  .warnings.empty());
}

std::array<std::uint8_t, 16> traceIdWithLow56(std::uint64_t low) {
  std::array<std::uint8_t, 16> id{};
  id[0] = 0xab;  // the high bytes do not matter
  for (int i = 15; i >= 9; --i) {
    id[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(low & 0xff);
    low >>= 8;
  }
  return id;
}

TEST(Sampler, RatioDecidesOnTheLast56BitsOfTheTraceId) {
  constexpr std::uint64_t kHalf = std::uint64_t{1} << 55;
  EXPECT_TRUE(traceIdRatioSamples(traceIdWithLow56(kHalf), 0.5));
  EXPECT_FALSE(traceIdRatioSamples(traceIdWithLow56(kHalf - 1), 0.5));
  EXPECT_TRUE(traceIdRatioSamples(traceIdWithLow56(0), 1.0));
  EXPECT_FALSE(traceIdRatioSamples(traceIdWithLow56((std::uint64_t{1} << 56) - 1), 0.0));
  // Roughly the ratio over many random ids, and the same answer every time for one id.
  std::mt19937_64 random(42);
  int sampled = 0;
  for (int i = 0; i < 20000; ++i) {
    auto id = traceIdWithLow56(random() & ((std::uint64_t{1} << 56) - 1));
    const bool decision = traceIdRatioSamples(id, 0.1);
    EXPECT_EQ(decision, traceIdRatioSamples(id, 0.1));
    sampled += decision;
  }
  EXPECT_NEAR(sampled, 2000, 200);
}

TEST(Sampler, DecisionsPerKind) {
  OtlpSettings settings;
  settings.enabled = true;
  TraceContext root;
  root.trace_id = traceIdWithLow56(0);  // below every threshold under 1.0
  TraceContext sampled_parent = root;
  sampled_parent.parent_span_id = 5;
  sampled_parent.parent_sampled = true;
  TraceContext unsampled_parent = sampled_parent;
  unsampled_parent.parent_sampled = false;

  auto decide = [&](SamplerKind kind, double ratio, const TraceContext& trace) {
    settings.sampler = kind;
    settings.ratio = ratio;
    return makeSampler(settings)(trace);
  };
  EXPECT_TRUE(decide(SamplerKind::kAlwaysOn, 1, unsampled_parent));
  EXPECT_FALSE(decide(SamplerKind::kAlwaysOff, 1, sampled_parent));
  EXPECT_FALSE(decide(SamplerKind::kTraceIdRatio, 0.5, sampled_parent));  // ignores the parent
  EXPECT_TRUE(decide(SamplerKind::kParentBasedAlwaysOn, 1, root));
  EXPECT_TRUE(decide(SamplerKind::kParentBasedAlwaysOn, 1, sampled_parent));
  EXPECT_FALSE(decide(SamplerKind::kParentBasedAlwaysOn, 1, unsampled_parent));
  EXPECT_FALSE(decide(SamplerKind::kParentBasedAlwaysOff, 1, root));
  EXPECT_TRUE(decide(SamplerKind::kParentBasedAlwaysOff, 1, sampled_parent));
  EXPECT_FALSE(decide(SamplerKind::kParentBasedTraceIdRatio, 0.5, root));
  EXPECT_TRUE(decide(SamplerKind::kParentBasedTraceIdRatio, 0.5, sampled_parent));
  EXPECT_TRUE(decide(SamplerKind::kParentBasedTraceIdRatio, 1.0, root));
}

}  // namespace
}  // namespace portico::telemetry
