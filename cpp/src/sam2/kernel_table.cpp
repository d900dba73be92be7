// Which ISA's SAM 2 kernels run.
#include "sam2/kernel_table.hpp"

namespace edgevision::sam2_kernels {

extern const Sam2KernelTable k_scalar_table;
#if defined(EDGEVISION_HAVE_X86)
extern const Sam2KernelTable k_sse41_table;
extern const Sam2KernelTable k_avx2_table;
#endif
#if defined(EDGEVISION_HAVE_NEON)
extern const Sam2KernelTable k_neon_table;
#endif

const Sam2KernelTable& table_for(Isa isa) {
  switch (isa) {
#if defined(EDGEVISION_HAVE_X86)
    case Isa::sse41:
      return k_sse41_table;
    case Isa::avx2:
    case Isa::avx512:  // no wider SAM 2 kernels: the AVX2 ones
      return k_avx2_table;
#endif
#if defined(EDGEVISION_HAVE_NEON)
    case Isa::neon:
      return k_neon_table;
#endif
    default:
      return k_scalar_table;
  }
}

}  // namespace edgevision::sam2_kernels
