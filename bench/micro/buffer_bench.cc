// Buffer benchmarks: our Buffer vs libevent's evbuffer, one operation per item.
//   append/N      evbuffer_add of N bytes (the buffer is emptied every 1 MiB)
//   drain/N       evbuffer_drain of N bytes from a full buffer (refilled untimed)
//   add_buffer/N  the echo step: N bytes in, evbuffer_add_buffer(out, in), out drained
//   move_to/N     evbuffer_remove_buffer of N bytes from a 1 MiB buffer (refilled untimed)
//   readln/crlf   evbuffer_readln(EVBUFFER_EOL_CRLF) over HTTP-like header lines
//   read/N        N bytes written to a socket, read with evbuffer_read (readv) until all in
//   write/N       N bytes in 16 appends, then evbuffer_write (writev) until the buffer is empty
//   length_cb/N   evbuffer_add_cb's price: N bytes appended and drained on a buffer with a
//                 length callback (two calls per item); /threads:2 runs it on two threads at
//                 once, each with its own buffer, as two loops each with their own TLS
//                 connections do (ours keeps the callbacks outside the 16-byte Buffer)
// The peer side of read/write uses plain read()/write(), the same for both.
#include <event2/buffer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "reactor/buffer.h"

namespace {

constexpr std::size_t kMiB = 1 << 20;

class OursBuf {
 public:
  void count_changes(std::size_t* calls) {
    b_.set_length_callback([calls](std::size_t, std::size_t, std::size_t) { ++*calls; });
  }
  void append(const void* p, std::size_t n) { b_.append(p, n); }
  void drain(std::size_t n) { b_.drain(n); }
  std::size_t length() const { return b_.length(); }
  void add_buffer(OursBuf& from) { b_.append_buffer(from.b_); }
  void move_to(OursBuf& dst, std::size_t n) { b_.move_to(dst.b_, n); }
  bool readln() { return b_.readln(reactor::EolStyle::kCrlf).has_value(); }
  ssize_t read(int fd, std::size_t max) { return b_.read_from(fd, max); }
  ssize_t write(int fd) { return b_.write_to(fd); }

 private:
  reactor::Buffer b_;
};

class LibeventBuf {
 public:
  LibeventBuf() : b_(evbuffer_new()) {}
  ~LibeventBuf() { evbuffer_free(b_); }
  LibeventBuf(const LibeventBuf&) = delete;
  LibeventBuf& operator=(const LibeventBuf&) = delete;

  void count_changes(std::size_t* calls) {
    evbuffer_add_cb(
        b_, [](evbuffer*, const evbuffer_cb_info*, void* arg) { ++*static_cast<std::size_t*>(arg); }, calls);
  }
  void append(const void* p, std::size_t n) { evbuffer_add(b_, p, n); }
  void drain(std::size_t n) { evbuffer_drain(b_, n); }
  std::size_t length() const { return evbuffer_get_length(b_); }
  void add_buffer(LibeventBuf& from) { evbuffer_add_buffer(b_, from.b_); }
  void move_to(LibeventBuf& dst, std::size_t n) { evbuffer_remove_buffer(b_, dst.b_, n); }
  bool readln() {
    std::size_t len;
    char* line = evbuffer_readln(b_, &len, EVBUFFER_EOL_CRLF);
    if (line == nullptr) return false;
    std::free(line);
    return true;
  }
  ssize_t read(int fd, std::size_t max) { return evbuffer_read(b_, fd, static_cast<int>(max)); }
  ssize_t write(int fd) { return evbuffer_write(b_, fd); }

 private:
  evbuffer* b_;
};

const std::vector<char>& payload() {
  static const std::vector<char> bytes = [] {
    std::vector<char> v(kMiB);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>('a' + i % 26);
    return v;
  }();
  return bytes;
}

template <typename B>
void fill(B& b, std::size_t total, std::size_t chunk) {
  for (std::size_t done = 0; done < total; done += chunk) b.append(payload().data(), chunk);
}

template <typename B>
void BM_Append(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  B b;
  for (auto _ : state) {
    b.append(payload().data(), n);
    if (b.length() >= kMiB) b.drain(b.length());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <typename B>
void BM_Drain(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  B b;
  fill(b, kMiB, 4096);
  for (auto _ : state) {
    if (b.length() < n) {
      state.PauseTiming();
      fill(b, kMiB, 4096);
      state.ResumeTiming();
    }
    b.drain(n);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <typename B>
void BM_AddBuffer(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  B in, out;
  for (auto _ : state) {
    in.append(payload().data(), n);
    out.add_buffer(in);
    if (out.length() >= 64 * 1024) out.drain(out.length());  // the socket took it
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <typename B>
void BM_MoveTo(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  B src, dst;
  fill(src, kMiB, 4096);
  for (auto _ : state) {
    if (src.length() < n) {
      state.PauseTiming();
      fill(src, kMiB, 4096);
      state.ResumeTiming();
    }
    src.move_to(dst, n);
    if (dst.length() >= 64 * 1024) dst.drain(dst.length());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <typename B>
void BM_Readln(benchmark::State& state) {
  // HTTP-like header lines of varied length (20..80 bytes).
  std::string lines;
  constexpr std::size_t kLines = 16384;
  for (std::size_t i = 0; i < kLines; ++i) {
    lines += "X-Header-" + std::to_string(i) + ": " + std::string(10 + i % 60, 'v') + "\r\n";
  }
  B b;
  std::size_t got = 0;
  for (auto _ : state) {
    state.PauseTiming();
    b.append(lines.data(), lines.size());
    state.ResumeTiming();
    while (b.readln()) ++got;
  }
  if (got != kLines * state.iterations()) state.SkipWithError("readln lost lines");
  state.SetItemsProcessed(static_cast<std::int64_t>(got));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(lines.size()));
}

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0) {
      fd[0] = fd[1] = -1;
    }
  }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  bool ok() const { return fd[0] >= 0; }
};

// Bounded: a message needs at most n / 1 reads (libevent reads at most 4 KiB per call).
template <typename B>
void BM_Read(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  SocketPair sp;
  if (!sp.ok()) return state.SkipWithError("socketpair failed");
  B b;
  for (auto _ : state) {
    if (::write(sp.fd[1], payload().data(), n) != static_cast<ssize_t>(n)) {
      return state.SkipWithError("short write");
    }
    for (std::size_t calls = 0; b.length() < n && calls < n; ++calls) {
      if (b.read(sp.fd[0], n) <= 0) return state.SkipWithError("read failed");
    }
    b.drain(n);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <typename B>
void BM_Write(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  SocketPair sp;
  if (!sp.ok()) return state.SkipWithError("socketpair failed");
  std::vector<char> sink(n);
  B b;
  for (auto _ : state) {
    for (int i = 0; i < 16; ++i) b.append(payload().data(), n / 16);
    for (std::size_t calls = 0; b.length() > 0 && calls < n; ++calls) {
      if (b.write(sp.fd[0]) <= 0) return state.SkipWithError("write failed");
    }
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(sp.fd[1], sink.data(), n - got);
      if (r <= 0) return state.SkipWithError("peer read failed");
      got += static_cast<std::size_t>(r);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

template <typename B>
void BM_LengthCallback(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::size_t calls = 0;
  B b;
  b.count_changes(&calls);
  for (auto _ : state) {
    b.append(payload().data(), n);
    b.drain(n);
  }
  if (calls != 2 * static_cast<std::size_t>(state.iterations())) state.SkipWithError("a change was not seen");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

// ours and libevent registered next to each other for every case.
template <template <typename> class Fn>
void register_pair(const char* op, std::initializer_list<std::int64_t> sizes) {
  for (std::int64_t n : sizes) {
    benchmark::RegisterBenchmark((std::string("buffer/ours/") + op).c_str(), Fn<OursBuf>::run)->Arg(n);
    benchmark::RegisterBenchmark((std::string("buffer/libevent/") + op).c_str(), Fn<LibeventBuf>::run)
        ->Arg(n);
  }
}

template <typename B>
struct Append {
  static void run(benchmark::State& s) { BM_Append<B>(s); }
};
template <typename B>
struct Drain {
  static void run(benchmark::State& s) { BM_Drain<B>(s); }
};
template <typename B>
struct AddBuffer {
  static void run(benchmark::State& s) { BM_AddBuffer<B>(s); }
};
template <typename B>
struct MoveTo {
  static void run(benchmark::State& s) { BM_MoveTo<B>(s); }
};
template <typename B>
struct Readln {
  static void run(benchmark::State& s) { BM_Readln<B>(s); }
};
template <typename B>
struct Read {
  static void run(benchmark::State& s) { BM_Read<B>(s); }
};
template <typename B>
struct LengthCallback {
  static void run(benchmark::State& s) { BM_LengthCallback<B>(s); }
};
template <typename B>
struct Write {
  static void run(benchmark::State& s) { BM_Write<B>(s); }
};

const bool kRegistered = [] {
  register_pair<Append>("append", {64, 4096});
  register_pair<Drain>("drain", {64, 4096});
  register_pair<AddBuffer>("add_buffer", {64, 4096});
  register_pair<MoveTo>("move_to", {1000, 4096});
  register_pair<Readln>("readln/crlf", {16384});
  register_pair<Read>("read", {4096, 65536});
  register_pair<Write>("write", {4096, 65536});
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark("buffer/ours/length_cb", LengthCallback<OursBuf>::run)
        ->Arg(64)
        ->Threads(threads);
    benchmark::RegisterBenchmark("buffer/libevent/length_cb", LengthCallback<LibeventBuf>::run)
        ->Arg(64)
        ->Threads(threads);
  }
  return true;
}();

}  // namespace
