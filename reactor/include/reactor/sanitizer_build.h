// Which sanitizer this translation unit is compiled under, the same on GCC and clang
// (MemorySanitizer: clang only).
// GCC defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang 14 defines neither and answers
// __has_feature instead. Code that must behave differently under a sanitizer (the sanitizer
// owns malloc, intercepts the glibc wrappers, multiplies memory) tests these two macros, so
// that a build with either compiler takes the same branch.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define REACTOR_ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REACTOR_ASAN_BUILD 1
#endif
#endif
#ifndef REACTOR_ASAN_BUILD
#define REACTOR_ASAN_BUILD 0
#endif

#if defined(__SANITIZE_THREAD__)
#define REACTOR_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define REACTOR_TSAN_BUILD 1
#endif
#endif
#ifndef REACTOR_TSAN_BUILD
#define REACTOR_TSAN_BUILD 0
#endif

#if defined(__has_feature)
#if __has_feature(memory_sanitizer)
#define REACTOR_MSAN_BUILD 1
#endif
#endif
#ifndef REACTOR_MSAN_BUILD
#define REACTOR_MSAN_BUILD 0
#endif
