// The geometry of a mask resize (resize_mask's taps and tables), shared by resize_mask and the
// composite, which upsamples a low-resolution mask row by row inside its blend.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "edgevision/resize_mask.hpp"
#include "kernels/jobs.hpp"

namespace edgevision {

struct MaskResamplePlan {
  kernels::ResampleMaskJob job;  // everything but `out` and the scratch; its tables point into the vectors below
  bool separable = false;        // axis-aligned map: the per-column / per-row tables are set
  std::vector<int32_t> ints;
  std::vector<float> floats;
  // The geometry the tables were built for: a video's frames share it, so a thread's plan
  // keeps its tables from call to call.
  std::array<double, 14> tables_key{};
  bool has_tables = false;
};

void plan_mask_resample(const PlaneView<float>& mask, const MaskResize& options, MaskResamplePlan& plan);

// Runs a planned resize (its `out` set) over all its rows, shared among up to `threads` workers
// (the caller and helper threads), each with its own scratch.
void run_mask_resample(const MaskResamplePlan& plan, int threads);

}  // namespace edgevision
