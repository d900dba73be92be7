// The helper pool behind run_chunks: helpers watch for a job for a moment, then park on a
// condition variable (notified only when one is parked), and join a job only while it is open.
// One 64-bit state word carries the job's generation, an "open" bit and the number of helpers
// inside, so a helper that woke for an older job cannot join a newer one.
#include "parallel/chunks.hpp"

#include "edgevision/helper_threads.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#if !defined(_WIN32)
#include <pthread.h>
#endif

namespace edgevision::parallel {
namespace {

constexpr uint64_t kOpen = uint64_t{1} << 31;
constexpr uint64_t kInsideMask = kOpen - 1;

uint64_t state_of(uint64_t generation, bool open) { return generation << 32 | (open ? kOpen : 0); }

// A helper that finishes a job watches for the next one this long before it parks: the steps of
// one kernel (a blur's downsample, Gaussian and blend) follow each other within microseconds,
// while waking a parked helper takes 20-350 us on a VM.
constexpr auto kSpin = std::chrono::microseconds(100);

using Clock = std::chrono::steady_clock;

struct Pool {
  std::mutex mutex;
  std::condition_variable wake;
  uint64_t generation = 0;  // under mutex: bumped per published job
  // expect_job's hint, in steady-clock ticks: parked helpers sleep until `watch_from`, then
  // watch for a job until `watch_until` (re-read while watching: a new hint replaces the window
  // at once), or until a job comes in the window (it spends the hint). Written under mutex.
  // Both in the past: no hint.
  std::atomic<Clock::rep> watch_from{0}, watch_until{0};
  std::atomic<uint64_t> published{0};  // `generation`, for helpers watching without the mutex
  std::atomic<uint64_t> job_wake_ups{0};  // jobs that had to notify a parked helper
  int helpers = 0;          // started (under mutex)
  int parked = 0;           // helpers waiting on `wake` (under mutex)
  std::atomic<bool> busy{false};  // a caller owns the job fields below
  // The job: written by its owner before the state opens, read by helpers that joined.
  ChunkFn fn = nullptr;
  void* context = nullptr;
  int64_t count = 0, chunk = 1;
  int workers = 1;
  std::atomic<int64_t> next{0};
  std::atomic<uint64_t> state{0};
};

// Never destroyed: parked helpers wait on its condition variable until the process ends. A
// forked child has none of the parent's helpers (and perhaps a mutex one of them held), so it
// starts over with a new pool.
std::atomic<Pool*> g_pool{nullptr};

void work(Pool& pool, int worker) {
  for (;;) {
    const int64_t begin = pool.next.fetch_add(pool.chunk, std::memory_order_relaxed);
    if (begin >= pool.count) return;
    pool.fn(pool.context, worker, begin, std::min(begin + pool.chunk, pool.count));
  }
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Whether a job after `seen` is published while keep_watching(now) holds (asked every 64 polls).
template <class KeepWatching>
bool watch_for_job(const Pool& pool, uint64_t seen, KeepWatching keep_watching) {
  for (unsigned k = 1;; ++k) {
    if (pool.published.load(std::memory_order_acquire) != seen) return true;
    if (k % 64 == 0 && !keep_watching(Clock::now())) return false;
    cpu_relax();
  }
}

Clock::time_point tick_time(const std::atomic<Clock::rep>& ticks) {
  return Clock::time_point(Clock::duration(ticks.load(std::memory_order_relaxed)));
}

// Parks until a job after `seen` is published; with a hint (expect_job), sleeps only until its
// watch window opens and watches through it.
void park(Pool& pool, uint64_t seen) {
  std::unique_lock<std::mutex> lock(pool.mutex);
  ++pool.parked;
  while (pool.generation == seen) {
    const Clock::time_point now = Clock::now(), from = tick_time(pool.watch_from);
    if (tick_time(pool.watch_until) <= now) {
      pool.wake.wait(lock);
    } else if (from > now) {
      pool.wake.wait_until(lock, from);
    } else {  // inside the window: watch without the mutex, counted as not parked (no notify needed)
      --pool.parked;
      lock.unlock();
      watch_for_job(pool, seen, [&](Clock::time_point t) {
        return t < tick_time(pool.watch_until) && t >= tick_time(pool.watch_from);
      });
      lock.lock();
      ++pool.parked;
    }
  }
  --pool.parked;
}

// `seen`: the generation before the job this helper was started for.
void helper_main(Pool* pool, int index, uint64_t seen) {
  for (;;) {
    const Clock::time_point spin_end = Clock::now() + kSpin;
    if (!watch_for_job(*pool, seen, [&](Clock::time_point t) { return t < spin_end; })) park(*pool, seen);
    seen = pool->published.load(std::memory_order_acquire);
    // Join only the latest job, and only while it is open.
    uint64_t s = pool->state.load(std::memory_order_acquire);
    bool joined = false;
    while ((s & ~kInsideMask) == state_of(seen, true)) {
      if (pool->state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) {
        joined = true;
        break;
      }
    }
    if (joined) {
      if (index + 1 < pool->workers) work(*pool, index + 1);
      pool->state.fetch_sub(1, std::memory_order_release);
    }
  }
}

Pool& pool() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  if (p) return *p;
  static std::once_flag once;
  std::call_once(once, [] {
    g_pool.store(new Pool, std::memory_order_release);
#if !defined(_WIN32)
    pthread_atfork(nullptr, nullptr, [] { g_pool.store(new Pool, std::memory_order_release); });
#endif
  });
  return *g_pool.load(std::memory_order_acquire);
}

// Read once: glibc answers hardware_concurrency() by opening and parsing a sysfs file, which
// cost ~10 us on every kernel call.
int cores() {
  static const int count = [] {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? kMaxWorkers : static_cast<int>(n);
  }();
  return count;
}

}  // namespace

int usable_workers(int workers) { return std::max(1, std::min({workers, kMaxWorkers, cores()})); }

RowSplit split_rows(int64_t rows, int64_t row_pixels, int threads) {
  const int64_t wanted = std::max<int64_t>(1, rows * row_pixels / kPixelsPerWorker);
  const int workers = usable_workers(static_cast<int>(std::min<int64_t>(std::max(threads, 1), wanted)));
  const int64_t chunks = int64_t{workers} * kChunksPerWorker;
  return {workers, std::max<int64_t>(1, (rows + chunks - 1) / chunks)};
}

bool expect_job(std::chrono::microseconds after, std::chrono::microseconds window, bool wake_parked) {
  Pool& p = pool();
  const Clock::time_point from = Clock::now() + std::max(after, std::chrono::microseconds(0));
  const Clock::time_point until = from + std::max(window, std::chrono::microseconds(0));
  bool any_parked;
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (!wake_parked && p.parked > 0) return false;
    p.watch_from.store(from.time_since_epoch().count(), std::memory_order_relaxed);
    p.watch_until.store(until.time_since_epoch().count(), std::memory_order_relaxed);
    any_parked = p.parked > 0;
  }
  // Helpers still watching after their last job read the hint when they park; parked ones
  // must wake once to sleep until the window instead.
  if (any_parked) p.wake.notify_all();
  return true;
}

void PendingChunks::start(int64_t count, int64_t chunk, int workers, ChunkFn fn, void* context) {
  finish();
  if (count <= 0) return;
  fn_ = fn;
  context_ = context;
  count_ = count;
  chunk = std::max<int64_t>(chunk, 1);
  workers = usable_workers(workers);
  Pool& p = pool();
  if (workers <= 1 || p.busy.exchange(true, std::memory_order_acquire)) return;  // finish() runs it all
  published_ = true;
  p.fn = fn;
  p.context = context;
  p.count = count;
  p.chunk = chunk;
  p.workers = workers;
  p.next.store(0, std::memory_order_relaxed);
  bool any_parked;
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    while (p.helpers < workers - 1) {
      try {
        std::thread(helper_main, &p, p.helpers, p.generation).detach();
      } catch (const std::system_error&) {  // no thread to be had: fewer helpers
        break;
      }
      ++p.helpers;
    }
    const Clock::rep now = Clock::now().time_since_epoch().count();
    if (p.watch_from.load(std::memory_order_relaxed) <= now && now < p.watch_until.load(std::memory_order_relaxed))
      p.watch_until.store(0, std::memory_order_relaxed);  // the expected job: later ones park as usual
    ++p.generation;
    p.state.store(state_of(p.generation, true), std::memory_order_release);
    p.published.store(p.generation, std::memory_order_release);
    any_parked = p.parked > 0;
  }
  if (any_parked) {
    p.job_wake_ups.fetch_add(1, std::memory_order_relaxed);
    p.wake.notify_all();  // helpers still watching see `published` change
  }
}

uint64_t job_wake_ups() { return pool().job_wake_ups.load(std::memory_order_relaxed); }

void PendingChunks::finish() {
  if (fn_ == nullptr) return;
  if (!published_) {
    fn_(context_, 0, 0, count_);
  } else {
    Pool& p = pool();
    work(p, 0);
    // Close the job, then wait for the helpers inside it (each finishes at most its last chunk).
    uint64_t s = p.state.load(std::memory_order_relaxed);
    while (!p.state.compare_exchange_weak(s, s & ~kOpen, std::memory_order_acq_rel)) {
    }
    for (int spins = 0; (p.state.load(std::memory_order_acquire) & kInsideMask) != 0; ++spins) {
      if (spins > 64) std::this_thread::yield();
    }
    p.busy.store(false, std::memory_order_release);
  }
  fn_ = nullptr;
  published_ = false;
}

void run_chunks(int64_t count, int64_t chunk, int workers, ChunkFn fn, void* context) {
  chunk = std::max<int64_t>(chunk, 1);
  PendingChunks job;  // the caller takes a chunk at once: no more workers than chunks
  job.start(count, chunk, static_cast<int>(std::min<int64_t>(workers, (count + chunk - 1) / chunk)), fn, context);
  job.finish();
}

}  // namespace edgevision::parallel

namespace edgevision {
bool expect_parallel_work(std::chrono::microseconds after, std::chrono::microseconds window, bool wake_parked) {
  return parallel::expect_job(after, window, wake_parked);
}
}  // namespace edgevision
