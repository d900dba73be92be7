// Scratch rows that start on a cache line. malloc aligns to 16 bytes, so a 32- or 64-byte
// vector load from a row of such a buffer straddles two lines every other time (AVX2) or
// nearly always (AVX-512); rows placed on line boundaries load one line per vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgevision {

inline constexpr std::size_t kCacheLineBytes = 64;

// `count` elements of `storage` from its first cache line boundary (storage grows to fit).
template <class T>
T* cache_line_scratch(std::vector<T>& storage, std::size_t count) {
  static_assert(kCacheLineBytes % sizeof(T) == 0, "elements must tile a cache line");
  storage.resize(count + kCacheLineBytes / sizeof(T));
  const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  const std::size_t skip = (kCacheLineBytes - address % kCacheLineBytes) % kCacheLineBytes;
  return storage.data() + skip / sizeof(T);
}

// Elements per scratch row of `count` elements, rounded up so consecutive rows start on lines.
template <class T>
constexpr std::size_t cache_line_row(std::size_t count) {
  constexpr std::size_t per_line = kCacheLineBytes / sizeof(T);
  return (count + per_line - 1) / per_line * per_line;
}

}  // namespace edgevision
