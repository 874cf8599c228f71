#include "fleet.h"

#include <netdb.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <algorithm>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <thread>

#include "table.h"
#include "units/text.h"

namespace reactorctl {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Where each column starts: Table::print writes headers left-aligned at their column's start,
// two spaces apart, and header words have no spaces.
std::vector<std::size_t> column_starts(const std::string& header) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] != ' ' && (i == 0 || header[i - 1] == ' ')) starts.push_back(i);
  }
  return starts;
}

// A row cut at the header's column starts (empty cells and cells with spaces stay in place;
// a right-aligned number ends at its column's end, before the next start).
std::vector<std::string> cut_row(const std::string& line, const std::vector<std::size_t>& starts) {
  std::vector<std::string> cells;
  for (std::size_t c = 0; c < starts.size(); ++c) {
    const std::size_t begin = std::min(starts[c], line.size());
    const std::size_t end = c + 1 < starts.size() ? std::min(starts[c + 1], line.size()) : line.size();
    cells.emplace_back(reactord::text::trim(std::string_view(line).substr(begin, end - begin)));
  }
  return cells;
}

// The summaries under a table ("3 connection(s)", "12 event(s); counts: ...").
bool is_summary(const std::string& line) {
  static const std::regex summary(R"(^\d+ (connection|event)\(s\).*)");
  return std::regex_match(line, summary);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Writes whole lines to a shared stream under one lock, each prefixed (streams from several
// threads interleave by line, never inside one).
class PrefixedLines final : public std::streambuf {
 public:
  PrefixedLines(std::ostream& sink, std::mutex& lock, std::function<std::string(const std::string&)> wrap)
      : sink_(sink), lock_(lock), wrap_(std::move(wrap)) {}
  ~PrefixedLines() override {
    if (!line_.empty()) emit();
  }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return 0;
    if (c == '\n')
      emit();
    else
      line_ += static_cast<char>(c);
    return c;
  }

 private:
  void emit() {
    std::lock_guard guard(lock_);
    sink_ << wrap_(line_) << '\n';
    sink_.flush();
    line_.clear();
  }
  std::ostream& sink_;
  std::mutex& lock_;
  std::function<std::string(const std::string&)> wrap_;
  std::string line_;
};

int worst(const std::vector<int>& codes) {
  for (int code : {1, 3, 2}) {
    if (std::find(codes.begin(), codes.end(), code) != codes.end()) return code;
  }
  for (int code : codes)
    if (code != 0) return code;
  return 0;
}

}  // namespace

std::vector<std::string> expand_targets(const std::string& target) {
  std::vector<std::string> targets;
  if (target.find(',') != std::string::npos) {
    std::string item;
    std::istringstream in(target);
    while (std::getline(in, item, ',')) {
      if (item.empty()) throw std::invalid_argument("--target '" + target + "': empty element");
      targets.push_back(item);
    }
    if (target.back() == ',') throw std::invalid_argument("--target '" + target + "': empty element");
    return targets;
  }
  // host:port with a DNS name: every address it has.
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || target.front() == '[') return {target};
  const std::string host = target.substr(0, colon), port = target.substr(colon + 1);
  in6_addr scratch;
  if (host.empty() || inet_pton(AF_INET, host.c_str(), &scratch) == 1) return {target};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) return {target};
  std::set<std::string> seen;
  for (addrinfo* a = found; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof text);
      if (seen.insert(std::string(text) + ":" + port).second)
        targets.push_back(std::string(text) + ":" + port);
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text, sizeof text);
      const std::string t = "[" + std::string(text) + "]:" + port;
      if (seen.insert(t).second) targets.push_back(t);
    }
  }
  freeaddrinfo(found);
  if (targets.size() <= 1) return {target};  // one address: keep the name (TLS checks it)
  return targets;
}

int run_fleet(const std::vector<std::string>& targets, FleetShape shape, bool json, const TargetRun& run,
              std::ostream& out, std::ostream& err) {
  std::vector<int> codes(targets.size(), 0);
  std::vector<std::ostringstream> outs(targets.size()), errs(targets.size());
  std::mutex lock;
  std::size_t width = std::string("TARGET").size();
  for (const auto& t : targets) width = std::max(width, t.size());
  auto column = [&](const std::string& t) { return t + std::string(width - t.size() + 2, ' '); };

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    threads.emplace_back([&, i] {
      const std::string& t = targets[i];
      if (shape == FleetShape::kStream) {  // lines as they come
        PrefixedLines out_buf(out, lock, [&](const std::string& line) {
          return json ? "{\"target\":" + json_string(t) + ",\"answer\":" + line + "}" : column(t) + line;
        });
        PrefixedLines err_buf(err, lock, [&](const std::string& line) {
          std::string prefixed = t;
          prefixed += ": ";
          prefixed += line;
          return prefixed;
        });
        std::ostream o(&out_buf), e(&err_buf);
        codes[i] = run(t, o, e);
      } else {
        codes[i] = run(t, outs[i], errs[i]);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (shape == FleetShape::kStream) return worst(codes);

  // Merge in target order.
  if (json) {
    for (std::size_t i = 0; i < targets.size(); ++i) {
      for (const auto& line : split_lines(outs[i].str())) {
        out << "{\"target\":" << json_string(targets[i]) << ",\"answer\":" << line << "}\n";
      }
    }
  } else if (shape == FleetShape::kTable) {
    // One table: the first answering target's header with TARGET in front; rows whose cell
    // count matches the header join it; the rest (summaries) follow, per target.
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> trailers;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      auto lines = split_lines(outs[i].str());
      if (lines.empty()) continue;
      const auto starts = column_starts(lines[0]);
      const auto cells = cut_row(lines[0], starts);
      if (header.empty()) header = cells;
      for (std::size_t l = 1; l < lines.size(); ++l) {
        if (cells == header && !is_summary(lines[l]) && !lines[l].empty()) {
          auto row = cut_row(lines[l], starts);
          row.insert(row.begin(), targets[i]);
          rows.push_back(std::move(row));
        } else {
          trailers.push_back(column(targets[i]) + lines[l]);
        }
      }
    }
    if (!header.empty()) {
      header.insert(header.begin(), "TARGET");
      Table table(header);
      for (auto& row : rows) table.add_row(std::move(row));
      table.print(out);
    }
    for (const auto& line : trailers) out << line << '\n';
  } else {
    out << column("TARGET") << "ANSWER\n";
    for (std::size_t i = 0; i < targets.size(); ++i) {
      for (const auto& line : split_lines(outs[i].str())) out << column(targets[i]) << line << '\n';
    }
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    for (const auto& line : split_lines(errs[i].str())) err << targets[i] << ": " << line << '\n';
  }
  return worst(codes);
}

}  // namespace reactorctl
