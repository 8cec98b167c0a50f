// First-event latency, one stream at a time: one keep-alive connection to 127.0.0.1:PORT, N
// sequential streamed POSTs (after WARMUP unmeasured ones). For each, the time from writing the
// request to holding the first complete SSE event of the body (its first "\n\n" after the
// response header, chunked framing decoded); each answer is read to its end (the last chunk)
// before the next request goes out. Prints "p50_us p99_us errors measured" on one line.
// An error is a non-200 status, a body without an event, or a dropped connection (reconnects);
// an answer with Connection: close is no error (the next request goes on a new connection).
// Usage: portico_first_event_probe PORT PATH REQUESTS WARMUP BODY [HEADER...]
//        HEADER is "name: value"; Host, Content-Type and Content-Length are added.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int connectTo(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    std::perror("socket");
    std::exit(2);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    std::exit(2);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One answer read off the connection: bytes past it stay in `in` for the next one.
struct Reader {
  int fd = -1;
  std::string in;

  bool fill() {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      in.append(buf, static_cast<size_t>(n));
      return true;
    }
  }
};

bool iequalsPrefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) {
      return false;
    }
  }
  return true;
}

enum class Outcome { kOk, kBadAnswer, kDropped };

// Reads one answer to its end; `first_event` is set when its body's first event is complete.
Outcome readAnswer(Reader& reader, Clock::time_point& first_event, bool& close) {
  size_t header_end;
  while ((header_end = reader.in.find("\r\n\r\n")) == std::string::npos) {
    if (!reader.fill()) {
      return Outcome::kDropped;
    }
  }
  const std::string head = reader.in.substr(0, header_end + 2);
  reader.in.erase(0, header_end + 4);
  int status = 0;
  std::sscanf(head.c_str(), "HTTP/%*d.%*d %d", &status);
  bool chunked = false;
  long long length = -1;
  for (size_t pos = head.find("\r\n") + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    std::string_view line(head.data() + pos, end - pos);
    if (iequalsPrefix(line, "transfer-encoding:") &&
        line.find("chunked") != std::string_view::npos) {
      chunked = true;
    } else if (iequalsPrefix(line, "content-length:")) {
      length = std::atoll(std::string(line.substr(15)).c_str());
    } else if (iequalsPrefix(line, "connection:") && line.find("close") != std::string_view::npos) {
      close = true;
    }
    pos = end + 2;
  }
  std::string body;
  bool have_event = false;
  auto seen = [&] {
    if (!have_event && body.find("\n\n") != std::string::npos) {
      have_event = true;
      first_event = Clock::now();
    }
  };
  if (chunked) {
    for (;;) {
      size_t line_end;
      while ((line_end = reader.in.find("\r\n")) == std::string::npos) {
        if (!reader.fill()) {
          return Outcome::kDropped;
        }
      }
      const size_t size = std::strtoull(reader.in.c_str(), nullptr, 16);
      if (size == 0) {  // the last chunk: no trailers expected, just the blank line
        while (reader.in.size() < line_end + 4) {
          if (!reader.fill()) {
            return Outcome::kDropped;
          }
        }
        reader.in.erase(0, line_end + 4);
        break;
      }
      while (reader.in.size() < line_end + 2 + size + 2) {
        if (!reader.fill()) {
          return Outcome::kDropped;
        }
      }
      body.append(reader.in, line_end + 2, size);
      reader.in.erase(0, line_end + 2 + size + 2);
      seen();
    }
  } else if (length >= 0) {
    while (reader.in.size() < static_cast<size_t>(length)) {
      if (!reader.fill()) {
        return Outcome::kDropped;
      }
    }
    body.assign(reader.in, 0, static_cast<size_t>(length));
    reader.in.erase(0, static_cast<size_t>(length));
    seen();
  } else {
    return Outcome::kDropped;  // read-to-close bodies: not on a keep-alive bench
  }
  return status == 200 && have_event ? Outcome::kOk : Outcome::kBadAnswer;
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(p * static_cast<double>(values.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s PORT PATH REQUESTS WARMUP BODY [HEADER...]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const std::string path = argv[2];
  const int requests = std::atoi(argv[3]);
  const int warmup = std::atoi(argv[4]);
  const std::string body = argv[5];
  std::string request =
      "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + argv[1] +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n";
  for (int i = 6; i < argc; ++i) {
    request += std::string(argv[i]) + "\r\n";
  }
  request += "\r\n" + body;

  Reader reader{connectTo(port), {}};
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(requests));
  int errors = 0;
  for (int i = 0; i < warmup + requests; ++i) {
    const Clock::time_point start = Clock::now();
    Clock::time_point first_event{};
    bool close = false;
    Outcome outcome =
        sendAll(reader.fd, request) ? readAnswer(reader, first_event, close) : Outcome::kDropped;
    if (outcome == Outcome::kDropped || close) {
      ::close(reader.fd);
      reader = Reader{connectTo(port), {}};
    }
    if (i < warmup) {
      continue;
    }
    if (outcome != Outcome::kOk) {
      ++errors;
      continue;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(first_event - start).count());
  }
  ::close(reader.fd);
  const size_t measured = latencies.size();
  const double p50 = percentile(latencies, 0.50);
  const double p99 = percentile(latencies, 0.99);
  std::printf("%.0f %.0f %d %zu\n", p50, p99, errors, measured);
  return 0;
}
