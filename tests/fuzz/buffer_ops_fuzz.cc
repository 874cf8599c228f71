// Fuzz target: sequences of Buffer (evbuffer) operations on two buffers, each checked against
// a std::string model after every step: append / prepend / add_reference, drain / remove /
// copy_out, readln in every EOL style, search, peek, pullup, reserve + commit, append_buffer
// and move_to between the two. Big appends make chains of several blocks, so splits, shared
// views and the small-block copies are all reached. Memory added by reference is freed by its
// release callback (AddressSanitizer sees a read after release); each must be released once.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "buffer_model.h"
#include "fuzz_support.h"
#include "reactor/buffer.h"

namespace reactord::fuzz {
namespace {

struct Modeled {
  reactor::Buffer buf;
  std::string model;
  std::size_t tracked = 0;  // the length as told by the length callback
};

// Data for an append: a few literal bytes, or (rarely) one byte repeated up to 96 KiB, which
// spans blocks.
std::string payload(ByteReader& in) {
  std::uint8_t kind = in.u8();
  if (kind % 8 == 7) {
    std::size_t n = (static_cast<std::size_t>(in.u16()) % (96 * 1024)) + 1;
    return std::string(n, static_cast<char>(in.u8()));
  }
  return in.bytes(64);
}

void check(const Modeled& m) {
  FUZZ_CHECK(m.buf.length() == m.model.size());
  FUZZ_CHECK(m.tracked == m.model.size());
  FUZZ_CHECK(m.buf.empty() == m.model.empty());
  FUZZ_CHECK(m.model.empty() ? m.buf.block_count() == 0 : m.buf.block_count() > 0);
  FUZZ_CHECK(m.buf.contiguous_space() <= m.model.size());
}

}  // namespace
}  // namespace reactord::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reactord::fuzz;
  ByteReader in(data, size);
  auto released = std::make_shared<std::size_t>(0);
  std::size_t referenced = 0;
  {
    Modeled bufs[2];
    for (auto& m : bufs) {
      m.buf.set_length_callback([&m](std::size_t orig, std::size_t added, std::size_t deleted) {
        FUZZ_CHECK(orig == m.tracked);
        FUZZ_CHECK(deleted <= orig + added);
        m.tracked = orig + added - deleted;
      });
    }
    for (int step = 0; step < 256 && !in.done(); ++step) {
      const std::uint8_t op = in.u8();
      Modeled& a = bufs[op & 1];
      Modeled& b = bufs[(op & 1) ^ 1];
      switch ((op >> 1) % 16) {
        case 0: {
          std::string s = payload(in);
          a.buf.append(s);
          a.model += s;
          break;
        }
        case 1: {
          std::string s = payload(in);
          a.buf.prepend(s);
          a.model.insert(0, s);
          break;
        }
        case 2: {
          // Heap memory handed over by reference; freed when the last buffer lets it go.
          std::string s = in.bytes(200);
          if (s.empty()) break;
          char* mem = new char[s.size()];
          std::memcpy(mem, s.data(), s.size());
          ++referenced;
          a.buf.add_reference(mem, s.size(), [mem, released](const void* p, std::size_t) {
            FUZZ_CHECK(p == mem);
            ++*released;
            delete[] mem;
          });
          a.model += s;
          break;
        }
        case 3: {
          std::size_t n = in.u16();
          std::size_t got = a.buf.drain(n);
          FUZZ_CHECK(got == std::min(n, a.model.size()));
          a.model.erase(0, got);
          break;
        }
        case 4: {
          std::size_t n = in.u16() % 8192;
          std::string out(n, '\0');
          std::size_t got = a.buf.remove(out.data(), n);
          FUZZ_CHECK(got == std::min(n, a.model.size()));
          FUZZ_CHECK(out.compare(0, got, a.model, 0, got) == 0);
          a.model.erase(0, got);
          break;
        }
        case 5: {
          std::size_t n = in.u16() % 8192;
          std::string out(n, '\0');
          std::size_t got = a.buf.copy_out(out.data(), n);
          FUZZ_CHECK(got == std::min(n, a.model.size()));
          FUZZ_CHECK(out.compare(0, got, a.model, 0, got) == 0);
          break;
        }
        case 6: {
          auto style = eol_style(in.u8());
          auto line = a.buf.readln(style);
          auto expect = model_readln(a.model, style);
          FUZZ_CHECK(line.has_value() == expect.has_value());
          if (line) FUZZ_CHECK(*line == *expect);
          break;
        }
        case 7: {
          std::string needle = in.bytes(8);
          std::size_t from = in.u16();
          if (from > a.model.size() + 2) from %= a.model.size() + 3;
          FUZZ_CHECK(a.buf.search(needle, from) == model_search(a.model, needle, from));
          break;
        }
        case 8: {
          std::uint16_t n = in.u16();
          auto spans = (n & 1) ? a.buf.peek() : a.buf.peek(n >> 1);
          std::size_t want = (n & 1) ? a.model.size() : std::min<std::size_t>(n >> 1, a.model.size());
          for (auto span : spans) FUZZ_CHECK(!span.empty());
          FUZZ_CHECK(concat(spans) == a.model.substr(0, want));
          break;
        }
        case 9: {
          std::size_t n = in.u16() % (a.model.size() + 2);
          auto span = a.buf.pullup(n);
          FUZZ_CHECK(span.has_value() == (n <= a.model.size()));
          if (span) {
            FUZZ_CHECK(span->size() == n);
            FUZZ_CHECK(std::string_view(reinterpret_cast<const char*>(span->data()), n) ==
                       std::string_view(a.model).substr(0, n));
          }
          break;
        }
        case 10: {
          std::string s = in.bytes(100);
          std::size_t want = s.size() + in.u8();
          auto spans = a.buf.reserve(want);
          std::size_t room = 0;
          for (auto span : spans) room += span.size();
          FUZZ_CHECK(room >= want);
          FUZZ_CHECK(spans.size() <= 2);
          std::size_t done = 0;
          for (auto span : spans) {
            std::size_t n = std::min(span.size(), s.size() - done);
            std::memcpy(span.data(), s.data() + done, n);
            done += n;
          }
          a.buf.commit(s.size());
          a.model += s;
          break;
        }
        case 11:
          a.buf.append_buffer(b.buf);
          a.model += b.model;
          b.model.clear();
          break;
        case 12: {
          std::size_t n = in.u16();
          std::size_t got = a.buf.move_to(b.buf, n);
          FUZZ_CHECK(got == std::min(n, a.model.size()));
          b.model += a.model.substr(0, got);
          a.model.erase(0, got);
          break;
        }
        case 13:
          FUZZ_CHECK(a.buf.to_string() == a.model);
          break;
        case 14: {
          // Moving the whole Buffer carries its blocks and its callback along.
          reactor::Buffer moved(std::move(a.buf));
          a.buf = std::move(moved);
          break;
        }
        default: {
          // A line-oriented burst: several lines in mixed EOL styles.
          std::string s = in.bytes(32) + "\r\n" + in.bytes(8) + "\n" + in.bytes(8) + '\0';
          a.buf.append(s);
          a.model += s;
          break;
        }
      }
      check(bufs[0]);
      check(bufs[1]);
    }
    FUZZ_CHECK(bufs[0].buf.to_string() == bufs[0].model);
    FUZZ_CHECK(bufs[1].buf.to_string() == bufs[1].model);
  }
  FUZZ_CHECK(*released == referenced);
  return 0;
}
