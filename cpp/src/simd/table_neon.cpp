// The neon instantiation of every kernel (compile flags for this file are set in CMakeLists.txt).
#include "simd/ops_scalar.hpp"
#include "simd/ops_neon.hpp"

#include "kernels/blend.inl"
#include "kernels/blur.inl"
#include "kernels/kernel_table.hpp"
#include "kernels/resample_mask.inl"
#include "kernels/sample_image.inl"
#include "kernels/segmentation_head.inl"
#include "kernels/smooth_mask.inl"

namespace edgevision::kernels {

extern const KernelTable k_neon_kernels = {
    &sample_image<simd::NeonOps>,    &resample_mask_separable<simd::NeonOps>,
    &resample_mask_affine<simd::NeonOps>, &box_downsample<simd::NeonOps>,
    &gaussian_blur<simd::NeonOps>,   &blend<simd::NeonOps>,
    &smooth_mask<simd::NeonOps>, &upsample_background_rows<simd::NeonOps>,
    &segmentation_head_rows<simd::NeonOps>,
};

}  // namespace edgevision::kernels
