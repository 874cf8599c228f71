// What every fuzz target shares: the libFuzzer entry point's declaration, a check that
// aborts with a message (libFuzzer records the input as a crash; the replay executable
// fails its CTest test), and a reader that turns the fuzzer's bytes into operations.
//
// The same target source links two ways (tests/fuzz/CMakeLists.txt): with clang and
// -fsanitize=fuzzer in the asan and fuzz presets, and in every preset as a plain replay
// executable (replay_main.cc), which runs the committed corpus and regressions once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace reactord::fuzz {

// Consumes the input front to back; past the end every read gives zeros / empty strings,
// so a target never reads out of bounds and every input means something.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool done() const { return pos_ >= size_; }
  std::size_t left() const { return done() ? 0 : size_ - pos_; }
  std::uint8_t u8() { return done() ? 0 : data_[pos_++]; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint32_t u32() {
    return static_cast<std::uint32_t>(u16()) | (static_cast<std::uint32_t>(u16()) << 16);
  }
  std::uint64_t u64() {
    return static_cast<std::uint64_t>(u32()) | (static_cast<std::uint64_t>(u32()) << 32);
  }
  // Up to max bytes (the length is the next byte, modulo max + 1).
  std::string bytes(std::size_t max) {
    std::size_t n = max == 0 ? 0 : u8() % (max + 1);
    if (n > left()) n = left();
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  // The rest of the input.
  std::string_view rest() {
    std::string_view out(reinterpret_cast<const char*>(data_ + pos_), left());
    pos_ = size_;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace reactord::fuzz
