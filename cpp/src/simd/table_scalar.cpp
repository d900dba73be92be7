// The scalar instantiation of every kernel (compile flags for this file are set in CMakeLists.txt).
#include "simd/ops_scalar.hpp"


#include "kernels/blend.inl"
#include "kernels/blur.inl"
#include "kernels/kernel_table.hpp"
#include "kernels/resample_mask.inl"
#include "kernels/sample_image.inl"
#include "kernels/segmentation_head.inl"
#include "kernels/smooth_mask.inl"

namespace edgevision::kernels {

extern const KernelTable k_scalar_kernels = {
    &sample_image<simd::ScalarOps>,    &resample_mask_separable<simd::ScalarOps>,
    &resample_mask_affine<simd::ScalarOps>, &box_downsample<simd::ScalarOps>,
    &gaussian_blur<simd::ScalarOps>,   &blend<simd::ScalarOps>,
    &smooth_mask<simd::ScalarOps>, &upsample_background_rows<simd::ScalarOps>,
    &segmentation_head_rows<simd::ScalarOps>,
};

}  // namespace edgevision::kernels
