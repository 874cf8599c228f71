// TlsBufferEvent: libevent's bufferevent_openssl_filter_new. A filtering BufferEvent that
// speaks TLS (OpenSSL 3) over an underlying BufferEvent: ciphertext moves through the
// underlying's input and output Buffers (a BIO of ours over them — a memory BIO without the
// extra copy), so it works over any transport the underlying has, a TCP socket or a socketpair.
// Library reactor_tls: the rest of the reactor links nothing but libc.
//
// The plaintext side keeps BufferEvent's meaning:
// - write() encrypts at once and the underlying sends at once (write-at-once); plaintext
//   waits in output() while the underlying holds kTlsCipherBacklog bytes of ciphertext, so a
//   peer that does not read makes output() grow (backpressure stays visible there).
// - read watermarks apply to the plaintext input; past the high watermark decryption stops,
//   ciphertext waits in the underlying, whose own high watermark then stops socket reads.
// - set_timeouts(read, write) are the underlying's: no bytes arriving / no progress sending.
// - callbacks run only from event handlers, never from inside an API call.
// Events: kBevConnected once the handshake is done; kBevEof when the peer's close_notify (or,
// without it, the transport's EOF) arrives after the plaintext before it was delivered;
// kBevError with the OpenSSL reason (or strerror) as `reason`; kBevTimeout|kBevError
// (ETIMEDOUT) when the handshake timeout passes.
//
// Thread rule: loop thread only, for every method. Destroy it outside its own callbacks
// (EventBase::defer_delete).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "reactor/buffer.h"
#include "reactor/buffer_event.h"
#include "reactor/buffer_event_front.h"
#include "reactor/clock.h"
#include "reactor/event_flags.h"

typedef struct ssl_st SSL;  // NOLINT: OpenSSL's own typedef, so this header needs no OpenSSL

namespace reactor {

// BUFFEREVENT_SSL_CONNECTING / BUFFEREVENT_SSL_ACCEPTING.
enum class TlsRole { kConnecting, kAccepting };

// Ciphertext the underlying may hold before plaintext waits in output() instead.
inline constexpr std::size_t kTlsCipherBacklog = 64 * 1024;

// What an operator wants to know about a session (empty strings before the handshake).
struct TlsInfo {
  std::string version;       // "TLSv1.3"
  std::string cipher;        // "TLS_AES_256_GCM_SHA384"
  std::string sni;           // server name the client asked for (accepting side), or sent
  std::string peer_subject;  // peer certificate subject (RFC 2253), empty without one
  std::string alpn;          // the protocol ALPN selected (SSL_get0_alpn_selected), empty if none
  bool ktls_send = false;    // kernel TLS offload: never with a filter (our BIO is no socket)
  bool ktls_recv = false;
};

// The bufferevent calls it shares with BufferEvent are its BufferEventFront's
// (buffer_event_front.h), on the plaintext side: enable / disable; write / write_buffer
// encrypt now (once the handshake is done; queued before); input() / output() are the
// plaintext buffers (after appending to output() directly, call flush_output()); the
// watermarks apply to the plaintext (see BufferEvent and the top of this file).
class TlsBufferEvent : public BufferEventFront<TlsBufferEvent> {
 public:
  using DataCallback = std::function<void(TlsBufferEvent&)>;
  // what: kBevConnected / kBevEof / kBevError / kBevTimeout (with kBevReading / kBevWriting);
  // error: an errno (EPROTO for a TLS failure, ETIMEDOUT for the handshake timeout);
  // reason: OpenSSL's reason string ("wrong version number") or strerror.
  using EventCallback =
      std::function<void(TlsBufferEvent&, BevFlags what, int error, std::string_view reason)>;

  // bufferevent_openssl_filter_new(base, underlying, ssl, state, BEV_OPT_CLOSE_ON_FREE): takes
  // `ssl` (freed with this object) and the underlying. The handshake starts at once (a client
  // hello is queued even while the underlying still connects). Loop thread only.
  TlsBufferEvent(std::unique_ptr<BufferEvent> underlying, SSL* ssl, TlsRole role);
  // The same over a borrowed underlying, which must outlive this object (its callbacks are
  // taken over, and removed again on destruction). Loop thread only.
  TlsBufferEvent(BufferEvent& underlying, SSL* ssl, TlsRole role);
  ~TlsBufferEvent();
  TlsBufferEvent(const TlsBufferEvent&) = delete;
  TlsBufferEvent& operator=(const TlsBufferEvent&) = delete;

  // bufferevent_setcb. Empty functions remove a callback. Loop thread only.
  void setcb(DataCallback read_cb, DataCallback write_cb, EventCallback event_cb);
  // Read / write timeouts (the underlying's, reported through this object). Loop thread only.
  void set_timeouts(std::optional<Duration> read, std::optional<Duration> write);
  // The handshake must finish within `limit` of now (or of construction if set at once);
  // kBevTimeout|kBevError, ETIMEDOUT otherwise. Loop thread only.
  void set_handshake_timeout(Duration limit);

  // Graceful close: encrypt what is left, send close_notify (SSL_shutdown), then close the
  // underlying gracefully (FIN, wait for the peer's EOF within its linger). We do not wait for
  // the peer's close_notify (RFC 8446 6.1 allows it). `done(clean)` as BufferEvent's. Before
  // the handshake finished, or after a TLS error, no close_notify is sent. Loop thread only.
  void close_gracefully(Duration deadline, std::function<void(bool clean)> done = {});
  // Half-close, as shutdown(SHUT_WR) on a socket: close_notify goes out after what output()
  // holds; writes are ignored from then on, reading goes on until the peer's close_notify
  // (kBevEof). Loop thread only.
  void shutdown_write();
  // Abortive close: the underlying is reset, no close_notify. Loop thread only.
  void close_abortively();
  bool closed() const;

  bool handshake_done() const;
  // Time from construction to the end of the handshake (zero before). Loop thread only.
  Duration handshake_duration() const;
  // Version, cipher, SNI, peer subject, ALPN, kTLS. Loop thread only.
  TlsInfo info() const;
  // bufferevent_get_openssl_error: the last OpenSSL error code (0 if none) and its reason.
  unsigned long last_error() const;
  const std::string& last_error_reason() const;
  // bufferevent_openssl_get_ssl / bufferevent_get_underlying. Loop thread only.
  SSL* ssl() const;
  BufferEvent& underlying();
  const BufferEvent& underlying() const;
  // Plaintext bytes delivered to input() / taken from output() and encrypted.
  std::uint64_t plaintext_read() const;
  std::uint64_t plaintext_written() const;

 private:
  friend class BufferEventFront<TlsBufferEvent>;  // its definitions use impl_

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One pointer, as before the front (an empty base).
static_assert(sizeof(TlsBufferEvent) == sizeof(void*));

// Defined in tls_buffer_event.cc (src/buffer_event_front_impl.h).
extern template class BufferEventFront<TlsBufferEvent>;

}  // namespace reactor
