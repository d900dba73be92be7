// Work split over the calling thread and a few shared helper threads, for kernels whose output
// is large enough to repay a second core (SAM 2's mask at 1080p).
//
// The caller starts at once and never waits for a helper that has not started: chunks are
// claimed from a counter, and a helper that wakes after the caller has claimed the last chunk
// leaves without touching the job. Waking a parked helper takes 20-350 us on a VM, so a
// helper that wakes late only does less of the work.
#pragma once

#include <cstdint>
#include <type_traits>

namespace edgevision::parallel {

constexpr int kMaxWorkers = 4;  // the caller + up to 3 helpers

// Runs fn(context, worker, begin, end) over chunks [begin, end) of [0, count), each chunk once.
// `worker` is 0 on the calling thread and 1 .. workers - 1 on helpers (index per-worker
// scratch with it); one worker may get several chunks, in any order. Uses at most `workers`
// threads and the cores there are; the caller alone (one call over [0, count)) when
// workers <= 1 or the helpers are busy with another caller's job.
using ChunkFn = void (*)(void* context, int worker, int64_t begin, int64_t end);
void run_chunks(int64_t count, int64_t chunk, int workers, ChunkFn fn, void* context);

template <class F>
void for_chunks(int64_t count, int64_t chunk, int workers, F& f) {
  run_chunks(
      count, chunk, workers,
      [](void* context, int worker, int64_t begin, int64_t end) { (*static_cast<F*>(context))(worker, begin, end); },
      &f);
}

// Workers run_chunks would use for `workers` requested (the cores and kMaxWorkers cap it).
int usable_workers(int workers);

}  // namespace edgevision::parallel
