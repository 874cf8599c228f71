#include "tls_bio.h"

#include <openssl/bio.h>

#include <algorithm>

namespace reactor::tls {
namespace {

BioBuffers* buffers_of(BIO* bio) { return static_cast<BioBuffers*>(BIO_get_data(bio)); }

int bio_write_ex(BIO* bio, const char* data, size_t len, size_t* written) {
  BIO_clear_retry_flags(bio);
  buffers_of(bio)->out->append(data, len);
  *written = len;
  return 1;
}

int bio_read_ex(BIO* bio, char* data, size_t len, size_t* read) {
  BIO_clear_retry_flags(bio);
  Buffer& in = *buffers_of(bio)->in;
  if (in.empty()) {
    BIO_set_retry_read(bio);
    *read = 0;
    return 0;
  }
  *read = in.remove(data, len);
  return 1;
}

long bio_ctrl(BIO* bio, int cmd, long, void*) {  // NOLINT(google-runtime-int): OpenSSL's signature
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
      return static_cast<long>(std::min<std::size_t>(buffers_of(bio)->in->length(), 1 << 30));  // NOLINT
    case BIO_CTRL_WPENDING:  // writes go straight into the output buffer: none pending here
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "reactor buffer");
    BIO_meth_set_write_ex(made, bio_write_ex);
    BIO_meth_set_read_ex(made, bio_read_ex);
    BIO_meth_set_ctrl(made, bio_ctrl);
    BIO_meth_set_create(made, bio_create);
    return made;
  }();
  return m;
}

}  // namespace

BIO* new_buffer_bio(BioBuffers* buffers) {
  BIO* bio = BIO_new(method());
  if (bio != nullptr) BIO_set_data(bio, buffers);
  return bio;
}

}  // namespace reactor::tls
