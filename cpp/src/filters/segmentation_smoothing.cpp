#include <stdexcept>

#include "edgevision/filters.hpp"
#include "flush_denormals.hpp"
#include "kernels/kernel_table.hpp"
#include "mask_resample_plan.hpp"

namespace edgevision {

void segmentation_smoothing(const PlaneView<float>& prev, const PlaneView<float>& cur, float ratio, float* out) {
  const FlushDenormals flush_denormals;
  kernels::SmoothMaskJob job{prev, cur, ratio, out};
  kernels::active_table().smooth_mask(job);
}

void segmentation_smoothing(const PlaneView<float>& prev, const PlaneView<float>& cur, const MaskResize& resize,
                            float ratio, float* out, int threads) {
  if (resize.threshold) throw std::invalid_argument("segmentation smoothing works on probabilities, not thresholds");
  if (prev.width != resize.size.width || prev.height != resize.size.height || prev.col_stride != 1)
    throw std::invalid_argument("previous must be the output size with contiguous rows");
  thread_local MaskResamplePlan plan;
  plan_mask_resample(cur, resize, plan);
  plan.job.previous = prev.data;
  plan.job.previous_row_stride = prev.row_stride;
  plan.job.smoothing_ratio = ratio;
  plan.job.out = out;
  run_mask_resample(plan, threads);
}

}  // namespace edgevision
