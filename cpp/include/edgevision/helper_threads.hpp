// The helper threads that share the kernels' rows (`threads=` > 1), seen from a pipeline.
#pragma once

#include <chrono>

namespace edgevision {

// Called just before a wait of known length (a model's inference) that a multi-threaded kernel
// follows: helpers idle meanwhile sleep until `after` from now, then watch for that kernel's job
// for at most `window`, so it starts with them awake instead of waiting for a wake-up (20-350 us
// on a VM, the helpers' whole share of a sub-millisecond kernel). The first job in the window
// spends the hint. Costs their cores up to `window` of spinning; a later call replaces the hint.
// No result depends on it.
void expect_parallel_work(std::chrono::microseconds after, std::chrono::microseconds window);

}  // namespace edgevision
