// TlsBufferEvent: the OpenSSL filter. One pump moves data both ways:
//
//   underlying input (ciphertext) ──SSL_read──▶ input (plaintext) ──▶ read callback
//   output (plaintext) ──SSL_write──▶ underlying output (ciphertext) ──▶ socket at once
//
// The pump runs from the underlying's callbacks (new ciphertext, ciphertext drained, EOF),
// from the filter's own deferred event (reading resumed, enable(), callbacks owed by API
// calls) and, without user callbacks, from write(). User callbacks run only from handlers: an
// API call that owes one queues it on the deferred event ("tls.deferred").
#include "reactor/tls_buffer_event.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "buffer_event_front_impl.h"
#include "reactor/event.h"
#include "reactor/event_base.h"
#include "tls_bio.h"

namespace reactor {
namespace {

// One TLS record's worth of plaintext per SSL_read / SSL_write.
constexpr std::size_t kRecord = 16 * 1024;

std::string reason_of(unsigned long code) {  // NOLINT(google-runtime-int): OpenSSL's type
  const char* reason = ERR_reason_error_string(code);
  if (reason != nullptr) return reason;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

struct TlsBufferEvent::Impl {
  Impl(TlsBufferEvent& self, BufferEvent& under, SSL* ssl, TlsRole role);
  ~Impl();

  // The pump (see the top of the file). `from_handler`: user callbacks may run inline.
  void pump(bool from_handler);
  bool handshake(bool from_handler);
  bool read_plaintext(bool from_handler);
  void encrypt_output(bool from_handler);
  void maybe_report_eof(bool from_handler);
  void fail(BevFlags what, int ssl_error, bool from_handler);

  // Underlying's callbacks.
  void on_cipher_in();
  void on_cipher_drained();
  void on_transport_event(BevFlags what, int error);

  // Callbacks to the user: inline from handlers, else queued on the deferred event.
  bool user_ok() const { return !closed && !closing && !under->closed(); }
  void call_read(bool from_handler);
  void call_write(bool from_handler);
  void call_event(BevFlags what, int error, std::string reason, bool from_handler);
  void schedule();
  void on_deferred();

  // BufferEventFront's calls (buffer_event_front_impl.h), on the plaintext side.
  void enable(EventFlags what);
  void disable(EventFlags what) { plain_enabled &= ~what; }
  EventFlags enabled() const { return plain_enabled; }
  bool accepts_writes() const { return !closed && !closing && !handed_off && !shutdown_wanted; }
  void flush_output() {
    if (any(plain_enabled & kWrite)) encrypt_output(/*from_handler=*/false);
  }
  void write_buffer(Buffer& data) {
    output.append_buffer(data);
    flush_output();
  }
  void set_read_watermarks(std::size_t low, std::size_t high);
  void set_write_low_watermark(std::size_t low) { write_low = low; }

  // Closing.
  void continue_close();
  void hand_off();

  TlsBufferEvent* self;
  std::unique_ptr<BufferEvent> owned;
  BufferEvent* under;
  SSL* ssl;
  tls::BioBuffers bio_buffers;
  Buffer input;
  Buffer output;
  DataCallback read_cb;
  DataCallback write_cb;
  EventCallback event_cb;
  std::unique_ptr<Event> deferred;
  std::unique_ptr<Event> handshake_timer;
  std::unique_ptr<Event> close_timer;
  std::function<void(bool)> close_done;
  TimePoint started;
  TimePoint close_deadline{};
  Duration handshake_took{};
  std::string reason;
  unsigned long error_code = 0;  // NOLINT(google-runtime-int): OpenSSL's type
  std::uint64_t plain_read = 0;
  std::uint64_t plain_written = 0;
  std::size_t read_low = 0;
  std::size_t read_high = 0;
  std::size_t write_low = 0;
  // Owed callbacks (deferred).
  BevFlags pending_what{};
  int pending_error = 0;
  std::string pending_reason;
  bool pending_read = false;
  bool pending_write = false;
  bool pending_pump = false;
  EventFlags plain_enabled = kWrite;  // enable()'s directions, on the plaintext side
  bool handshake_finished = false;
  bool failed = false;             // fatal TLS error: no SSL call any more
  bool closing = false;            // close_gracefully before the hand-off to the underlying
  bool handed_off = false;         // the underlying closes now
  bool closed = false;             // closed abortively (or never opened)
  bool peer_close_notify = false;  // SSL_read said ZERO_RETURN
  bool transport_eof = false;      // the underlying saw EOF
  bool eof_reported = false;
  bool shutdown_wanted = false;  // shutdown_write(): close_notify after the output
  bool shutdown_sent = false;
  bool suspended = false;  // input reached the read high watermark
};

TlsBufferEvent::Impl::Impl(TlsBufferEvent& s, BufferEvent& u, SSL* session, TlsRole role)
    : self(&s), under(&u), ssl(session), started(u.base().now()) {
  bio_buffers.in = &under->input();
  bio_buffers.out = &under->output();
  BIO* bio = tls::new_buffer_bio(&bio_buffers);
  SSL_set_bio(ssl, bio, bio);  // one reference, used both ways
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Renegotiation mid-stream is refused (a TLS 1.2 peer asking gets a no_renegotiation alert).
  SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
  if (role == TlsRole::kAccepting) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
  under->setcb([this](BufferEvent&) { on_cipher_in(); }, [this](BufferEvent&) { on_cipher_drained(); },
               [this](BufferEvent&, BevFlags what, int error) { on_transport_event(what, error); });
  // Ciphertext waiting for a plaintext reader stops socket reads at this much.
  under->set_read_watermarks(0, kTlsCipherBacklog);
  under->set_write_low_watermark(kTlsCipherBacklog / 2);
  under->enable(kRead | kWrite);
  input.set_length_callback([this](std::size_t, std::size_t, std::size_t deleted) {
    if (deleted == 0 || !suspended || (read_high != 0 && input.length() >= read_high)) return;
    suspended = false;
    pending_pump = true;
    schedule();
  });
  pump(/*from_handler=*/false);  // a client hello goes out now
}

TlsBufferEvent::Impl::~Impl() {
  deferred.reset();
  handshake_timer.reset();
  close_timer.reset();
  if (!owned && !handed_off) under->setcb({}, {}, {});
  SSL_free(ssl);
}

void TlsBufferEvent::Impl::pump(bool from_handler) {
  if (closed || failed || handed_off) return;
  if (!handshake_finished && !handshake(from_handler)) return;
  if (closing) {
    // Whatever still arrives is read and dropped (it may carry alerts); then go on closing.
    char scratch[kRecord];
    std::size_t n = 0;
    ERR_clear_error();
    while (SSL_read_ex(ssl, scratch, sizeof scratch, &n) == 1) {}
    continue_close();
    return;
  }
  const bool got = read_plaintext(from_handler);
  if (failed || closed) return;
  encrypt_output(from_handler);
  if (failed || closed) return;
  if (got && input.length() >= read_low && !input.empty()) {
    call_read(from_handler);
    if (!user_ok()) return;
  }
  maybe_report_eof(from_handler);
}

// Returns true once the handshake is done (and reported).
bool TlsBufferEvent::Impl::handshake(bool from_handler) {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl);
  if (r != 1) {
    const int e = SSL_get_error(ssl, r);
    under->flush_output();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      if (transport_eof && under->input().empty()) {
        failed = true;
        reason = "EOF during the TLS handshake";
        call_event(kBevEof | kBevError | kBevReading, ECONNRESET, reason, from_handler);
      }
      return false;
    }
    fail(kBevError | kBevReading, e, from_handler);
    return false;
  }
  handshake_finished = true;
  handshake_took = std::chrono::duration_cast<Duration>(under->base().now() - started);
  if (handshake_timer) handshake_timer->del();
  under->flush_output();
  if (closing) {
    continue_close();
    return false;
  }
  call_event(kBevConnected, 0, {}, from_handler);
  return user_ok();
}

bool TlsBufferEvent::Impl::read_plaintext(bool) {
  bool got = false;
  char chunk[kRecord];
  while (any(plain_enabled & kRead) && !peer_close_notify) {
    if (read_high != 0 && input.length() >= read_high) {
      suspended = true;
      break;
    }
    std::size_t want = sizeof chunk;
    if (read_high != 0) want = std::min(want, read_high - input.length());
    std::size_t n = 0;
    ERR_clear_error();
    const int r = SSL_read_ex(ssl, chunk, want, &n);
    if (r == 1) {
      input.append(chunk, n);
      plain_read += n;
      got = true;
      continue;
    }
    const int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      peer_close_notify = true;
      break;
    }
    under->flush_output();
    // The data before the error is still delivered; the error follows in the same handler.
    fail(kBevError | kBevReading, e, /*from_handler=*/false);
    return got;
  }
  under->flush_output();  // SSL_read may answer (a key update, an alert)
  return got;
}

void TlsBufferEvent::Impl::encrypt_output(bool from_handler) {
  if (!handshake_finished || failed || closed || handed_off) return;
  const std::size_t before = output.length();
  while (!output.empty() && under->output().length() < kTlsCipherBacklog) {
    const auto spans = output.peek(kRecord);
    std::size_t n = 0;
    ERR_clear_error();
    const int r = SSL_write_ex(ssl, spans.front().data(), spans.front().size(), &n);
    if (r != 1) {
      const int e = SSL_get_error(ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      fail(kBevError | kBevWriting, e, from_handler);
      return;
    }
    output.drain(n);
    plain_written += n;
  }
  if (shutdown_wanted && !shutdown_sent && output.empty()) {
    shutdown_sent = true;
    ERR_clear_error();
    SSL_shutdown(ssl);  // our close_notify; SSL_read goes on until the peer's
    ERR_clear_error();
  }
  under->flush_output();
  if (!closing && before > write_low && output.length() <= write_low) call_write(from_handler);
}

// EOF once the plaintext before it is delivered: after close_notify, or after the transport's
// EOF with nothing left to decrypt (a truncation: no close_notify came).
void TlsBufferEvent::Impl::maybe_report_eof(bool from_handler) {
  if (eof_reported || !any(plain_enabled & kRead) || suspended) return;
  if (peer_close_notify) {
    eof_reported = true;
    call_event(kBevEof | kBevReading, 0, "close_notify", from_handler);
  } else if (transport_eof && under->input().empty() && SSL_pending(ssl) == 0) {
    eof_reported = true;
    call_event(kBevEof | kBevReading, 0, "EOF without close_notify", from_handler);
  }
}

void TlsBufferEvent::Impl::fail(BevFlags what, int ssl_error, bool from_handler) {
  failed = true;
  // The last error is the outermost, the one OpenSSL's users know ("certificate verify failed").
  error_code = ERR_peek_last_error();
  if (error_code != 0) {
    reason = reason_of(error_code);
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    reason = "transport error";
  } else {
    reason = "TLS error " + std::to_string(ssl_error);
  }
  ERR_clear_error();
  under->flush_output();  // the alert, if OpenSSL wrote one
  if (handshake_timer) handshake_timer->del();
  call_event(what, EPROTO, reason, from_handler);
}

// ---- The underlying's callbacks -----------------------------------------------------------

void TlsBufferEvent::Impl::on_cipher_in() { pump(/*from_handler=*/true); }

void TlsBufferEvent::Impl::on_cipher_drained() {
  if (closing) {
    continue_close();
  } else {
    encrypt_output(/*from_handler=*/true);
  }
}

void TlsBufferEvent::Impl::on_transport_event(BevFlags what, int error) {
  if (any(what & kBevConnected)) return;  // TLS is connected after the handshake
  if (any(what & kBevEof)) {
    transport_eof = true;
    if (closing) {
      // The peer is gone: nothing more will be read; deliver what the kernel takes, then close.
      hand_off();
      return;
    }
    pump(/*from_handler=*/true);
    return;
  }
  if (any(what & kBevTimeout) && any(what & kBevReading)) plain_enabled &= ~kRead;
  if (any(what & kBevTimeout) && any(what & kBevWriting)) plain_enabled &= ~kWrite;
  if (closing) {
    close_timer.reset();
    closed = true;
    under->close_abortively();
    if (auto done = std::move(close_done)) done(false);
    return;
  }
  std::string text = any(what & kBevTimeout)
                         ? std::string(any(what & kBevReading) ? "read timeout" : "write timeout")
                         : std::string(std::strerror(error));
  call_event(what, error, std::move(text), /*from_handler=*/true);
}

// ---- User callbacks -----------------------------------------------------------------------

void TlsBufferEvent::Impl::call_read(bool from_handler) {
  if (!read_cb || !user_ok()) return;
  if (!from_handler) {
    pending_read = true;
    schedule();
    return;
  }
  DataCallback cb = read_cb;  // the callback may replace itself
  cb(*self);
}

void TlsBufferEvent::Impl::call_write(bool from_handler) {
  if (!write_cb || !user_ok()) return;
  if (!from_handler) {
    pending_write = true;
    schedule();
    return;
  }
  DataCallback cb = write_cb;
  cb(*self);
}

void TlsBufferEvent::Impl::call_event(BevFlags what, int error, std::string text, bool from_handler) {
  if (!event_cb || !user_ok()) return;
  if (!from_handler) {
    pending_what |= what;
    pending_error = error;
    pending_reason = std::move(text);
    schedule();
    return;
  }
  EventCallback cb = event_cb;
  cb(*self, what, error, text);
}

void TlsBufferEvent::Impl::schedule() {
  if (!deferred) {
    deferred = Event::timer(under->base(), [this](int, EventFlags) { on_deferred(); });
    deferred->set_label("tls.deferred");
  }
  deferred->activate(kTimeout);
}

void TlsBufferEvent::Impl::on_deferred() {
  const bool do_pump = std::exchange(pending_pump, false);
  const bool do_read = std::exchange(pending_read, false);
  const bool do_write = std::exchange(pending_write, false);
  const BevFlags what = std::exchange(pending_what, BevFlags{});
  const int error = std::exchange(pending_error, 0);
  std::string text = std::exchange(pending_reason, {});
  if (any(what & kBevConnected)) {
    call_event(kBevConnected, 0, {}, true);  // connected comes before any data
    if (!user_ok()) return;
  }
  if (do_pump) {
    pump(true);
    if (!user_ok()) return;
  }
  if (do_read && input.length() >= read_low && !input.empty()) {
    call_read(true);
    if (!user_ok()) return;
  }
  if (do_write) {
    call_write(true);
    if (!user_ok()) return;
  }
  const BevFlags rest = what & ~kBevConnected;
  if (any(rest)) call_event(rest, error, std::move(text), true);
}

// ---- Closing ------------------------------------------------------------------------------

void TlsBufferEvent::Impl::continue_close() {
  if (handed_off || closed) return;
  if (handshake_finished && !failed) {
    encrypt_output(/*from_handler=*/false);
    if (failed) {
      hand_off();
      return;
    }
    if (!output.empty()) return;  // the underlying drains, on_cipher_drained comes back here
    if (!shutdown_sent) {
      shutdown_sent = true;
      ERR_clear_error();
      SSL_shutdown(ssl);  // close_notify into the underlying's output
      ERR_clear_error();
    }
  }
  hand_off();
}

void TlsBufferEvent::Impl::hand_off() {
  if (handed_off || closed) return;
  handed_off = true;
  close_timer.reset();
  if (deferred) deferred->del();
  const TimePoint now = under->base().now();
  const Duration left =
      close_deadline > now ? std::chrono::ceil<Duration>(close_deadline - now) : Duration::zero();
  // The closure must not refer to this object: it may be destroyed before the underlying.
  under->setcb({}, {}, {});
  under->close_gracefully(left, std::move(close_done));
}

// ---- Public API ---------------------------------------------------------------------------

TlsBufferEvent::TlsBufferEvent(std::unique_ptr<BufferEvent> underlying, SSL* ssl, TlsRole role) {
  BufferEvent& u = *underlying;
  impl_ = std::make_unique<Impl>(*this, u, ssl, role);
  impl_->owned = std::move(underlying);
}

TlsBufferEvent::TlsBufferEvent(BufferEvent& underlying, SSL* ssl, TlsRole role)
    : impl_(std::make_unique<Impl>(*this, underlying, ssl, role)) {}

TlsBufferEvent::~TlsBufferEvent() = default;

void TlsBufferEvent::setcb(DataCallback read_cb, DataCallback write_cb, EventCallback event_cb) {
  impl_->read_cb = std::move(read_cb);
  impl_->write_cb = std::move(write_cb);
  impl_->event_cb = std::move(event_cb);
}

void TlsBufferEvent::Impl::enable(EventFlags what) {
  if (closed || closing || handed_off) return;
  if (any(what & kRead) && !any(plain_enabled & kRead)) {
    plain_enabled |= kRead;
    under->enable(kRead);
    pending_pump = true;  // plaintext or ciphertext may already be waiting
    schedule();
  }
  if (any(what & kWrite)) {
    plain_enabled |= kWrite;
    encrypt_output(/*from_handler=*/false);
  }
}

void TlsBufferEvent::Impl::set_read_watermarks(std::size_t low, std::size_t high) {
  read_low = low;
  read_high = high;
  if (suspended && (high == 0 || input.length() < high)) {
    suspended = false;
    pending_pump = true;
    schedule();
  }
}

template class BufferEventFront<TlsBufferEvent>;

void TlsBufferEvent::set_timeouts(std::optional<Duration> read, std::optional<Duration> write) {
  impl_->under->set_timeouts(read, write);
}

void TlsBufferEvent::set_handshake_timeout(Duration limit) {
  Impl& d = *impl_;
  if (d.handshake_finished || d.failed || d.closed) return;
  if (!d.handshake_timer) {
    d.handshake_timer = Event::timer(d.under->base(), [&d](int, EventFlags) {
      if (d.handshake_finished || d.failed || d.closed || d.closing || d.handed_off) return;
      d.failed = true;
      d.reason = "TLS handshake timed out";
      d.call_event(kBevTimeout | kBevError, ETIMEDOUT, d.reason, /*from_handler=*/true);
    });
    d.handshake_timer->set_label("tls.handshake");
  }
  d.handshake_timer->add(limit);
}

void TlsBufferEvent::close_gracefully(Duration deadline, std::function<void(bool clean)> done) {
  Impl& d = *impl_;
  if (d.closed || d.closing || d.handed_off) {
    if (d.closed && done) done(false);
    return;
  }
  d.closing = true;
  d.plain_enabled = {};
  d.close_done = std::move(done);
  d.close_deadline = d.under->base().now() + deadline;
  d.pending_read = d.pending_write = d.pending_pump = false;
  d.pending_what = {};
  if (d.handshake_timer) d.handshake_timer->del();
  if (!d.handshake_finished || d.failed) {
    d.hand_off();
    return;
  }
  d.continue_close();
  if (!d.handed_off) {
    // Plaintext still waits for the underlying to drain: abort at the deadline.
    d.close_timer = Event::timer(d.under->base(), [&d](int, EventFlags) {
      d.closed = true;
      d.under->close_abortively();
      if (auto cb = std::move(d.close_done)) cb(false);
    });
    d.close_timer->set_label("tls.close");
    d.close_timer->add(deadline);
  }
}

void TlsBufferEvent::shutdown_write() {
  Impl& d = *impl_;
  if (d.closed || d.closing || d.handed_off || d.shutdown_wanted) return;
  d.shutdown_wanted = true;
  d.encrypt_output(/*from_handler=*/false);  // sends it now if the output is empty
}

void TlsBufferEvent::close_abortively() {
  Impl& d = *impl_;
  if (d.closed) return;
  d.closed = true;
  d.close_timer.reset();
  if (d.deferred) d.deferred->del();
  if (d.handshake_timer) d.handshake_timer->del();
  std::function<void(bool)> done = std::move(d.close_done);
  d.under->close_abortively();  // after a hand-off, it runs the caller's done itself
  if (done) done(false);
}

bool TlsBufferEvent::closed() const { return impl_->closed || impl_->under->closed(); }
bool TlsBufferEvent::handshake_done() const { return impl_->handshake_finished; }
Duration TlsBufferEvent::handshake_duration() const { return impl_->handshake_took; }

TlsInfo TlsBufferEvent::info() const {
  const Impl& d = *impl_;
  TlsInfo info;
  if (!d.handshake_finished) return info;
  info.version = SSL_get_version(d.ssl);
  if (const char* cipher = SSL_get_cipher_name(d.ssl)) info.cipher = cipher;
  if (const char* sni = SSL_get_servername(d.ssl, TLSEXT_NAMETYPE_host_name)) info.sni = sni;
  if (X509* cert = SSL_get0_peer_certificate(d.ssl)) {
    BIO* mem = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* text = nullptr;
    const long len = BIO_get_mem_data(mem, &text);  // NOLINT(google-runtime-int)
    if (len > 0) info.peer_subject.assign(text, static_cast<std::size_t>(len));
    BIO_free(mem);
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(d.ssl, &alpn, &alpn_len);
  if (alpn != nullptr) info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
#ifndef OPENSSL_NO_KTLS
  info.ktls_send = BIO_get_ktls_send(SSL_get_wbio(d.ssl)) != 0;
  info.ktls_recv = BIO_get_ktls_recv(SSL_get_rbio(d.ssl)) != 0;
#endif
  return info;
}

unsigned long TlsBufferEvent::last_error() const { return impl_->error_code; }  // NOLINT
const std::string& TlsBufferEvent::last_error_reason() const { return impl_->reason; }
SSL* TlsBufferEvent::ssl() const { return impl_->ssl; }
BufferEvent& TlsBufferEvent::underlying() { return *impl_->under; }
const BufferEvent& TlsBufferEvent::underlying() const { return *impl_->under; }
std::uint64_t TlsBufferEvent::plaintext_read() const { return impl_->plain_read; }
std::uint64_t TlsBufferEvent::plaintext_written() const { return impl_->plain_written; }

}  // namespace reactor
