#include "telemetry/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace portico::telemetry {
namespace {

// When the process started, taken when this file's statics are initialised (early in main).
const double kStartSeconds =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

std::int64_t openDescriptors() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return 0;
  }
  std::int64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

void appendProcessMetrics(Exposition& out) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  out.family("process_cpu_seconds_total", "counter", "User and system CPU time spent.");
  out.sample("process_cpu_seconds_total", {}, cpu);

  long pages_total = 0;
  long pages_resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident) != 2) {
      pages_total = pages_resident = 0;
    }
    std::fclose(statm);
  }
  const auto page = static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
  out.family("process_resident_memory_bytes", "gauge", "Resident memory size.");
  out.sample("process_resident_memory_bytes", {}, std::int64_t{pages_resident} * page);
  out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size.");
  out.sample("process_virtual_memory_bytes", {}, std::int64_t{pages_total} * page);
  out.family("process_open_fds", "gauge", "Open file descriptors.");
  out.sample("process_open_fds", {}, openDescriptors());
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.family("process_max_fds", "gauge", "The limit of open file descriptors.");
    out.sample("process_max_fds", {}, static_cast<std::int64_t>(limit.rlim_cur));
  }
  out.family("process_start_time_seconds", "gauge", "Start time since the Unix epoch.");
  out.sample("process_start_time_seconds", {}, kStartSeconds);
}

}  // namespace portico::telemetry
