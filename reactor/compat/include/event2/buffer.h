/* event2/buffer.h — libevent 2.1's evbuffer, provided by reactord's compat layer on our
 * reactor::Buffer (a chain of blocks: moving data between buffers relinks, never copies).
 * Plain C. Only what is declared here exists (no locking, freezing, file segments or
 * buffer references: those fail at compile time). */
#ifndef REACTOR_EVENT2_BUFFER_H_INCLUDED_
#define REACTOR_EVENT2_BUFFER_H_INCLUDED_

#include <event2/util.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;

/* A position in a buffer (evbuffer_search, evbuffer_ptr_set). pos is -1 when not found. */
struct evbuffer_ptr {
  ev_ssize_t pos;
  struct {
    void* chain;
    size_t pos_in_chain;
  } internal_;
};

/* Same layout as struct iovec. */
struct evbuffer_iovec {
  void* iov_base;
  size_t iov_len;
};

EVENT2_EXPORT_SYMBOL struct evbuffer* evbuffer_new(void);
EVENT2_EXPORT_SYMBOL void evbuffer_free(struct evbuffer* buf);

EVENT2_EXPORT_SYMBOL size_t evbuffer_get_length(const struct evbuffer* buf);
EVENT2_EXPORT_SYMBOL size_t evbuffer_get_contiguous_space(const struct evbuffer* buf);
/* Accepted; blocks grow on demand, so there is nothing to prepare. Returns 0. */
EVENT2_EXPORT_SYMBOL int evbuffer_expand(struct evbuffer* buf, size_t datlen);

/* Adding. 0 on success (evbuffer_add_printf: bytes added), -1 on error. */
EVENT2_EXPORT_SYMBOL int evbuffer_add(struct evbuffer* buf, const void* data, size_t datlen);
EVENT2_EXPORT_SYMBOL int evbuffer_prepend(struct evbuffer* buf, const void* data, size_t size);
EVENT2_EXPORT_SYMBOL int evbuffer_add_printf(struct evbuffer* buf, const char* fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
EVENT2_EXPORT_SYMBOL int evbuffer_add_vprintf(struct evbuffer* buf, const char* fmt, va_list ap);
/* Moves all of inbuf to the end (or the front) of outbuf, relinking blocks. */
EVENT2_EXPORT_SYMBOL int evbuffer_add_buffer(struct evbuffer* outbuf, struct evbuffer* inbuf);
EVENT2_EXPORT_SYMBOL int evbuffer_prepend_buffer(struct evbuffer* dst, struct evbuffer* src);
/* Moves up to datlen bytes from the front of src to the end of dst. Returns bytes moved. */
EVENT2_EXPORT_SYMBOL int evbuffer_remove_buffer(struct evbuffer* src, struct evbuffer* dst, size_t datlen);

/* External memory without a copy: cleanupfn(data, datlen, cleanupfn_arg) runs once no buffer
 * refers to it any more. */
typedef void (*evbuffer_ref_cleanup_cb)(const void* data, size_t datalen, void* extra);
EVENT2_EXPORT_SYMBOL int evbuffer_add_reference(struct evbuffer* outbuf, const void* data, size_t datlen,
                                                evbuffer_ref_cleanup_cb cleanupfn, void* cleanupfn_arg);

/* Taking out. */
EVENT2_EXPORT_SYMBOL int evbuffer_remove(struct evbuffer* buf, void* data, size_t datlen);
EVENT2_EXPORT_SYMBOL ev_ssize_t evbuffer_copyout(struct evbuffer* buf, void* data_out, size_t datlen);
EVENT2_EXPORT_SYMBOL ev_ssize_t evbuffer_copyout_from(struct evbuffer* buf, const struct evbuffer_ptr* pos,
                                                      void* data_out, size_t datlen);
EVENT2_EXPORT_SYMBOL int evbuffer_drain(struct evbuffer* buf, size_t len);
/* Makes the first size bytes (-1: all) contiguous; NULL if size is 0 or more than the
 * buffer holds. */
EVENT2_EXPORT_SYMBOL unsigned char* evbuffer_pullup(struct evbuffer* buf, ev_ssize_t size);

/* Lines. */
enum evbuffer_eol_style {
  EVBUFFER_EOL_ANY,
  EVBUFFER_EOL_CRLF,
  EVBUFFER_EOL_CRLF_STRICT,
  EVBUFFER_EOL_LF,
  EVBUFFER_EOL_NUL
};
/* A malloc'd, NUL-terminated line without its end of line (free() it), or NULL. */
EVENT2_EXPORT_SYMBOL char* evbuffer_readln(struct evbuffer* buffer, size_t* n_read_out,
                                           enum evbuffer_eol_style eol_style);

/* Searching. */
enum evbuffer_ptr_how { EVBUFFER_PTR_SET, EVBUFFER_PTR_ADD };
EVENT2_EXPORT_SYMBOL int evbuffer_ptr_set(struct evbuffer* buffer, struct evbuffer_ptr* ptr, size_t position,
                                          enum evbuffer_ptr_how how);
EVENT2_EXPORT_SYMBOL struct evbuffer_ptr evbuffer_search(struct evbuffer* buffer, const char* what,
                                                         size_t len, const struct evbuffer_ptr* start);
EVENT2_EXPORT_SYMBOL struct evbuffer_ptr evbuffer_search_range(struct evbuffer* buffer, const char* what,
                                                               size_t len, const struct evbuffer_ptr* start,
                                                               const struct evbuffer_ptr* end);
EVENT2_EXPORT_SYMBOL struct evbuffer_ptr evbuffer_search_eol(struct evbuffer* buffer,
                                                             struct evbuffer_ptr* start, size_t* eol_len_out,
                                                             enum evbuffer_eol_style eol_style);
/* Extents over the data without copying; returns how many are needed. */
EVENT2_EXPORT_SYMBOL int evbuffer_peek(struct evbuffer* buffer, ev_ssize_t len, struct evbuffer_ptr* start_at,
                                       struct evbuffer_iovec* vec_out, int n_vec);

/* Writing into the buffer's own memory: reserve, fill, commit. */
EVENT2_EXPORT_SYMBOL int evbuffer_reserve_space(struct evbuffer* buf, ev_ssize_t size,
                                                struct evbuffer_iovec* vec, int n_vec);
EVENT2_EXPORT_SYMBOL int evbuffer_commit_space(struct evbuffer* buf, struct evbuffer_iovec* vec, int n_vecs);

/* File descriptors. */
EVENT2_EXPORT_SYMBOL int evbuffer_write(struct evbuffer* buffer, evutil_socket_t fd);
EVENT2_EXPORT_SYMBOL int evbuffer_write_atmost(struct evbuffer* buffer, evutil_socket_t fd,
                                               ev_ssize_t howmuch);
EVENT2_EXPORT_SYMBOL int evbuffer_read(struct evbuffer* buffer, evutil_socket_t fd, int howmuch);

/* Length callbacks, run right after each change. */
struct evbuffer_cb_info {
  size_t orig_size;
  size_t n_added;
  size_t n_deleted;
};
typedef void (*evbuffer_cb_func)(struct evbuffer* buffer, const struct evbuffer_cb_info* info, void* arg);
struct evbuffer_cb_entry;
#define EVBUFFER_CB_ENABLED 1
EVENT2_EXPORT_SYMBOL struct evbuffer_cb_entry* evbuffer_add_cb(struct evbuffer* buffer, evbuffer_cb_func cb,
                                                               void* cbarg);
EVENT2_EXPORT_SYMBOL int evbuffer_remove_cb_entry(struct evbuffer* buffer, struct evbuffer_cb_entry* ent);
EVENT2_EXPORT_SYMBOL int evbuffer_remove_cb(struct evbuffer* buffer, evbuffer_cb_func cb, void* cbarg);
EVENT2_EXPORT_SYMBOL int evbuffer_cb_set_flags(struct evbuffer* buffer, struct evbuffer_cb_entry* cb,
                                               ev_uint32_t flags);
EVENT2_EXPORT_SYMBOL int evbuffer_cb_clear_flags(struct evbuffer* buffer, struct evbuffer_cb_entry* cb,
                                                 ev_uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* REACTOR_EVENT2_BUFFER_H_INCLUDED_ */
