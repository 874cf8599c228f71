// Randomized operations on two Buffers checked against std::string models (fixed seed,
// 150k steps). The alphabet is rich in '\r', '\n' and '\0' so readln hits every EOL shape,
// and add_reference memory is freed by its release callback, so AddressSanitizer catches any
// read after release; each reference must be released exactly once.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "reactor/buffer.h"
#include "../fuzz/buffer_model.h"

namespace reactor {
namespace {

struct Modeled {
  Buffer buf;
  std::string model;
  std::size_t tracked = 0;  // length as seen through the length callback
};

// The reference semantics of readln, on a plain string: the fuzz targets' model (one copy).
using reactord::fuzz::model_readln;

std::string concat(const std::vector<std::span<const std::byte>>& spans) {
  std::string out;
  for (auto span : spans) {
    EXPECT_FALSE(span.empty());
    out.append(reinterpret_cast<const char*>(span.data()), span.size());
  }
  return out;
}

class BufferModelTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng{20261126};

  std::size_t uniform(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  }
  // Mostly short, sometimes a few KB, rarely big: exercises tiny-block copies, splits and
  // multi-block appends.
  std::size_t random_len() {
    const std::size_t r = uniform(0, 99);
    if (r < 70) return uniform(0, 64);
    if (r < 95) return uniform(65, 3000);
    return uniform(3001, 20000);
  }
  std::string random_bytes(std::size_t n) {
    static constexpr char kAlphabet[] = {'a', 'b', 'c', '\r', '\n', '\0', 'x', '\r', '\n'};
    std::string s(n, '\0');
    for (char& c : s) c = kAlphabet[uniform(0, sizeof(kAlphabet) - 1)];
    return s;
  }
};

TEST_F(BufferModelTest, RandomOperationsMatchStringModel) {
  constexpr int kSteps = 150000;
  Modeled sides[2];
  for (Modeled& m : sides) {
    m.buf.set_length_callback([&m](std::size_t orig, std::size_t added, std::size_t deleted) {
      ASSERT_EQ(orig, m.tracked);
      m.tracked = orig + added - deleted;
    });
  }
  // Live references: id -> memory; the release callback frees it and counts.
  std::map<int, std::unique_ptr<std::string>> live;
  std::map<int, int> releases;
  int next_ref = 0;
  int ops_seen[14] = {};

  for (int step = 0; step < kSteps; ++step) {
    const std::size_t me = uniform(0, 1);
    Modeled& a = sides[me];
    Modeled& b = sides[1 - me];
    const int op = static_cast<int>(uniform(0, 13));
    ++ops_seen[op];
    switch (op) {
      case 0: {  // append
        const std::string s = random_bytes(random_len());
        a.buf.append(s.data(), s.size());
        a.model += s;
        break;
      }
      case 1: {  // prepend
        const std::string s = random_bytes(uniform(0, 300));
        a.buf.prepend(s);
        a.model.insert(0, s);
        break;
      }
      case 2: {  // drain
        const std::size_t n = uniform(0, a.model.size() + 10);
        const std::size_t expect = std::min(n, a.model.size());
        ASSERT_EQ(a.buf.drain(n), expect);
        a.model.erase(0, expect);
        break;
      }
      case 3: {  // remove
        const std::size_t n = uniform(0, a.model.size() + 10);
        std::string out(n, '?');
        const std::size_t got = a.buf.remove(out.data(), n);
        ASSERT_EQ(got, std::min(n, a.model.size()));
        ASSERT_EQ(out.substr(0, got), a.model.substr(0, got));
        a.model.erase(0, got);
        break;
      }
      case 4: {  // copy_out
        const std::size_t n = uniform(0, a.model.size() + 10);
        std::string out(n, '?');
        const std::size_t got = a.buf.copy_out(out.data(), n);
        ASSERT_EQ(got, std::min(n, a.model.size()));
        ASSERT_EQ(out.substr(0, got), a.model.substr(0, got));
        break;
      }
      case 5: {  // peek
        if (uniform(0, 1) == 0) {
          ASSERT_EQ(concat(a.buf.peek()), a.model);
        } else {
          const std::size_t n = uniform(0, a.model.size() + 10);
          ASSERT_EQ(concat(a.buf.peek(n)), a.model.substr(0, n));
        }
        break;
      }
      case 6: {  // pullup
        const std::size_t n = uniform(0, a.model.size() + 5);
        auto span = a.buf.pullup(n);
        if (n > a.model.size()) {
          ASSERT_FALSE(span.has_value());
        } else {
          ASSERT_TRUE(span.has_value());
          ASSERT_EQ(span->size(), n);
          ASSERT_EQ(std::string_view(reinterpret_cast<const char*>(span->data()), n),
                    std::string_view(a.model).substr(0, n));
          ASSERT_GE(a.buf.contiguous_space(), n);
        }
        break;
      }
      case 7: {  // move_to
        const std::size_t n = uniform(0, a.model.size() + 10);
        const std::size_t moved = a.buf.move_to(b.buf, n);
        ASSERT_EQ(moved, std::min(n, a.model.size()));
        b.model += a.model.substr(0, moved);
        a.model.erase(0, moved);
        break;
      }
      case 8: {  // append_buffer
        a.buf.append_buffer(b.buf);
        a.model += b.model;
        b.model.clear();
        break;
      }
      case 9: {  // search
        std::string needle;
        if (!a.model.empty() && uniform(0, 3) != 0) {
          const std::size_t at = uniform(0, a.model.size() - 1);
          needle = a.model.substr(at, uniform(1, 8));
        } else {
          needle = random_bytes(uniform(1, 4));
        }
        const std::size_t from = uniform(0, a.model.size() + 2);
        const std::size_t want = from > a.model.size() ? std::string::npos : a.model.find(needle, from);
        const auto got = a.buf.search(needle, from);
        if (want == std::string::npos) {
          ASSERT_FALSE(got.has_value()) << "step " << step;
        } else {
          ASSERT_EQ(got, want) << "step " << step;
        }
        break;
      }
      case 10: {  // readln
        const auto style = static_cast<EolStyle>(uniform(0, 4));
        const auto want = model_readln(a.model, style);
        const auto got = a.buf.readln(style);
        ASSERT_EQ(got, want) << "step " << step << " style " << static_cast<int>(style);
        break;
      }
      case 11: {  // reserve + commit
        const std::size_t n = uniform(0, 5000);
        auto spans = a.buf.reserve(n);
        std::size_t room = 0;
        for (auto s : spans) room += s.size();
        ASSERT_GE(room, n);
        const std::size_t fill = uniform(0, std::min(room, n + 100));
        const std::string s = random_bytes(fill);
        std::size_t done = 0;
        for (auto span : spans) {
          const std::size_t k = std::min(span.size(), fill - done);
          std::memcpy(span.data(), s.data() + done, k);
          done += k;
        }
        a.buf.commit(fill);
        a.model += s;
        break;
      }
      case 12: {  // add_reference
        const int id = next_ref++;
        auto mem = std::make_unique<std::string>(random_bytes(uniform(1, 2000)));
        const std::string copy = *mem;
        const char* data = mem->data();
        live[id] = std::move(mem);
        a.buf.add_reference(data, copy.size(), [&live, &releases, id](const void* d, std::size_t len) {
          ++releases[id];
          ASSERT_EQ(d, live.at(id)->data());
          ASSERT_EQ(len, live.at(id)->size());
          live.erase(id);  // the memory is gone now: ASan flags any later read
        });
        a.model += copy;
        break;
      }
      case 13: {  // string_view append of a slice of the other side's content
        const std::string s = b.model.substr(0, uniform(0, 100));
        a.buf.append(std::string_view(s));
        a.model += s;
        break;
      }
    }
    for (Modeled& m : sides) {
      ASSERT_EQ(m.buf.length(), m.model.size()) << "step " << step << " op " << op;
      ASSERT_EQ(m.tracked, m.model.size()) << "step " << step << " op " << op;
      if (m.model.empty()) {
        ASSERT_EQ(m.buf.block_count(), 0u) << "step " << step << " op " << op;
      }
      // Keep the buffers small enough for full comparisons.
      if (m.model.size() > 200000) {
        m.buf.drain(150000);
        m.model.erase(0, 150000);
      }
    }
    if (step % 64 == 0) {
      ASSERT_EQ(a.buf.to_string(), a.model) << "step " << step << " op " << op;
      ASSERT_EQ(b.buf.to_string(), b.model) << "step " << step << " op " << op;
    }
  }
  for (int count : ops_seen) EXPECT_GT(count, 1000);
  for (Modeled& m : sides) m.buf = Buffer();  // destroys every remaining block
  EXPECT_TRUE(live.empty());
  EXPECT_EQ(releases.size(), static_cast<std::size_t>(next_ref));
  for (const auto& [id, count] : releases) EXPECT_EQ(count, 1) << "reference " << id;
}

}  // namespace
}  // namespace reactor
