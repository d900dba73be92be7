#include <cstdio>

#include "check.hpp"
#include "edgevision/isa.hpp"

namespace edgevision::testing {

namespace {
int g_failures_in_case = 0;
}

std::vector<TestCase>& registry() {
  static std::vector<TestCase> cases;
  return cases;
}

void record_failure(const char* file, int line, const std::string& what) {
  if (g_failures_in_case++ < 5) std::printf("  FAILED %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace edgevision::testing

int main() {
  using namespace edgevision;
  std::printf("SIMD paths:");
  for (Isa isa : supported_isas()) std::printf(" %s", isa_name(isa));
  std::printf("\n");
  int passed = 0, failed = 0;
  for (const auto& test : testing::registry()) {
    testing::g_failures_in_case = 0;
    test.body();
    unforce_isa();
    if (testing::g_failures_in_case == 0) {
      ++passed;
    } else {
      ++failed;
      std::printf("%s: %d failure(s)\n", test.name, testing::g_failures_in_case);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
