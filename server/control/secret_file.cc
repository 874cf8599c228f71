#include "secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reactord::control {

SecretFile read_secret_file(const std::string& path, std::size_t limit) {
  SecretFile f;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    f.error = path + ": " + std::strerror(errno);
    return f;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    f.error = path + ": not a regular file";
    ::close(fd);
    return f;
  }
  f.world_readable = (st.st_mode & S_IROTH) != 0;
  // One byte more than allowed tells "too large" without reading the rest.
  std::string buf(limit + 1, '\0');
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t r = ::read(fd, buf.data() + got, buf.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      f.error = path + ": " + std::strerror(errno);
      ::close(fd);
      return f;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  if (got > limit) {
    f.error = path + ": larger than " + std::to_string(limit) + " bytes";
    return f;
  }
  buf.resize(got);
  f.content = std::move(buf);
  f.ok = true;
  return f;
}

}  // namespace reactord::control
