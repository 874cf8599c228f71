/* evbuffer: adding, removing, moving between buffers, searching, lines, reserve/commit,
 * references, callbacks — what bufferevent users do with their buffers. */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void show(const char* what, struct evbuffer* b) {
  size_t n = evbuffer_get_length(b);
  char* copy = malloc(n + 1);
  ev_ssize_t got = evbuffer_copyout(b, copy, n);
  copy[got < 0 ? 0 : got] = '\0';
  printf("%s: %zu bytes \"%s\"\n", what, n, copy);
  free(copy);
}

static void length_cb(struct evbuffer* b, const struct evbuffer_cb_info* info, void* arg) {
  printf("  cb %s: orig %zu, added %zu, deleted %zu, now %zu\n", (const char*)arg, info->orig_size,
         info->n_added, info->n_deleted, evbuffer_get_length(b));
}

static int cleanups;
static void cleanup_cb(const void* data, size_t len, void* arg) {
  ++cleanups;
  printf("reference released: %zu bytes, \"%s\"\n", len, (const char*)arg);
}

int main(void) {
  struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
  struct evbuffer_ptr p, end;
  struct evbuffer_iovec vec[2];
  struct evbuffer_cb_entry* ent;
  char out[64];
  char* line;
  size_t len, eol_len;
  int i, n, styles[] = {EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT, EVBUFFER_EOL_LF};
  static const char big_ref[] = "referenced bytes";
  unsigned char* up;

  printf("add: %d\n", evbuffer_add(a, "hello ", 6));
  printf("add_printf: %d\n", evbuffer_add_printf(a, "world %d-%s", 42, "x"));
  printf("prepend: %d\n", evbuffer_prepend(a, ">> ", 3));
  show("a", a);
  printf("pullup(0) is NULL: %d, pullup(1000) is NULL: %d\n", evbuffer_pullup(a, 0) == NULL,
         evbuffer_pullup(a, 1000) == NULL);
  up = evbuffer_pullup(a, -1);
  printf("pullup(-1): \"%.*s\"\n", (int)evbuffer_get_length(a), (const char*)up);
  printf("copyout 5: %d\n", (int)evbuffer_copyout(a, out, 5));
  printf("remove 3: %d\n", evbuffer_remove(a, out, 3));
  printf("drain 6: %d\n", evbuffer_drain(a, 6));
  show("a", a);
  printf("drain more than there is: %d, length %zu\n", evbuffer_drain(a, 1000), evbuffer_get_length(a));

  /* Moving between buffers. */
  evbuffer_add(a, "0123456789", 10);
  evbuffer_add(b, "abc", 3);
  printf("add_buffer: %d\n", evbuffer_add_buffer(b, a));
  show("b", b);
  show("a", a);
  printf("add_buffer to itself: %d\n", evbuffer_add_buffer(b, b));
  printf("remove_buffer 4: %d\n", evbuffer_remove_buffer(b, a, 4));
  printf("remove_buffer 100: %d\n", evbuffer_remove_buffer(b, a, 100));
  show("a", a);
  show("b", b);
  evbuffer_add(b, "first ", 6);
  printf("prepend_buffer: %d\n", evbuffer_prepend_buffer(a, b));
  show("a", a);
  show("b", b);
  evbuffer_drain(a, evbuffer_get_length(a));

  /* Search, ranges, pointers. */
  evbuffer_add_printf(a, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nbody");
  p = evbuffer_search(a, "HTTP", 4, NULL);
  printf("search HTTP: %d\n", (int)p.pos);
  p = evbuffer_search(a, "nothere", 7, NULL);
  printf("search missing: %d\n", (int)p.pos);
  evbuffer_ptr_set(a, &p, 20, EVBUFFER_PTR_SET);
  p = evbuffer_search(a, "x", 1, &p);
  printf("search x from 20: %d\n", (int)p.pos);
  evbuffer_ptr_set(a, &p, 0, EVBUFFER_PTR_SET);
  evbuffer_ptr_set(a, &end, 10, EVBUFFER_PTR_SET);
  printf("search_range HTTP in [0,10): %d\n", (int)evbuffer_search_range(a, "HTTP", 4, &p, &end).pos);
  evbuffer_ptr_set(a, &end, 22, EVBUFFER_PTR_SET);
  printf("search_range HTTP in [0,22): %d\n", (int)evbuffer_search_range(a, "HTTP", 4, &p, &end).pos);
  printf("ptr_set past the end: %d\n", evbuffer_ptr_set(a, &p, 1000, EVBUFFER_PTR_SET));
  evbuffer_ptr_set(a, &p, 5, EVBUFFER_PTR_SET);
  printf("ptr_set add: %d, pos %d\n", evbuffer_ptr_set(a, &p, 3, EVBUFFER_PTR_ADD), (int)p.pos);
  p = evbuffer_search_eol(a, NULL, &eol_len, EVBUFFER_EOL_CRLF);
  printf("search_eol CRLF: pos %d, eol_len %zu\n", (int)p.pos, eol_len);
  n = (int)evbuffer_copyout_from(a, &p, out, 4);
  printf("copyout_from the eol: %d bytes, starts with CR %d\n", n, out[0] == '\r');

  /* Lines, in each style. */
  while ((line = evbuffer_readln(a, &len, EVBUFFER_EOL_CRLF_STRICT)) != NULL) {
    printf("line (%zu): \"%s\"\n", len, line);
    free(line);
  }
  show("rest", a);
  evbuffer_drain(a, evbuffer_get_length(a));
  for (i = 0; i < 4; ++i) {
    evbuffer_add(a, "one\r\ntwo\n\nthree\r\r\nfour", 22);
    printf("style %d:", styles[i]);
    while ((line = evbuffer_readln(a, &len, styles[i])) != NULL) {
      printf(" [%s]", line);
      free(line);
    }
    printf(" rest %zu\n", evbuffer_get_length(a));
    evbuffer_drain(a, evbuffer_get_length(a));
  }
  evbuffer_add(a, "nul\0term", 8);
  line = evbuffer_readln(a, &len, EVBUFFER_EOL_NUL);
  printf("NUL style: [%s] %zu, rest %zu\n", line, len, evbuffer_get_length(a));
  free(line);
  evbuffer_drain(a, evbuffer_get_length(a));

  /* Reserve and commit. */
  n = evbuffer_reserve_space(a, 100, vec, 1);
  printf("reserve 100 in 1 vector: %d, big enough %d\n", n, vec[0].iov_len >= 100);
  memcpy(vec[0].iov_base, "reserved!", 9);
  vec[0].iov_len = 9;
  printf("commit: %d\n", evbuffer_commit_space(a, vec, 1));
  show("a", a);
  printf("reserve with 0 vectors: %d\n", evbuffer_reserve_space(a, 10, vec, 0));

  /* References: the memory is released once no buffer holds it. */
  evbuffer_add_reference(b, big_ref, strlen(big_ref), cleanup_cb, "ref");
  show("b", b);
  evbuffer_add_buffer(a, b);
  printf("cleanups after moving: %d\n", cleanups);
  evbuffer_drain(a, evbuffer_get_length(a));
  printf("cleanups after draining: %d\n", cleanups);

  /* Callbacks. */
  ent = evbuffer_add_cb(a, length_cb, "A");
  evbuffer_add(a, "12345", 5);
  evbuffer_drain(a, 2);
  evbuffer_cb_clear_flags(a, ent, EVBUFFER_CB_ENABLED);
  evbuffer_add(a, "silent", 6);
  evbuffer_cb_set_flags(a, ent, EVBUFFER_CB_ENABLED);
  evbuffer_add_cb(a, length_cb, "B");
  evbuffer_remove(a, out, 4);
  printf("remove_cb: %d, again: %d\n", evbuffer_remove_cb(a, length_cb, "B"),
         evbuffer_remove_cb(a, length_cb, "B"));
  evbuffer_add(a, "!", 1);
  printf("remove_cb_entry: %d\n", evbuffer_remove_cb_entry(a, ent));
  evbuffer_add(a, "?", 1);
  show("a", a);

  /* Peek sees everything without copying. */
  {
    struct evbuffer_iovec v[8];
    int k, total = 0;
    n = evbuffer_peek(a, -1, NULL, v, 8);
    for (k = 0; k < n && k < 8; ++k) total += (int)v[k].iov_len;
    printf("peek covers %d bytes\n", total);
  }

  evbuffer_free(a);
  evbuffer_free(b);
  printf("done\n");
  return 0;
}
