// Buffer::search and Buffer::readln (evbuffer_search, evbuffer_readln). Every scan is
// memchr/memmem over whole blocks; only the bytes of a match that crosses a block boundary,
// and the end-of-line run of EolStyle::kAny, are looked at one by one.
#include <string.h>  // memmem (GNU)

#include <algorithm>
#include <cstring>

#include "buffer_block.h"
#include "reactor/buffer.h"

namespace reactor {

using detail::BufferBlock;

namespace {

const char* chars(const BufferBlock* b) { return reinterpret_cast<const char*>(b->data()); }

// Where a scan stopped: absolute position, block and offset in it, and the byte before.
struct Hit {
  std::size_t pos;
  const BufferBlock* block;
  std::size_t offset;
  int prev;  // the byte before pos, or -1 at the very front
};

// First of a or b in [d, d+len). memchr for a runs over windows, and the one for b only up
// to a's hit, so looking for two bytes costs about one pass even when one of them is rare.
const char* find_either(const char* d, std::size_t len, char a, char b) {
  constexpr std::size_t kWindow = 512;
  for (std::size_t start = 0; start < len; start += kWindow) {
    const std::size_t w = std::min(kWindow, len - start);
    const char* pa = static_cast<const char*>(std::memchr(d + start, a, w));
    const std::size_t b_len = pa != nullptr ? static_cast<std::size_t>(pa - (d + start)) : w;
    const char* pb = static_cast<const char*>(std::memchr(d + start, b, b_len));
    if (pb != nullptr) return pb;
    if (pa != nullptr) return pa;
  }
  return nullptr;
}

// First byte equal to a or b, scanning the chain from head to tail.
std::optional<Hit> find_first_of(const BufferBlock* head, const BufferBlock* tail, char a, char b) {
  std::size_t base = 0;
  int prev = -1;
  for (const BufferBlock* blk = head; blk != nullptr; blk = detail::chain_next(blk, tail)) {
    const char* d = chars(blk);
    const char* p =
        a == b ? static_cast<const char*>(std::memchr(d, a, blk->off)) : find_either(d, blk->off, a, b);
    if (p != nullptr) {
      const auto i = static_cast<std::size_t>(p - d);
      if (i > 0) prev = static_cast<unsigned char>(d[i - 1]);
      return Hit{base + i, blk, i, prev};
    }
    if (blk->off > 0) prev = static_cast<unsigned char>(d[blk->off - 1]);
    base += blk->off;
  }
  return std::nullopt;
}

// Does needle start at offset i of blk? The bytes may continue into the following blocks, up
// to tail.
bool matches_at(const BufferBlock* blk, const BufferBlock* tail, std::size_t i, std::string_view needle) {
  while (!needle.empty()) {
    if (blk == nullptr) return false;
    const std::size_t n = std::min(needle.size(), blk->off - i);
    if (std::memcmp(chars(blk) + i, needle.data(), n) != 0) return false;
    needle.remove_prefix(n);
    blk = detail::chain_next(blk, tail);
    i = 0;
  }
  return true;
}

bool is_eol_char(char c) { return c == '\r' || c == '\n'; }

// Length of the run of '\r'/'\n' starting at hit (EVBUFFER_EOL_ANY).
std::size_t eol_run_length(const Hit& hit, const BufferBlock* tail) {
  std::size_t run = 0;
  for (const BufferBlock* blk = hit.block; blk != nullptr; blk = detail::chain_next(blk, tail)) {
    const char* d = chars(blk);
    for (std::size_t i = blk == hit.block ? hit.offset : 0; i < blk->off; ++i) {
      if (!is_eol_char(d[i])) return run;
      ++run;
    }
  }
  return run;
}

}  // namespace

std::optional<std::size_t> Buffer::search(std::string_view needle, std::size_t from) const {
  if (from > length_) return std::nullopt;
  if (needle.empty()) return from;
  const std::size_t m = needle.size();
  if (m > length_ - from) return std::nullopt;

  // Skip to the block holding `from`.
  const BufferBlock* blk = head();
  std::size_t base = 0;
  while (from - base >= blk->off) {  // stops: from < length_ here
    base += blk->off;
    blk = blk->next;
  }
  std::size_t i = from - base;
  for (; blk != nullptr && length_ - (base + i) >= m;
       base += blk->off, blk = detail::chain_next(blk, tail_), i = 0) {
    const char* d = chars(blk);
    const std::size_t end = blk->off;
    // memchr for the first byte, memcmp to confirm: fastest while the first byte is rare
    // (memchr runs at tens of bytes per cycle, memmem at about one). After kMaxMisses false
    // candidates in a block, memmem takes over for the matches inside the block, so repetitive
    // data cannot make the scan quadratic.
    constexpr int kMaxMisses = 16;
    int misses = 0;
    while (i < end) {
      if (misses == kMaxMisses && end - i >= m) {
        const void* p = ::memmem(d + i, end - i, needle.data(), m);
        if (p != nullptr) return base + static_cast<std::size_t>(static_cast<const char*>(p) - d);
        i = end - m + 1;  // only matches crossing into the next block are left
      }
      const char* p = static_cast<const char*>(std::memchr(d + i, needle[0], end - i));
      if (p == nullptr) break;
      const auto k = static_cast<std::size_t>(p - d);
      if (matches_at(blk, tail_, k, needle)) return base + k;
      i = k + 1;
      ++misses;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Buffer::readln(EolStyle style) {
  std::size_t line_len = 0;
  std::size_t eol_len = 0;
  switch (style) {
    case EolStyle::kLf:
    case EolStyle::kNul: {
      const char eol = style == EolStyle::kLf ? '\n' : '\0';
      const auto hit = find_first_of(head(), tail_, eol, eol);
      if (!hit) return std::nullopt;
      line_len = hit->pos;
      eol_len = 1;
      break;
    }
    case EolStyle::kCrlf: {
      const auto hit = find_first_of(head(), tail_, '\n', '\n');
      if (!hit) return std::nullopt;
      const bool cr = hit->prev == '\r';
      line_len = hit->pos - (cr ? 1 : 0);
      eol_len = cr ? 2 : 1;
      break;
    }
    case EolStyle::kCrlfStrict: {
      const auto pos = search("\r\n");
      if (!pos) return std::nullopt;
      line_len = *pos;
      eol_len = 2;
      break;
    }
    case EolStyle::kAny: {
      const auto hit = find_first_of(head(), tail_, '\n', '\r');
      if (!hit) return std::nullopt;
      line_len = hit->pos;
      eol_len = eol_run_length(*hit, tail_);
      break;
    }
  }
  std::string line(line_len, '\0');
  copy_out(line.data(), line_len);
  drain(line_len + eol_len);
  return line;
}

}  // namespace reactor
