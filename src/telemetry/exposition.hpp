#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace portico::telemetry {

using Label = std::pair<std::string_view, std::string_view>;

// Writes Prometheus' text exposition format (version 0.0.4): HELP and TYPE once per family,
// then its samples; label values escaped, and bytes outside printable ASCII replaced, so that
// whatever a client named its model cannot break the scrape.
class Exposition {
 public:
  explicit Exposition(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::int64_t value);
  // A histogram's _bucket, _sum and _count lines from per-bucket counts (not cumulative) for
  // `bounds` in seconds, the +Inf bucket last, and the sum in seconds.
  void histogram(std::string_view name,
                 std::initializer_list<Label> labels,
                 const std::uint64_t* counts,
                 const double* bounds,
                 std::size_t bucket_count,
                 double sum);

 private:
  void series(std::string_view name,
              std::string_view suffix,
              std::initializer_list<Label> labels,
              const Label* extra);

  std::string& out_;
};

}  // namespace portico::telemetry
