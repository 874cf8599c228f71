// struct evbuffer on reactor::Buffer: adding, removing, moving, searching, lines,
// reserve/commit, fd I/O and length callbacks.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "compat_internal.h"

namespace {

// libevent reads at most this much per evbuffer_read (EVBUFFER_MAX_READ).
constexpr int kMaxRead = 4096;

reactor::Buffer& B(struct evbuffer* b) { return *b->buf; }
const reactor::Buffer& B(const struct evbuffer* b) { return *b->buf; }

// The reactor buffer calls one function on every length change; it runs the C callbacks.
void install_length_hook(struct evbuffer* buf) {
  buf->buf->set_length_callback([buf](std::size_t orig, std::size_t added, std::size_t deleted) {
    evbuffer_cb_info info{orig, added, deleted};
    // A callback may remove entries: walk a copy of the current list.
    std::vector<evbuffer_cb_entry*> now;
    for (auto& e : buf->cbs) now.push_back(e.get());
    for (evbuffer_cb_entry* e : now) {
      bool still = std::any_of(buf->cbs.begin(), buf->cbs.end(), [e](const auto& p) { return p.get() == e; });
      if (still && (e->flags & EVBUFFER_CB_ENABLED) != 0) e->cb(buf, &info, e->arg);
    }
  });
}

std::string contents_from(const reactor::Buffer& b, std::size_t from) {
  std::string all(b.length(), '\0');
  b.copy_out(all.data(), all.size());
  return all.substr(std::min(from, all.size()));
}

evbuffer_ptr make_ptr(ev_ssize_t pos) {
  evbuffer_ptr p{};
  p.pos = pos;
  return p;
}

// Where the end of line starting at or after `from` is, and how long it is.
std::optional<std::pair<std::size_t, std::size_t>> find_eol(const std::string& s, std::size_t from,
                                                            evbuffer_eol_style style) {
  switch (style) {
    case EVBUFFER_EOL_ANY: {
      const std::size_t i = s.find_first_of("\r\n", from);
      if (i == std::string::npos) return std::nullopt;
      std::size_t j = i;
      while (j < s.size() && (s[j] == '\r' || s[j] == '\n')) ++j;
      return std::make_pair(i, j - i);
    }
    case EVBUFFER_EOL_CRLF: {
      const std::size_t i = s.find('\n', from);
      if (i == std::string::npos) return std::nullopt;
      if (i > from && s[i - 1] == '\r') return std::make_pair(i - 1, std::size_t{2});
      return std::make_pair(i, std::size_t{1});
    }
    case EVBUFFER_EOL_CRLF_STRICT: {
      const std::size_t i = s.find("\r\n", from);
      if (i == std::string::npos) return std::nullopt;
      return std::make_pair(i, std::size_t{2});
    }
    case EVBUFFER_EOL_LF: {
      const std::size_t i = s.find('\n', from);
      if (i == std::string::npos) return std::nullopt;
      return std::make_pair(i, std::size_t{1});
    }
    case EVBUFFER_EOL_NUL: {
      const std::size_t i = s.find('\0', from);
      if (i == std::string::npos) return std::nullopt;
      return std::make_pair(i, std::size_t{1});
    }
  }
  return std::nullopt;
}

}  // namespace

extern "C" {

struct evbuffer* evbuffer_new(void) {
  auto* b = new (std::nothrow) evbuffer;
  if (b == nullptr) return nullptr;
  b->owned = std::make_unique<reactor::Buffer>();
  b->buf = b->owned.get();
  return b;
}

void evbuffer_free(struct evbuffer* buf) {
  if (buf == nullptr || !buf->owned) return;  // a bufferevent's buffers go with it
  delete buf;
}

size_t evbuffer_get_length(const struct evbuffer* buf) { return B(buf).length(); }
size_t evbuffer_get_contiguous_space(const struct evbuffer* buf) { return B(buf).contiguous_space(); }
int evbuffer_expand(struct evbuffer*, size_t) { return 0; }

int evbuffer_add(struct evbuffer* buf, const void* data, size_t datlen) {
  if (datlen > 0) {
    B(buf).append(data, datlen);
    buf->added();
  }
  return 0;
}

int evbuffer_prepend(struct evbuffer* buf, const void* data, size_t size) {
  if (size > 0) {
    B(buf).prepend(data, size);
    buf->added();
  }
  return 0;
}

int evbuffer_add_vprintf(struct evbuffer* buf, const char* fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  char small[512];
  const int n = std::vsnprintf(small, sizeof small, fmt, copy);
  va_end(copy);
  if (n < 0) return -1;
  if (static_cast<std::size_t>(n) < sizeof small) {
    B(buf).append(small, static_cast<std::size_t>(n));
    buf->added();
    return n;
  }
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  B(buf).append(big.data(), static_cast<std::size_t>(n));
  buf->added();
  return n;
}

int evbuffer_add_printf(struct evbuffer* buf, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = evbuffer_add_vprintf(buf, fmt, ap);
  va_end(ap);
  return n;
}

int evbuffer_add_buffer(struct evbuffer* outbuf, struct evbuffer* inbuf) {
  if (outbuf->buf == inbuf->buf) return 0;  // libevent: nothing to do, success
  B(outbuf).append_buffer(B(inbuf));
  outbuf->added();
  return 0;
}

int evbuffer_prepend_buffer(struct evbuffer* dst, struct evbuffer* src) {
  if (dst->buf == src->buf || B(src).empty()) return 0;
  // src + dst, then swap the chains: blocks are relinked, not copied.
  reactor::Buffer joined;
  joined.append_buffer(B(src));
  joined.append_buffer(B(dst));
  B(dst).append_buffer(joined);
  dst->added();
  return 0;
}

int evbuffer_remove_buffer(struct evbuffer* src, struct evbuffer* dst, size_t datlen) {
  if (src->buf == dst->buf) return 0;
  const auto moved = static_cast<int>(B(src).move_to(B(dst), datlen));
  dst->added();
  return moved;
}

int evbuffer_add_reference(struct evbuffer* outbuf, const void* data, size_t datlen,
                           evbuffer_ref_cleanup_cb cleanupfn, void* cleanupfn_arg) {
  B(outbuf).add_reference(data, datlen, [cleanupfn, cleanupfn_arg](const void* d, std::size_t n) {
    if (cleanupfn != nullptr) cleanupfn(d, n, cleanupfn_arg);
  });
  outbuf->added();
  return 0;
}

int evbuffer_remove(struct evbuffer* buf, void* data, size_t datlen) {
  return static_cast<int>(B(buf).remove(data, datlen));
}

ev_ssize_t evbuffer_copyout(struct evbuffer* buf, void* data_out, size_t datlen) {
  return static_cast<ev_ssize_t>(B(buf).copy_out(data_out, datlen));
}

ev_ssize_t evbuffer_copyout_from(struct evbuffer* buf, const struct evbuffer_ptr* pos, void* data_out,
                                 size_t datlen) {
  const std::size_t from = pos != nullptr ? static_cast<std::size_t>(pos->pos) : 0;
  if (pos != nullptr && pos->pos < 0) return -1;
  const std::string rest = contents_from(B(buf), from);
  const std::size_t n = std::min(datlen, rest.size());
  std::memcpy(data_out, rest.data(), n);
  return static_cast<ev_ssize_t>(n);
}

int evbuffer_drain(struct evbuffer* buf, size_t len) {
  B(buf).drain(len);
  return 0;
}

unsigned char* evbuffer_pullup(struct evbuffer* buf, ev_ssize_t size) {
  const std::size_t n = size < 0 ? B(buf).length() : static_cast<std::size_t>(size);
  if (n == 0 || n > B(buf).length()) return nullptr;
  auto span = B(buf).pullup(n);
  if (!span) return nullptr;
  return reinterpret_cast<unsigned char*>(const_cast<std::byte*>(span->data()));
}

char* evbuffer_readln(struct evbuffer* buffer, size_t* n_read_out, enum evbuffer_eol_style style) {
  const std::string all = contents_from(B(buffer), 0);
  auto eol = find_eol(all, 0, style);
  if (!eol) {
    if (n_read_out != nullptr) *n_read_out = 0;
    return nullptr;
  }
  const std::size_t len = eol->first;
  char* line = static_cast<char*>(std::malloc(len + 1));
  if (line == nullptr) return nullptr;
  B(buffer).remove(line, len);
  line[len] = '\0';
  B(buffer).drain(eol->second);
  if (n_read_out != nullptr) *n_read_out = len;
  return line;
}

int evbuffer_ptr_set(struct evbuffer* buffer, struct evbuffer_ptr* ptr, size_t position,
                     enum evbuffer_ptr_how how) {
  std::size_t pos;
  if (how == EVBUFFER_PTR_SET) {
    pos = position;
  } else {
    if (ptr->pos < 0) return -1;
    pos = static_cast<std::size_t>(ptr->pos) + position;
  }
  if (pos > B(buffer).length()) {
    ptr->pos = -1;
    return -1;
  }
  ptr->pos = static_cast<ev_ssize_t>(pos);
  ptr->internal_.chain = nullptr;
  ptr->internal_.pos_in_chain = 0;
  return 0;
}

struct evbuffer_ptr evbuffer_search_range(struct evbuffer* buffer, const char* what, size_t len,
                                          const struct evbuffer_ptr* start, const struct evbuffer_ptr* end) {
  std::size_t from = 0;
  if (start != nullptr) {
    if (start->pos < 0) return make_ptr(-1);
    from = static_cast<std::size_t>(start->pos);
  }
  auto found = B(buffer).search(std::string_view(what, len), from);
  if (!found) return make_ptr(-1);
  if (end != nullptr && *found + len > static_cast<std::size_t>(end->pos)) return make_ptr(-1);
  return make_ptr(static_cast<ev_ssize_t>(*found));
}

struct evbuffer_ptr evbuffer_search(struct evbuffer* buffer, const char* what, size_t len,
                                    const struct evbuffer_ptr* start) {
  return evbuffer_search_range(buffer, what, len, start, nullptr);
}

struct evbuffer_ptr evbuffer_search_eol(struct evbuffer* buffer, struct evbuffer_ptr* start,
                                        size_t* eol_len_out, enum evbuffer_eol_style style) {
  std::size_t from = 0;
  if (start != nullptr) {
    if (start->pos < 0) return make_ptr(-1);
    from = static_cast<std::size_t>(start->pos);
  }
  const std::string all = contents_from(B(buffer), 0);
  auto eol = find_eol(all, std::min(from, all.size()), style);
  if (!eol) {
    if (eol_len_out != nullptr) *eol_len_out = 0;
    return make_ptr(-1);
  }
  if (eol_len_out != nullptr) *eol_len_out = eol->second;
  return make_ptr(static_cast<ev_ssize_t>(eol->first));
}

int evbuffer_peek(struct evbuffer* buffer, ev_ssize_t len, struct evbuffer_ptr* start_at,
                  struct evbuffer_iovec* vec_out, int n_vec) {
  std::size_t skip = 0;
  if (start_at != nullptr) {
    if (start_at->pos < 0) return 0;
    skip = static_cast<std::size_t>(start_at->pos);
  }
  const std::size_t total = B(buffer).length();
  if (skip >= total) return 0;
  std::size_t want = len < 0 ? total - skip : std::min(static_cast<std::size_t>(len), total - skip);
  if (want == 0 && len >= 0) return 0;
  int used = 0;
  for (auto span : B(buffer).peek()) {
    if (want == 0) break;
    if (skip >= span.size()) {
      skip -= span.size();
      continue;
    }
    const std::byte* p = span.data() + skip;
    const std::size_t n = span.size() - skip;
    skip = 0;
    if (used < n_vec && vec_out != nullptr) {
      vec_out[used].iov_base = const_cast<std::byte*>(p);
      vec_out[used].iov_len = n;  // libevent gives whole extents, even past len
    }
    ++used;
    want -= std::min(want, n);
  }
  return used;
}

int evbuffer_reserve_space(struct evbuffer* buf, ev_ssize_t size, struct evbuffer_iovec* vec, int n_vec) {
  if (n_vec < 1 || size < 0) return -1;
  buf->scratch_reserved = false;
  auto spans = B(buf).reserve(static_cast<std::size_t>(size));
  if (spans.size() <= static_cast<std::size_t>(n_vec)) {
    for (std::size_t i = 0; i < spans.size(); ++i) {
      vec[i].iov_base = spans[i].data();
      vec[i].iov_len = spans[i].size();
    }
    return static_cast<int>(spans.size());
  }
  // One vector asked, two spans given: a contiguous scratch area, appended at commit.
  buf->scratch.resize(static_cast<std::size_t>(size));
  buf->scratch_reserved = true;
  vec[0].iov_base = buf->scratch.data();
  vec[0].iov_len = buf->scratch.size();
  return 1;
}

int evbuffer_commit_space(struct evbuffer* buf, struct evbuffer_iovec* vec, int n_vecs) {
  if (n_vecs < 0) return -1;
  if (buf->scratch_reserved) {
    buf->scratch_reserved = false;
    if (n_vecs == 0) return 0;
    if (n_vecs != 1 || vec[0].iov_base != buf->scratch.data() || vec[0].iov_len > buf->scratch.size()) {
      return -1;
    }
    B(buf).append(buf->scratch.data(), vec[0].iov_len);
    buf->added();
    return 0;
  }
  std::size_t total = 0;
  for (int i = 0; i < n_vecs; ++i) total += vec[i].iov_len;
  B(buf).commit(total);
  buf->added();
  return 0;
}

int evbuffer_write_atmost(struct evbuffer* buffer, evutil_socket_t fd, ev_ssize_t howmuch) {
  std::optional<std::size_t> max;
  if (howmuch >= 0) max = static_cast<std::size_t>(howmuch);
  return static_cast<int>(B(buffer).write_to(fd, max));
}

int evbuffer_write(struct evbuffer* buffer, evutil_socket_t fd) {
  return evbuffer_write_atmost(buffer, fd, -1);
}

int evbuffer_read(struct evbuffer* buffer, evutil_socket_t fd, int howmuch) {
  const int n = howmuch < 0 || howmuch > kMaxRead ? kMaxRead : howmuch;
  if (n == 0) return 0;
  return static_cast<int>(B(buffer).read_from(fd, static_cast<std::size_t>(n)));
}

struct evbuffer_cb_entry* evbuffer_add_cb(struct evbuffer* buffer, evbuffer_cb_func cb, void* cbarg) {
  if (buffer->cbs.empty()) install_length_hook(buffer);
  // libevent runs the newest callback first.
  buffer->cbs.insert(buffer->cbs.begin(),
                     std::make_unique<evbuffer_cb_entry>(evbuffer_cb_entry{cb, cbarg, EVBUFFER_CB_ENABLED}));
  return buffer->cbs.front().get();
}

int evbuffer_remove_cb_entry(struct evbuffer* buffer, struct evbuffer_cb_entry* ent) {
  auto it =
      std::find_if(buffer->cbs.begin(), buffer->cbs.end(), [ent](const auto& p) { return p.get() == ent; });
  if (it == buffer->cbs.end()) return -1;
  // The length hook re-checks membership before each call, so removing an entry (even the
  // running one) from a callback is safe.
  buffer->cbs.erase(it);
  return 0;
}

int evbuffer_remove_cb(struct evbuffer* buffer, evbuffer_cb_func cb, void* cbarg) {
  for (auto& e : buffer->cbs) {
    if (e->cb == cb && e->arg == cbarg) return evbuffer_remove_cb_entry(buffer, e.get());
  }
  return -1;
}

int evbuffer_cb_set_flags(struct evbuffer*, struct evbuffer_cb_entry* cb, ev_uint32_t flags) {
  cb->flags |= (flags & EVBUFFER_CB_ENABLED);
  return 0;
}

int evbuffer_cb_clear_flags(struct evbuffer*, struct evbuffer_cb_entry* cb, ev_uint32_t flags) {
  cb->flags &= ~(flags & EVBUFFER_CB_ENABLED);
  return 0;
}

}  // extern "C"
