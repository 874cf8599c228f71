#include "echo_args.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace bench {
namespace {

[[noreturn]] void usage(const char* prog, const std::string& why) {
  std::fprintf(stderr, "%s: %s\nusage: %s [--port N] [--greeting TEXT] [--backlog N] [--idle-threads N]\n",
               prog, why.c_str(), prog);
  std::exit(2);
}

long parse_number(const char* prog, std::string_view flag, std::string_view text, long lo, long hi) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    usage(prog, std::string(flag) + ": expected a number in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "], got '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

EchoArgs parse_echo_args(int argc, char** argv) {
  EchoArgs args;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) usage(argv[0], std::string(flag) + ": missing value or unknown flag");
    std::string_view value = argv[++i];
    if (flag == "--port") {
      args.port = static_cast<std::uint16_t>(parse_number(argv[0], flag, value, 0, 65535));
    } else if (flag == "--backlog") {
      args.backlog = static_cast<int>(parse_number(argv[0], flag, value, 1, 65535));
    } else if (flag == "--idle-threads") {
      args.idle_threads = static_cast<int>(parse_number(argv[0], flag, value, 0, 64));
    } else if (flag == "--greeting") {
      args.greeting = value;
    } else {
      usage(argv[0], "unknown flag " + std::string(flag));
    }
  }
  return args;
}

int listen_loopback(const EchoArgs& args) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(args.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, args.backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "cannot listen on 127.0.0.1:%u: %s\n", args.port, std::strerror(errno));
    std::exit(1);
  }
  std::printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  return fd;
}

void start_idle_threads(const EchoArgs& args) {
  for (int i = 0; i < args.idle_threads; ++i) {
    std::thread([] {
      for (;;) ::pause();
    }).detach();
  }
}

}  // namespace bench
