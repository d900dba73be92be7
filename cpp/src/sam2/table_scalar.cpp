// The scalar instantiation of the SAM 2 mask kernels (compile flags for this file are set in CMakeLists.txt).
#include "simd/ops_scalar.hpp"

#include "sam2/upsample_threshold.inl"

namespace edgevision::sam2_kernels {

extern const Sam2KernelTable k_scalar_table = {&upsample_threshold<simd::ScalarOps>};

}  // namespace edgevision::sam2_kernels
