#include "telemetry/otlp_settings.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/scheme.hpp>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "portico/encoding.hpp"
#include "portico/header_hygiene.hpp"

namespace portico::telemetry {
namespace {

// Upper bounds for the batch processor variables, so a typo cannot reserve gigabytes.
constexpr std::size_t kMaxQueueSpans = 65536;
constexpr std::chrono::milliseconds kMaxBatchInterval{60'000};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// The spec treats an empty value as unset.
std::optional<std::string> read(const EnvLookup& lookup, const char* name) {
  auto value = lookup(name);
  if (!value) {
    return std::nullopt;
  }
  const auto trimmed = trim(*value);
  if (trimmed.empty()) {
    return std::nullopt;
  }
  return std::string(trimmed);
}

// The traces-specific variable wins over the general one; `used` names the one read.
std::optional<std::string> readEither(const EnvLookup& lookup,
                                      const char* specific,
                                      const char* general,
                                      const char** used) {
  if (auto value = read(lookup, specific)) {
    *used = specific;
    return value;
  }
  *used = general;
  return read(lookup, general);
}

std::optional<std::string> percentDecoded(std::string_view text) {
  auto encoded = boost::urls::make_pct_string_view(text);
  if (!encoded) {
    return std::nullopt;
  }
  return encoded->decode();
}

// "k=v,k2=v2" (the W3C Baggage format the spec uses): keys trimmed, values trimmed and
// percent-decoded. nullopt with `why` set on a malformed list; `why` never quotes a value.
std::optional<std::vector<std::pair<std::string, std::string>>> parseKeyValues(
    std::string_view text, std::string& why) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto entry = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (entry.empty()) {
      continue;
    }
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) {
      why = "an entry has no '='";
      return std::nullopt;
    }
    const auto key = trim(entry.substr(0, equals));
    auto value = percentDecoded(trim(entry.substr(equals + 1)));
    if (key.empty()) {
      why = "an entry has no key";
      return std::nullopt;
    }
    if (!value) {
      why = "the value of " + std::string(key) + " is not valid percent-encoding";
      return std::nullopt;
    }
    out.emplace_back(std::string(key), std::move(*value));
  }
  return out;
}

PostHeaders parseHeaders(std::string_view text, const char* variable) {
  std::string why;
  auto pairs = parseKeyValues(text, why);
  if (pairs) {
    for (const auto& [name, value] : *pairs) {
      if (!isValidHeaderName(name)) {
        why = "a header name is not an HTTP token";
      } else if (!isValidHeaderValue(value)) {
        why = "the value of " + name + " holds a control character";
      } else {
        continue;
      }
      pairs.reset();
      break;
    }
  }
  if (!pairs) {
    throw OtlpSettingsError(std::string(variable) + " is malformed: " + why +
                            " (expected name=value,name2=value2)");
  }
  return std::move(*pairs);
}

std::string checkedUrl(std::string url, const char* variable) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  const bool http = parsed && (parsed->scheme_id() == boost::urls::scheme::http ||
                               parsed->scheme_id() == boost::urls::scheme::https);
  if (!http || parsed->encoded_host().empty()) {
    throw OtlpSettingsError(std::string(variable) +
                            " must be an http:// or https:// URL with a host, such as "
                            "http://localhost:4318");
  }
  return url;
}

// The spec's rule for the general endpoint: the signal's path appended to the base URL.
std::string tracesUrl(std::string base) {
  if (base.empty() || base.back() != '/') {
    base += '/';
  }
  return base + "v1/traces";
}

template <class Number>
std::optional<Number> parseNumber(std::string_view text) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// A positive integer variable within [1, max], else the default with a warning.
template <class Number>
Number readPositive(const std::optional<std::string>& text,
                    const char* variable,
                    Number fallback,
                    Number max,
                    std::vector<std::string>& warnings) {
  if (!text) {
    return fallback;
  }
  const auto value = parseNumber<Number>(*text);
  if (!value || !(*value > 0)) {
    warnings.push_back(std::string(variable) + " is not a positive integer; using the default");
    return fallback;
  }
  return std::min(*value, max);
}

std::optional<SamplerKind> samplerKind(std::string_view name) {
  if (name == "always_on") return SamplerKind::kAlwaysOn;
  if (name == "always_off") return SamplerKind::kAlwaysOff;
  if (name == "traceidratio") return SamplerKind::kTraceIdRatio;
  if (name == "parentbased_always_on") return SamplerKind::kParentBasedAlwaysOn;
  if (name == "parentbased_always_off") return SamplerKind::kParentBasedAlwaysOff;
  if (name == "parentbased_traceidratio") return SamplerKind::kParentBasedTraceIdRatio;
  return std::nullopt;
}

bool usesRatio(SamplerKind kind) {
  return kind == SamplerKind::kTraceIdRatio || kind == SamplerKind::kParentBasedTraceIdRatio;
}

void readSampler(const EnvLookup& lookup, OtlpSettings& settings) {
  if (auto name = read(lookup, "OTEL_TRACES_SAMPLER")) {
    if (auto kind = samplerKind(asciiLower(*name))) {
      settings.sampler = *kind;
    } else {
      settings.warnings.push_back("OTEL_TRACES_SAMPLER " + asciiLower(*name) +
                                  " is not supported; using parentbased_always_on");
    }
  }
  const auto arg = read(lookup, "OTEL_TRACES_SAMPLER_ARG");
  if (!arg || !usesRatio(settings.sampler)) {
    return;
  }
  const auto ratio = parseNumber<double>(*arg);
  if (!ratio || !(*ratio >= 0.0 && *ratio <= 1.0)) {
    settings.warnings.push_back(
        "OTEL_TRACES_SAMPLER_ARG is not a ratio between 0 and 1; using 1.0");
    return;
  }
  settings.ratio = *ratio;
}

void readResource(const EnvLookup& lookup, OtlpSettings& settings) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (auto text = read(lookup, "OTEL_RESOURCE_ATTRIBUTES")) {
    std::string why;
    if (auto parsed = parseKeyValues(*text, why)) {
      pairs = std::move(*parsed);
    } else {
      // The spec: a malformed value is discarded whole.
      settings.warnings.push_back("OTEL_RESOURCE_ATTRIBUTES is ignored: " + why);
    }
  }
  std::string service_name = "portico";
  if (auto name = read(lookup, "OTEL_SERVICE_NAME")) {
    service_name = *name;
  } else {
    for (const auto& [key, value] : pairs) {
      if (key == "service.name") service_name = value;
    }
  }
  settings.resource.push_back({"service.name", service_name});
  bool has_version = false;
  for (auto& [key, value] : pairs) {
    if (key == "service.name") {
      continue;
    }
    has_version = has_version || key == "service.version";
    settings.resource.push_back({key, std::move(value)});
  }
  if (!has_version) {
    settings.resource.push_back({"service.version", std::string(PORTICO_VERSION)});
  }
}

// OTEL_TRACES_EXPORTER is a list; only otlp is exported, none (or no otlp) turns tracing off.
bool otlpExporterChosen(const EnvLookup& lookup, std::vector<std::string>& warnings) {
  const auto list = read(lookup, "OTEL_TRACES_EXPORTER");
  if (!list) {
    return true;
  }
  bool otlp = false;
  std::string_view rest = *list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string name = asciiLower(trim(rest.substr(0, comma)));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (name == "otlp") {
      otlp = true;
    } else if (!name.empty() && name != "none") {
      warnings.push_back("OTEL_TRACES_EXPORTER " + name + " is not supported; only otlp is");
    }
  }
  return otlp;
}

}  // namespace

EnvLookup processEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

OtlpSettings readOtlpSettings(const EnvLookup& lookup) {
  OtlpSettings settings;
  if (auto disabled = read(lookup, "OTEL_SDK_DISABLED");
      disabled && asciiLower(*disabled) == "true") {
    return settings;
  }
  if (!otlpExporterChosen(lookup, settings.warnings)) {
    return settings;
  }
  if (auto url = read(lookup, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    settings.url = checkedUrl(std::move(*url), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  } else if (auto base = read(lookup, "OTEL_EXPORTER_OTLP_ENDPOINT")) {
    checkedUrl(*base, "OTEL_EXPORTER_OTLP_ENDPOINT");
    settings.url = checkedUrl(tracesUrl(std::move(*base)), "OTEL_EXPORTER_OTLP_ENDPOINT");
  } else {
    return settings;
  }
  settings.enabled = true;

  const char* used = nullptr;
  if (auto headers = readEither(lookup, "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                                "OTEL_EXPORTER_OTLP_HEADERS", &used)) {
    settings.headers = parseHeaders(*headers, used);
  }
  const auto timeout =
      readEither(lookup, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", &used);
  settings.timeout = std::chrono::milliseconds(
      readPositive<long long>(timeout, used, 10'000, 600'000, settings.warnings));
  if (auto ca = readEither(lookup, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                           "OTEL_EXPORTER_OTLP_CERTIFICATE", &used)) {
    settings.ca_file = std::move(*ca);
  }
  if (auto protocol = readEither(lookup, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                                 "OTEL_EXPORTER_OTLP_PROTOCOL", &used);
      protocol && asciiLower(*protocol) != "http/json") {
    settings.warnings.push_back(std::string(used) +
                                " is not http/json: traces are sent as OTLP/HTTP JSON anyway");
  }
  readSampler(lookup, settings);
  readResource(lookup, settings);

  settings.max_queue_spans =
      readPositive<std::size_t>(read(lookup, "OTEL_BSP_MAX_QUEUE_SIZE"), "OTEL_BSP_MAX_QUEUE_SIZE",
                                settings.max_queue_spans, kMaxQueueSpans, settings.warnings);
  settings.max_batch_spans =
      std::min(settings.max_queue_spans,
               readPositive<std::size_t>(read(lookup, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
                                         "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", settings.max_batch_spans,
                                         kMaxQueueSpans, settings.warnings));
  settings.batch_interval = std::chrono::milliseconds(readPositive<long long>(
      read(lookup, "OTEL_BSP_SCHEDULE_DELAY"), "OTEL_BSP_SCHEDULE_DELAY",
      settings.batch_interval.count(), kMaxBatchInterval.count(), settings.warnings));
  return settings;
}

bool traceIdRatioSamples(const std::array<std::uint8_t, 16>& trace_id, double ratio) {
  if (ratio >= 1.0) {
    return true;
  }
  if (!(ratio > 0.0)) {
    return false;
  }
  constexpr double kRange = 72057594037927936.0;  // 2^56
  const auto threshold = static_cast<std::uint64_t>((1.0 - ratio) * kRange);
  std::uint64_t randomness = 0;
  for (std::size_t i = 9; i < 16; ++i) {
    randomness = (randomness << 8) | trace_id[i];
  }
  return randomness >= threshold;
}

std::function<bool(const TraceContext&)> makeSampler(const OtlpSettings& settings) {
  if (!settings.enabled) {
    return nullptr;
  }
  const double ratio = settings.ratio;
  switch (settings.sampler) {
    case SamplerKind::kAlwaysOn:
      return [](const TraceContext&) { return true; };
    case SamplerKind::kAlwaysOff:
      return [](const TraceContext&) { return false; };
    case SamplerKind::kTraceIdRatio:
      return
          [ratio](const TraceContext& trace) { return traceIdRatioSamples(trace.trace_id, ratio); };
    case SamplerKind::kParentBasedAlwaysOn:
      return [](const TraceContext& trace) {
        return trace.parent_span_id != 0 ? trace.parent_sampled : true;
      };
    case SamplerKind::kParentBasedAlwaysOff:
      return [](const TraceContext& trace) {
        return trace.parent_span_id != 0 ? trace.parent_sampled : false;
      };
    case SamplerKind::kParentBasedTraceIdRatio:
      return [ratio](const TraceContext& trace) {
        return trace.parent_span_id != 0 ? trace.parent_sampled
                                         : traceIdRatioSamples(trace.trace_id, ratio);
      };
  }
  return nullptr;
}

OtlpExporterOptions exporterOptions(const OtlpSettings& settings) {
  OtlpExporterOptions options;
  options.url = settings.url;
  options.headers = settings.headers;
  options.timeout = settings.timeout;
  options.resource = settings.resource;
  options.max_queue_spans = settings.max_queue_spans;
  options.max_batch_spans = settings.max_batch_spans;
  options.batch_interval = settings.batch_interval;
  return options;
}

}  // namespace portico::telemetry
