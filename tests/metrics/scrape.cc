#include "scrape.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "support/tcp_client.h"

namespace reactord::test_support {

HttpResponse http_get(int port, const std::string& path, int timeout_ms) {
  const std::chrono::milliseconds limit(timeout_ms);
  TcpClient client(static_cast<std::uint16_t>(port), limit);
  if (!client.connected())
    throw std::runtime_error(std::string("http_get: connect: ") + std::strerror(errno));
  client.send_all("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  std::string how;
  const std::string raw = client.read_to_end(&how, limit);
  if (how != "eof") throw std::runtime_error("http_get: " + how + " while reading");
  HttpResponse response;
  std::size_t head_end = raw.find("\r\n\r\n");
  bool http = raw.compare(0, 9, "HTTP/1.1 ") == 0 || raw.compare(0, 9, "HTTP/1.0 ") == 0;
  if (head_end == std::string::npos || !http) {
    throw std::runtime_error("http_get: not an HTTP response: " + raw.substr(0, 80));
  }
  response.status = std::stoi(raw.substr(9, 3));
  response.headers = raw.substr(0, head_end);
  response.body = raw.substr(head_end + 4);
  return response;
}

std::vector<Sample> parse_exposition(const std::string& text) {
  std::vector<Sample> samples;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    auto fail = [&](const char* why) {
      throw std::runtime_error(std::string("exposition: ") + why + ": " + line);
    };
    Sample sample;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = line.substr(0, i);
    if (sample.name.empty()) fail("no name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') fail("label");
        std::string key = line.substr(i, eq - i);
        std::string value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) fail("unterminated label value");
        sample.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) fail("unterminated labels");
      ++i;
    }
    while (i < line.size() && line[i] == ' ') ++i;
    std::string value = line.substr(i);
    std::size_t space = value.find(' ');  // an optional timestamp follows
    if (space != std::string::npos) value.resize(space);
    if (value == "+Inf") {
      sample.value = INFINITY;
    } else if (value == "-Inf") {
      sample.value = -INFINITY;
    } else if (value == "Nan" || value == "NaN") {
      sample.value = NAN;
    } else {
      std::size_t used = 0;
      try {
        sample.value = std::stod(value, &used);
      } catch (const std::exception&) {
        fail("value");
      }
      if (used != value.size()) fail("value");
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<double> find_value(const std::vector<Sample>& samples, const std::string& name,
                                 const std::map<std::string, std::string>& labels) {
  std::optional<double> found;
  for (const auto& sample : samples) {
    if (sample.name != name) continue;
    bool match = true;
    for (const auto& [key, value] : labels) {
      auto it = sample.labels.find(key);
      if (it == sample.labels.end() || it->second != value) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    if (found) throw std::runtime_error("find_value: more than one sample matches " + name);
    found = sample.value;
  }
  return found;
}

}  // namespace reactord::test_support
