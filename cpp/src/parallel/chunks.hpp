// Work split over the calling thread and a few shared helper threads, for kernels whose output
// is large enough to repay a second core (frame-size masks and composites, SAM 2's mask).
//
// The caller starts at once and never waits for a helper that has not started: chunks are
// claimed from a counter, and a helper that wakes after the caller has claimed the last chunk
// leaves without touching the job. Waking a parked helper takes 20-350 us on a VM, so a
// helper that wakes late only does less of the work. A helper watches for the next job for
// 100 us before it parks, so the steps of one kernel reach it without a wake-up.
#pragma once

#include <chrono>
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

// run_chunks in two steps, for work the helpers can do while the caller does something else
// (a model's inference): start() publishes the job and returns at once; finish() runs the
// chunks no helper has claimed on the calling thread and returns when every chunk is done.
// Until then the helpers belong to this job (other callers' jobs run alone), so finish soon.
// Without a free helper start() only records the job and finish() runs all of it.
class PendingChunks {
 public:
  PendingChunks() = default;
  PendingChunks(const PendingChunks&) = delete;
  PendingChunks& operator=(const PendingChunks&) = delete;
  ~PendingChunks() { finish(); }

  void start(int64_t count, int64_t chunk, int workers, ChunkFn fn, void* context);
  void finish();  // idempotent; call from one thread at a time
  bool pending() const { return fn_ != nullptr; }

 private:
  ChunkFn fn_ = nullptr;
  void* context_ = nullptr;
  int64_t count_ = 0;
  bool published_ = false;  // the helpers hold the job
};

template <class F>
void for_chunks(int64_t count, int64_t chunk, int workers, F& f) {
  run_chunks(
      count, chunk, workers,
      [](void* context, int worker, int64_t begin, int64_t end) { (*static_cast<F*>(context))(worker, begin, end); },
      &f);
}

// A hint from a caller about to wait (a model's inference) that it will publish a job in about
// `after`: helpers that park meanwhile sleep until then and watch for the job from there, for
// at most `window` (the first job in the window spends the hint; then they park as usual), so
// that job finds them awake instead of waiting 20-350 us for a wake-up on a VM. Costs the
// helpers' cores up to `window` of spinning; a later call replaces the hint. Results never
// depend on it. A parked helper must be woken to take the hint, which costs the caller a
// cross-core wake-up (~20-30 us on a VM); with `wake_parked` false the hint is dropped instead
// when one is parked. Returns whether the hint was taken.
bool expect_job(std::chrono::microseconds after, std::chrono::microseconds window, bool wake_parked = true);

// Jobs so far that found a helper parked and had to wake it (for tests of expect_job).
uint64_t job_wake_ups();

// Workers run_chunks would use for `workers` requested (the cores and kMaxWorkers cap it).
int usable_workers(int workers);

// How to share an output of `rows` rows of `row_pixels` pixels among at most `threads` workers:
// one worker per kPixelsPerWorker pixels (~0.1 ms of work; waking a helper costs the caller
// ~0.02 ms), and kChunksPerWorker chunks each, so that a helper that wakes late still takes a share.
struct RowSplit {
  int workers;
  int64_t chunk;  // rows per chunk
};
constexpr int64_t kPixelsPerWorker = int64_t{1} << 18;
constexpr int kChunksPerWorker = 8;
RowSplit split_rows(int64_t rows, int64_t row_pixels, int threads);

}  // namespace edgevision::parallel
