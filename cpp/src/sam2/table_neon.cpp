// The neon instantiation of the SAM 2 kernels (compile flags for this file are set in CMakeLists.txt).
#include "simd/ops_scalar.hpp"
#include "simd/ops_neon.hpp"

#include "sam2/fourier_features.inl"
#include "sam2/kernel_table.hpp"
#include "sam2/upsample_threshold.inl"

namespace edgevision::sam2_kernels {

extern const Sam2KernelTable k_neon_table = {&upsample_threshold<simd::NeonOps>, &fourier_features<simd::NeonOps>};

}  // namespace edgevision::sam2_kernels
