// Test helpers: fetch an exposition over real HTTP and read samples out of it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reactord::test_support {

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

// GET http://127.0.0.1:<port><path> with HTTP/1.0 (the server closes after the answer).
// Bounded: connect, send and every read time out after `timeout_ms`. Throws std::runtime_error
// on socket errors and timeouts.
HttpResponse http_get(int port, const std::string& path = "/metrics", int timeout_ms = 5000);

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples of a text exposition (comments skipped). Throws std::runtime_error on a line it
// cannot parse, so a malformed exposition fails the test that reads it.
std::vector<Sample> parse_exposition(const std::string& text);

// The value of the one sample called `name` whose labels include `labels`; nullopt when there
// is none; throws when more than one matches (the test asked an ambiguous question).
std::optional<double> find_value(const std::vector<Sample>& samples, const std::string& name,
                                 const std::map<std::string, std::string>& labels = {});

}  // namespace reactord::test_support
