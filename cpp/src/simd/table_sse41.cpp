// The sse41 instantiation of every kernel (compile flags for this file are set in CMakeLists.txt).
#include "simd/ops_scalar.hpp"
#include "simd/ops_sse41.hpp"

#include "kernels/blend.inl"
#include "kernels/blur.inl"
#include "kernels/kernel_table.hpp"
#include "kernels/resample_mask.inl"
#include "kernels/sample_image.inl"
#include "kernels/segmentation_head.inl"
#include "kernels/smooth_mask.inl"

namespace edgevision::kernels {

extern const KernelTable k_sse41_kernels = {
    &sample_image<simd::Sse41Ops>,    &resample_mask_separable<simd::Sse41Ops>,
    &resample_mask_affine<simd::Sse41Ops>, &box_downsample<simd::Sse41Ops>,
    &gaussian_blur<simd::Sse41Ops>,   &blend<simd::Sse41Ops>,
    &smooth_mask<simd::Sse41Ops>, &upsample_background_rows<simd::Sse41Ops>,
    &segmentation_head_rows<simd::Sse41Ops>,
};

}  // namespace edgevision::kernels
