// A BIO over two reactor Buffers: what OpenSSL reads comes out of `in` (the underlying
// BufferEvent's input, ciphertext from the peer), what it writes is appended to `out` (the
// underlying's output). A memory BIO pair without the extra copy through BIO_s_mem. Reading an
// empty `in` is a retryable "want read", never EOF: the filter learns of EOF from the
// underlying's event callback.
#pragma once

#include <openssl/bio.h>

#include "reactor/buffer.h"

namespace reactor::tls {

struct BioBuffers {
  Buffer* in = nullptr;
  Buffer* out = nullptr;
};

// A new BIO reading from buffers->in and writing to buffers->out (`buffers` must outlive it).
BIO* new_buffer_bio(BioBuffers* buffers);

}  // namespace reactor::tls
