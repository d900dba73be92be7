// The avx2 instantiation of the SAM 2 kernels (compile flags for this file are set in CMakeLists.txt).
#include "simd/ops_scalar.hpp"
#include "simd/ops_avx2.hpp"

#include "sam2/fourier_features.inl"
#include "sam2/kernel_table.hpp"
#include "sam2/upsample_threshold.inl"

namespace edgevision::sam2_kernels {

extern const Sam2KernelTable k_avx2_table = {&upsample_threshold<simd::Avx2Ops>, &fourier_features<simd::Avx2Ops>};

}  // namespace edgevision::sam2_kernels
