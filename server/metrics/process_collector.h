// The standard process_* metrics every Prometheus client library exports. prometheus-cpp 1.0
// has no such collector, so we read /proc/self ourselves at scrape time (Linux only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace reactord::metrics {

// What /proc says about one process, parsed. Values that could not be read stay unset and
// their metric is left out of the scrape (never a made-up 0).
struct ProcessSample {
  std::optional<double> cpu_seconds;         // utime + stime
  std::optional<double> start_time_seconds;  // since the Unix epoch
  std::optional<double> resident_bytes;
  std::optional<double> virtual_bytes;
  std::optional<double> open_fds;
  std::optional<double> max_fds;  // soft RLIMIT_NOFILE
};

// Parsers for the /proc formats, public so tests can feed them fixed text. Any thread.
struct ProcStat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t start_ticks = 0;  // since boot
  std::uint64_t vsize_bytes = 0;
  std::int64_t rss_pages = 0;
};
// /proc/<pid>/stat. The command name may hold spaces and ')' — fields are counted after the
// last ')'. nullopt on malformed text.
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// The "btime" line of /proc/stat: boot time in seconds since the epoch.
std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat_text);
// The soft limit of "Max open files" in /proc/<pid>/limits; "unlimited" gives nullopt.
std::optional<std::uint64_t> parse_max_open_files(std::string_view limits_text);

// Reads the current process. Any thread.
ProcessSample read_process_sample();

class ProcessCollector : public prometheus::Collectable {
 public:
  // Called by the metrics HTTP server's thread (a scrape). Any thread.
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace reactord::metrics
