#include "routing/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace portico::routing {
namespace {

// Parses a non-negative decimal ("1", "1.5"); nullopt for anything else.
std::optional<double> parseDecimal(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) {
    return std::nullopt;
  }
  for (char c : text) {
    if ((c < '0' || c > '9') && c != '.') {
      return std::nullopt;  // also rejects signs and HTTP dates
    }
  }
  try {
    std::size_t used = 0;
    double value = std::stod(std::string(text), &used);
    if (used != text.size() || !std::isfinite(value)) {
      return std::nullopt;
    }
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::chrono::milliseconds> positiveMs(double ms) {
  if (!(ms > 0)) {
    return std::nullopt;
  }
  // Clamp so absurd values stay representable (they exceed the budget either way).
  ms = std::min(ms, 1e12);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(ms)));
}

}  // namespace

const std::vector<int>& defaultRetryStatuses() {
  static const std::vector<int> kStatuses = {429, 500, 502, 503, 504};
  return kStatuses;
}

std::chrono::milliseconds backoffDelay(int retry_number, double unit_random) {
  retry_number = std::clamp(retry_number, 1, 16);
  unit_random = std::clamp(unit_random, 0.0, 1.0);
  const double base = static_cast<double>(kRetryBaseDelay.count()) *
                      static_cast<double>(std::int64_t{1} << (retry_number - 1));
  return std::chrono::milliseconds(static_cast<std::int64_t>(base / 2 + unit_random * base / 2));
}

std::optional<std::chrono::milliseconds> retryAfterFromHeaders(const HeaderList& headers) {
  for (std::string_view name : {"retry-after-ms", "x-ms-retry-after-ms"}) {
    if (auto value = findHeader(headers, name)) {
      if (auto ms = parseDecimal(*value)) {
        return positiveMs(*ms);
      }
    }
  }
  if (auto value = findHeader(headers, "retry-after")) {
    if (auto seconds = parseDecimal(*value)) {
      return positiveMs(*seconds * 1000.0);
    }
  }
  return std::nullopt;
}

RetryDecision decideRetry(const RetrySettings& settings,
                          int retries_done,
                          const AttemptOutcome& outcome,
                          std::chrono::milliseconds waited,
                          double unit_random) {
  RetryDecision done;
  done.reported_count = retries_done;
  const int attempts = std::clamp(settings.attempts, 0, kMaxRetryAttempts);
  if (outcome.final || attempts == 0) {
    return done;
  }
  if (!outcome.network_error && outcome.status >= 200 && outcome.status < 300) {
    return done;
  }
  const auto& statuses =
      settings.on_status_codes.empty() ? defaultRetryStatuses() : settings.on_status_codes;
  const bool listed = std::find(statuses.begin(), statuses.end(), outcome.status) != statuses.end();
  if (!outcome.network_error && !listed) {
    return done;  // e.g. a 400: retrying cannot help
  }
  if (retries_done >= attempts) {
    done.reported_count = -1;
    return done;
  }

  RetryDecision next;
  next.retry = true;
  next.delay = backoffDelay(retries_done + 1, unit_random);
  if (settings.use_retry_after_header && outcome.headers != nullptr &&
      (outcome.status == 429 || outcome.status == 503)) {
    if (auto wait = retryAfterFromHeaders(*outcome.headers)) {
      if (*wait >= kRetryAfterBudget || *wait + waited > kRetryAfterBudget) {
        // Waiting that long would hold the client for over a minute: answer now.
        done.reported_count = -1;
        return done;
      }
      next.delay = *wait;
    }
  }
  return next;
}

}  // namespace portico::routing
