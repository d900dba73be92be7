// The helper threads that share the kernels' rows (`threads=` > 1), seen from a pipeline.
#pragma once

#include <chrono>

namespace edgevision {

// Called just before a wait of known length (a model's inference) that a multi-threaded kernel
// follows: helpers idle meanwhile sleep until `after` from now, then watch for that kernel's job
// for at most `window`, so it starts with them awake instead of waiting for a wake-up (20-350 us
// on a VM, the helpers' whole share of a sub-millisecond kernel). The first job in the window
// spends the hint. Costs their cores up to `window` of spinning; a later call replaces the hint.
// No result depends on it. Waking a parked helper to take the hint costs the caller a cross-core
// wake-up (~20-30 us on a VM): with `wake_parked` false the hint is dropped instead when a helper
// is parked (give it early, while the helpers still watch after a kernel, and again later if it
// was dropped). Returns whether the hint was taken.
bool expect_parallel_work(std::chrono::microseconds after, std::chrono::microseconds window,
                          bool wake_parked = true);

}  // namespace edgevision
