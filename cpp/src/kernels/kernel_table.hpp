// One table of kernel entry points per ISA; cpp/src/simd/table_<isa>.cpp fill them.
#pragma once

#include "edgevision/isa.hpp"
#include "kernels/jobs.hpp"

namespace edgevision::kernels {

struct KernelTable {
  void (*sample_image)(const SampleImageJob&);
  void (*resample_mask_separable)(const ResampleMaskJob&);
  void (*resample_mask_affine)(const ResampleMaskJob&);
  void (*box_downsample)(const BoxDownsampleJob&);
  void (*gaussian_blur)(const GaussianBlurJob&);
  void (*blend)(const BlendJob&);
  void (*smooth_mask)(const SmoothMaskJob&);
  void (*upsample_background_rows)(const BlendJob&, int16_t* rows);
  void (*segmentation_head_rows)(const SegmentationHeadJob&);
};

const KernelTable& table_for(Isa isa);
inline const KernelTable& active_table() { return table_for(active_isa()); }

}  // namespace edgevision::kernels
