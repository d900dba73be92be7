#include "edgevision/filters.hpp"
#include "flush_denormals.hpp"
#include "kernels/kernel_table.hpp"

namespace edgevision {

void segmentation_smoothing(const PlaneView<float>& prev, const PlaneView<float>& cur, float ratio, float* out) {
  const FlushDenormals flush_denormals;
  kernels::SmoothMaskJob job{prev, cur, ratio, out};
  kernels::active_table().smooth_mask(job);
}

}  // namespace edgevision
