// The per-ISA table of the SAM 2 kernels (table_<isa>.cpp instantiate them over the shared
// simd/ops_<isa>.hpp layer), and the table of the path in use.
#pragma once

#include "edgevision/isa.hpp"
#include "sam2/upsample_job.hpp"

namespace edgevision::sam2_kernels {

struct Sam2KernelTable {
  void (*upsample_threshold)(const UpsampleThresholdJob&);
  // out[k] = sin(a_k), out[k + 128] = cos(a_k), a_k = 2 pi (cx g[0][k] + cy g[1][k]) (fourier_features.inl)
  void (*fourier_features)(float cx, float cy, const float* gaussian, float* out);
};

const Sam2KernelTable& table_for(Isa isa);

}  // namespace edgevision::sam2_kernels
