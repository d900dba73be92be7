// The avx512 table: the AVX2 kernels, except where sixteen lanes pay (simd/ops_avx512.hpp):
// the rotated crop into a float NHWC tensor and the axis-aligned mask upsampling. Compile flags
// for this file are set in CMakeLists.txt.
#include "simd/ops_scalar.hpp"
#include "simd/ops_avx2.hpp"
#include "simd/ops_avx512.hpp"

#include "kernels/blend.inl"
#include "kernels/blur.inl"
#include "kernels/kernel_table.hpp"
#include "kernels/resample_mask.inl"
#include "kernels/sample_image.inl"
#include "kernels/segmentation_head.inl"
#include "kernels/smooth_mask.inl"

namespace edgevision::kernels {

extern const KernelTable k_avx512_kernels = {
    &sample_image<simd::Avx2Ops, simd::Avx512Ops>, &resample_mask_separable<simd::Avx512Ops>,
    &resample_mask_affine<simd::Avx2Ops>,          &box_downsample<simd::Avx2Ops>,
    &gaussian_blur<simd::Avx2Ops>,                 &blend<simd::Avx2Ops>,
    &smooth_mask<simd::Avx2Ops>,                   &upsample_background_rows<simd::Avx2Ops>,
    &segmentation_head_rows<simd::Avx2Ops>,
};

}  // namespace edgevision::kernels
