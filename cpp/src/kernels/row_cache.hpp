// Two horizontally interpolated source rows (of any element type), kept while consecutive output rows reuse them
// (upsampling reads each source row for several output rows).
#pragma once

namespace edgevision::kernels {
namespace {

template <class T = float>
class RowPairCache {
 public:
  RowPairCache(T* first, T* second) : slot_{first, second} {}

  // Sets `top` and `bottom` to rows a and b, calling fill(row, dst) for rows not cached.
  template <class Fill>
  void get(int a, int b, const T*& top, const T*& bottom, Fill&& fill) {
    top = find(a);
    bottom = find(b);
    if (top == nullptr) {
      top = load(row_[0] == b ? 1 : 0, a, fill);
      if (a == b) bottom = top;
    }
    if (bottom == nullptr) bottom = load(top == slot_[0] ? 1 : 0, b, fill);
  }

 private:
  const T* find(int row) const {
    for (int s = 0; s < 2; ++s)
      if (row_[s] == row) return slot_[s];
    return nullptr;
  }
  template <class Fill>
  const T* load(int s, int row, Fill& fill) {
    fill(row, slot_[s]);
    row_[s] = row;
    return slot_[s];
  }

  T* slot_[2];
  int row_[2] = {-1, -1};
};

}  // namespace
}  // namespace edgevision::kernels
