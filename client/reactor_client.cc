// reactor-client: a line-oriented TCP client on our reactor's BufferEvent.
//   reactor-client [host:port]            stdin lines go out, what comes back is printed
//   reactor-client host:port --send TEXT  one line, print the greeting and the echo, exit
//   reactor-client host:port --tls [--tls-ca FILE] [--tls-server-name NAME] [--tls-cert C --tls-key K]
//                                         the same over TLS (reactor_tls over the BufferEvent)
// After stdin ends (or the --send line is written) it half-closes the socket (TLS: sends
// close_notify) and prints everything until the server closes. Unreachable server or failed
// handshake: one line on stderr (with OpenSSL's reason), exit 1.
#include <CLI/CLI.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

#include "client/cli_common.h"
#include "client/main_guard.h"
#include "units/units.h"
#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/socket_address.h"
#include "reactor/tls_buffer_event.h"

namespace {

struct Session {
  reactor::EventBase& base;
  reactor::BufferEvent bev;
  std::unique_ptr<reactor::TlsBufferEvent> tls;  // --tls: the filter over bev
  std::string target;
  bool connected = false;
  bool input_done = false;   // no more lines to send
  bool half_closed = false;  // shutdown(SHUT_WR) done
  int exit_code = 0;

  Session(reactor::EventBase& b, std::string t) : base(b), bev(b, -1), target(std::move(t)) {}

  reactor::Buffer& input() { return tls ? tls->input() : bev.input(); }
  reactor::Buffer& output() { return tls ? tls->output() : bev.output(); }

  void print_input() {
    reactor::Buffer& in = input();
    for (const auto& span : in.peek()) {
      std::fwrite(span.data(), 1, span.size(), stdout);
    }
    std::fflush(stdout);
    in.drain(in.length());
  }

  // Once the last line is out, FIN our side: the server echoes what is left and closes.
  void maybe_half_close() {
    if (input_done && connected && !half_closed && output().empty()) {
      half_closed = true;
      if (tls) {
        tls->shutdown_write();  // close_notify: the server echoes what is left and closes
      } else {
        ::shutdown(bev.fd(), SHUT_WR);
      }
    }
  }

  void send_line(std::string line) {
    if (line.empty() || line.back() != '\n') line += '\n';
    if (tls) {
      tls->write(line);
    } else {
      bev.write(line);
    }
  }
};

int run(int argc, char** argv) {
  std::string target = "127.0.0.1:9995";
  std::string send_text;
  std::string timeout_text = "0";
  bool use_tls = false;
  std::string tls_ca, tls_server_name, tls_cert, tls_key;
  CLI::App app{"reactor-client: talk to reactord (or any line echo server) over TCP"};
  app.set_version_flag("--version", std::string("reactor-client ") + REACTORD_VERSION);
  app.add_option("address", target, "host:port (names are resolved)")->capture_default_str();
  auto* send_opt = app.add_option("--send", send_text, "Send one line, print what comes back, exit");
  app.add_option("--timeout", timeout_text, "Give up after this long (e.g. 5s; 0 = never; --send: 10s)")
      ->check(reactord::cli::duration());
  app.add_flag("--tls", use_tls, "Speak TLS (reactord --tls-listen); the server certificate is verified");
  app.add_option("--tls-ca", tls_ca, "With --tls: trust this CA (PEM) instead of the system's");
  app.add_option("--tls-server-name", tls_server_name,
                 "With --tls: the name sent (SNI) and checked in the certificate (default: the host)");
  app.add_option("--tls-cert", tls_cert, "With --tls: client certificate (PEM), for --tls-client-ca servers");
  app.add_option("--tls-key", tls_key, "With --tls: the client certificate's key (PEM)");
  app.footer(
      "Examples:\n"
      "  reactor-client 127.0.0.1:9995\n"
      "  reactor-client 127.0.0.1:9995 --send ping --timeout 2s\n"
      "  reactor-client localhost:9443 --tls --tls-ca ca.pem --send ping\n"
      "Exit codes: 0 ok, 1 cannot connect or connection error, 2 usage error,\n"
      "3 the server closed first, 4 timed out.");
  if (auto code = reactord::cli::parse(app, argc, argv, "reactor-client")) return *code;
  const bool one_shot = send_opt->count() > 0;
  std::optional<reactor::Duration> timeout = *reactord::units::parse_duration(timeout_text);
  if (one_shot && timeout->count() == 0) *timeout = std::chrono::seconds(10);

  std::string error;
  auto address = reactor::SocketAddress::resolve(target, &error);
  if (!address) {
    std::fprintf(stderr, "reactor-client: cannot resolve '%s': %s\n", target.c_str(), error.c_str());
    return 1;
  }

  if (!use_tls && (!tls_ca.empty() || !tls_server_name.empty() || !tls_cert.empty() || !tls_key.empty())) {
    std::fprintf(stderr,
                 "reactor-client: --tls-ca, --tls-server-name, --tls-cert and --tls-key need --tls\n");
    return 2;
  }
  if (tls_cert.empty() != tls_key.empty()) {
    std::fprintf(stderr, "reactor-client: --tls-cert and --tls-key go together\n");
    return 2;
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls_ctx(nullptr, SSL_CTX_free);
  if (use_tls) {
    tls_ctx.reset(SSL_CTX_new(TLS_client_method()));
    const bool trusted = tls_ca.empty()
                             ? SSL_CTX_set_default_verify_paths(tls_ctx.get()) == 1
                             : SSL_CTX_load_verify_locations(tls_ctx.get(), tls_ca.c_str(), nullptr) == 1;
    if (!trusted) {
      std::fprintf(stderr, "reactor-client: --tls-ca %s: no PEM certificate in it\n", tls_ca.c_str());
      return 2;
    }
    if (!tls_cert.empty() &&
        (SSL_CTX_use_certificate_chain_file(tls_ctx.get(), tls_cert.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(tls_ctx.get(), tls_key.c_str(), SSL_FILETYPE_PEM) != 1)) {
      std::fprintf(stderr, "reactor-client: --tls-cert %s / --tls-key %s: unreadable or not matching\n",
                   tls_cert.c_str(), tls_key.c_str());
      return 2;
    }
    SSL_CTX_set_verify(tls_ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (tls_server_name.empty()) tls_server_name = target.substr(0, target.rfind(':'));
    if (tls_server_name.size() > 2 && tls_server_name.front() == '[') {
      tls_server_name = tls_server_name.substr(1, tls_server_name.size() - 2);
    }
  }

  reactor::EventBase base;
  Session s(base, target);
  auto on_event = [&s, &base](reactor::BevFlags what, int err, std::string_view reason) {
    if (any(what & reactor::kBevConnected)) {
      s.connected = true;
      s.maybe_half_close();
      return;
    }
    if (any(what & reactor::kBevEof)) {
      s.print_input();
      if (!s.input_done) {
        std::fprintf(stderr, "reactor-client: %s closed the connection\n", s.target.c_str());
        s.exit_code = 3;
      }
    } else if (any(what & reactor::kBevError)) {
      const std::string why = reason.empty() ? std::strerror(err) : std::string(reason);
      std::fprintf(stderr, "reactor-client: %s %s: %s\n", s.connected ? "connection to" : "cannot connect to",
                   s.target.c_str(), why.c_str());
      s.exit_code = 1;
    } else if (any(what & reactor::kBevTimeout)) {
      return;
    }
    base.loopbreak();
  };
  s.bev.enable(reactor::kRead);
  if (!s.bev.connect(*address)) {
    std::fprintf(stderr, "reactor-client: cannot connect to %s: %s\n", target.c_str(), std::strerror(errno));
    return 1;
  }
  if (use_tls) {
    SSL* ssl = SSL_new(tls_ctx.get());
    const bool is_ip = reactor::SocketAddress::parse(tls_server_name + ":1").has_value();
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), tls_server_name.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, tls_server_name.c_str());
      SSL_set1_host(ssl, tls_server_name.c_str());
    }
    s.tls = std::make_unique<reactor::TlsBufferEvent>(s.bev, ssl, reactor::TlsRole::kConnecting);
    s.tls->setcb([&s](reactor::TlsBufferEvent&) { s.print_input(); },
                 [&s](reactor::TlsBufferEvent&) { s.maybe_half_close(); },
                 [on_event](reactor::TlsBufferEvent&, reactor::BevFlags what, int err,
                            std::string_view reason) { on_event(what, err, reason); });
    s.tls->set_write_low_watermark(0);
    s.tls->enable(reactor::kRead);
  } else {
    s.bev.setcb(
        [&s](reactor::BufferEvent&) { s.print_input(); },
        [&s](reactor::BufferEvent&) { s.maybe_half_close(); },
        [on_event](reactor::BufferEvent&, reactor::BevFlags what, int err) { on_event(what, err, {}); });
  }

  std::unique_ptr<reactor::Event> deadline;
  if (timeout->count() > 0) {
    deadline = reactor::Event::timer(base, [&](int, reactor::EventFlags) {
      std::fprintf(stderr, "reactor-client: timed out after %s\n",
                   timeout_text == "0" ? "10s" : timeout_text.c_str());
      s.exit_code = 4;
      base.loopbreak();
    });
    deadline->add(*timeout);
  }

  std::thread reader;
  std::atomic<bool> quit{false};
  if (one_shot) {
    s.send_line(send_text);
    s.input_done = true;
  } else {
    // stdin can be a tty, a pipe or a file (which epoll refuses): read it on a thread and
    // hand each line to the loop through post(), the reactor's one cross-thread door.
    reader = std::thread([&base, &s, &quit] {
      std::string line;
      while (!quit.load() && std::getline(std::cin, line)) {
        base.post([&s, line] { s.send_line(line); });
      }
      base.post([&s] {
        s.input_done = true;
        s.maybe_half_close();
      });
    });
  }
  base.loop(reactor::kLoopNoExitOnEmpty);
  quit.store(true);
  if (reader.joinable()) {
    if (s.input_done) {
      reader.join();
    } else {
      reader.detach();  // blocked in getline on a terminal; the process is ending anyway
    }
  }
  return s.exit_code;
}

}  // namespace

int main(int argc, char** argv) { return reactord::cli::run_main("reactor-client", 1, run, argc, argv); }
