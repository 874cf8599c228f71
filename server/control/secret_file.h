// Reading the small files the control plane is configured with (bearer tokens, PEM files)
// before anything is bound: a bounded read (a path to /dev/zero or a log file must not take
// the process's memory), a regular-file check, and whether other users can read it.
// Any thread. No gRPC.
#pragma once

#include <cstddef>
#include <string>

namespace reactord::control {

struct SecretFile {
  bool ok = false;
  std::string content;          // when ok
  std::string error;            // when !ok: "<path>: <why>" (the caller prefixes the flag)
  bool world_readable = false;  // when ok: mode has o+r (worth a warning for a secret)
};

// Reads at most `limit` bytes of the regular file at `path`; a larger file is an error.
SecretFile read_secret_file(const std::string& path, std::size_t limit);

}  // namespace reactord::control
