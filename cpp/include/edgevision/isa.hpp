// Which SIMD path the kernels run: chosen once from CPU features, switchable for tests.
#pragma once

#include <string>
#include <vector>

namespace edgevision {

enum class Isa { scalar, sse41, avx2, avx512, neon };  // avx512: F, BW, VL and DQ

const char* isa_name(Isa isa);
// Throws std::invalid_argument for an unknown name.
Isa isa_from_name(const std::string& name);
// Compiled into this build and supported by this CPU, scalar first.
std::vector<Isa> supported_isas();
Isa best_isa();
// The path in use: best_isa(), or the one forced (EDGEVISION_ISA at start-up, or force_isa).
Isa active_isa();
// Throws std::invalid_argument when `isa` is not supported here.
void force_isa(Isa isa);
void unforce_isa();

}  // namespace edgevision
