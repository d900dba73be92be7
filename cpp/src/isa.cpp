#include "edgevision/isa.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "kernels/kernel_table.hpp"

namespace edgevision {

namespace kernels {
extern const KernelTable k_scalar_kernels;
#if defined(EDGEVISION_HAVE_X86)
extern const KernelTable k_sse41_kernels;
extern const KernelTable k_avx2_kernels;
extern const KernelTable k_avx512_kernels;
#endif
#if defined(EDGEVISION_HAVE_NEON)
extern const KernelTable k_neon_kernels;
#endif

const KernelTable& table_for(Isa isa) {
  switch (isa) {
#if defined(EDGEVISION_HAVE_X86)
    case Isa::sse41:
      return k_sse41_kernels;
    case Isa::avx2:
      return k_avx2_kernels;
    case Isa::avx512:
      return k_avx512_kernels;
#endif
#if defined(EDGEVISION_HAVE_NEON)
    case Isa::neon:
      return k_neon_kernels;
#endif
    default:
      return k_scalar_kernels;
  }
}
}  // namespace kernels

namespace {

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(EDGEVISION_HAVE_X86)
    case Isa::sse41:
      return __builtin_cpu_supports("sse4.1");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2");
    case Isa::avx512:  // libgcc's checks include the OS saving the AVX-512 state (XCR0)
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#endif
#if defined(EDGEVISION_HAVE_NEON)
    case Isa::neon:
      return true;  // baseline on aarch64
#endif
    default:
      return false;
  }
}

constexpr int kNotForced = -1;

// EDGEVISION_ISA lets a user pin a path (e.g. to rule SIMD out while debugging).
int initial_forced_isa() {
  const char* name = std::getenv("EDGEVISION_ISA");
  if (name == nullptr || *name == '\0') return kNotForced;
  try {
    const Isa isa = isa_from_name(name);
    if (cpu_supports(isa)) return static_cast<int>(isa);
  } catch (const std::invalid_argument&) {
  }
  return kNotForced;
}

std::atomic<int>& forced_isa() {
  static std::atomic<int> forced{initial_forced_isa()};
  return forced;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::sse41:
      return "sse41";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::neon:
      return "neon";
    default:
      return "scalar";
  }
}

Isa isa_from_name(const std::string& name) {
  for (Isa isa : {Isa::scalar, Isa::sse41, Isa::avx2, Isa::avx512, Isa::neon})
    if (name == isa_name(isa)) return isa;
  throw std::invalid_argument("unknown ISA '" + name + "' (expected scalar, sse41, avx2, avx512 or neon)");
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::scalar, Isa::sse41, Isa::avx2, Isa::avx512, Isa::neon})
    if (cpu_supports(isa)) isas.push_back(isa);
  return isas;
}

Isa best_isa() {
  static const Isa best = supported_isas().back();
  return best;
}

Isa active_isa() {
  const int forced = forced_isa().load(std::memory_order_relaxed);
  return forced == kNotForced ? best_isa() : static_cast<Isa>(forced);
}

void force_isa(Isa isa) {
  if (!cpu_supports(isa)) throw std::invalid_argument(std::string("ISA '") + isa_name(isa) + "' is not supported here");
  forced_isa().store(static_cast<int>(isa), std::memory_order_relaxed);
}

void unforce_isa() { forced_isa().store(kNotForced, std::memory_order_relaxed); }

}  // namespace edgevision
