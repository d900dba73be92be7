// Where a row's vector stores should start. Stores that straddle two cache lines cost a second
// line access each, and numpy's large arrays begin 16 bytes past a page boundary: unpeeled, every
// other 32-byte store of an AVX2 loop straddles. Rows are therefore stored scalar up to their
// first vector-aligned element, then by aligned vectors, then a scalar tail.
#pragma once

#include <algorithm>
#include <cstdint>

namespace edgevision::kernels {
namespace {

// Elements of type T before the first multiple of `vector_bytes` at or after `row`, at most
// `count`; 0 when `row` is not aligned to T itself (no peel can align it then).
template <class T>
inline int elements_before_alignment(const T* row, int vector_bytes, int count) {
  const auto address = reinterpret_cast<uintptr_t>(row);
  if (vector_bytes <= static_cast<int>(sizeof(T)) || address % sizeof(T) != 0) return 0;
  const auto misalignment = static_cast<int>(address % static_cast<uintptr_t>(vector_bytes));
  const int head = misalignment == 0 ? 0 : (vector_bytes - misalignment) / static_cast<int>(sizeof(T));
  return std::min(head, count);
}

}  // namespace
}  // namespace edgevision::kernels
