// process_* metrics: the /proc parsers on fixed text, and the live values of this process.
#include "server/metrics/process_collector.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace reactord::metrics {
namespace {

TEST(ProcStatTest, ParsesFieldsAfterAWeirdCommandName) {
  // comm "a) b (c" holds spaces and parentheses; only the last ')' ends it.
  const char* text =
      "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 "
      "123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  auto stat = parse_proc_stat(text);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 75u);
  EXPECT_EQ(stat->start_ticks, 123456u);
  EXPECT_EQ(stat->vsize_bytes, 987654321u);
  EXPECT_EQ(stat->rss_pages, 2048);
}

TEST(ProcStatTest, RejectsTruncatedText) {
  EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2 3").has_value());
  EXPECT_FALSE(parse_proc_stat("no parenthesis at all").has_value());
  EXPECT_FALSE(parse_proc_stat("").has_value());
}

TEST(ProcStatTest, FindsBootTime) {
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"),
            std::optional<std::uint64_t>(1700000000));
  EXPECT_FALSE(parse_boot_time("cpu 1 2 3\n").has_value());
}

TEST(ProcStatTest, FindsSoftOpenFileLimit) {
  const char* limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(parse_max_open_files(limits), std::optional<std::uint64_t>(1024));
  EXPECT_FALSE(parse_max_open_files("Max open files  unlimited unlimited files\n").has_value());
  EXPECT_FALSE(parse_max_open_files("").has_value());
}

TEST(ProcessSampleTest, OpenFdsFollowsThisProcess) {
  auto before = read_process_sample();
  ASSERT_TRUE(before.open_fds.has_value());
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto during = read_process_sample();
  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(during.open_fds.has_value());
  EXPECT_EQ(*during.open_fds, *before.open_fds + 3);
}

TEST(ProcessSampleTest, MatchesKernelViews) {
  auto sample = read_process_sample();
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_TRUE(sample.max_fds.has_value());
  EXPECT_EQ(*sample.max_fds, static_cast<double>(limit.rlim_cur));

  ASSERT_TRUE(sample.resident_bytes.has_value());
  EXPECT_GT(*sample.resident_bytes, 0);
  ASSERT_TRUE(sample.virtual_bytes.has_value());
  EXPECT_GE(*sample.virtual_bytes, *sample.resident_bytes);
  ASSERT_TRUE(sample.cpu_seconds.has_value());
  EXPECT_GE(*sample.cpu_seconds, 0);

  ASSERT_TRUE(sample.start_time_seconds.has_value());
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // The test binary started a moment ago (boot time has 1 s resolution).
  EXPECT_LE(*sample.start_time_seconds, now + 1);
  EXPECT_GT(*sample.start_time_seconds, now - 600);
}

TEST(ProcessCollectorTest, EmitsTheStandardFamilies) {
  auto families = ProcessCollector().Collect();
  std::vector<std::string> names;
  for (const auto& f : families) {
    names.push_back(f.name);
    ASSERT_EQ(f.metric.size(), 1u) << f.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"process_cpu_seconds_total", "process_resident_memory_bytes",
                                             "process_virtual_memory_bytes", "process_open_fds",
                                             "process_max_fds", "process_start_time_seconds"}));
  EXPECT_EQ(families[0].type, prometheus::MetricType::Counter);
  EXPECT_EQ(families[1].type, prometheus::MetricType::Gauge);
}

}  // namespace
}  // namespace reactord::metrics
