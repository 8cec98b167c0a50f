#include "telemetry/exposition.hpp"

#include <spdlog/fmt/fmt.h>

#include <iterator>

namespace portico::telemetry {
namespace {

void appendLabelValue(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      out += '_';
    } else {
      out += c;
    }
  }
}

}  // namespace

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Exposition::series(std::string_view name,
                        std::string_view suffix,
                        std::initializer_list<Label> labels,
                        const Label* extra) {
  out_ += name;
  out_ += suffix;
  if (labels.size() == 0 && extra == nullptr) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  auto write = [&](const Label& label) {
    if (!first) {
      out_ += ',';
    }
    first = false;
    out_ += label.first;
    out_ += "=\"";
    appendLabelValue(out_, label.second);
    out_ += '"';
  };
  for (const auto& label : labels) {
    write(label);
  }
  if (extra != nullptr) {
    write(*extra);
  }
  out_ += "} ";
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  series(name, "", labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void Exposition::sample(std::string_view name,
                        std::initializer_list<Label> labels,
                        std::uint64_t value) {
  series(name, "", labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void Exposition::sample(std::string_view name,
                        std::initializer_list<Label> labels,
                        std::int64_t value) {
  series(name, "", labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void Exposition::histogram(std::string_view name,
                           std::initializer_list<Label> labels,
                           const std::uint64_t* counts,
                           const double* bounds,
                           std::size_t bucket_count,
                           double sum) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bucket_count; ++i) {
    cumulative += counts[i];
    const std::string bound = i < bucket_count ? fmt::format("{}", bounds[i]) : "+Inf";
    const Label le{"le", bound};
    series(name, "_bucket", labels, &le);
    fmt::format_to(std::back_inserter(out_), "{}\n", cumulative);
  }
  series(name, "_sum", labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", sum);
  series(name, "_count", labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", cumulative);
}

}  // namespace portico::telemetry
