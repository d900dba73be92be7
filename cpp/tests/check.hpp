// A minimal test harness: CHECK records failures, main prints "N passed, N failed".
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace edgevision::testing {

struct TestCase {
  const char* name;
  std::function<void()> body;
};

std::vector<TestCase>& registry();
void record_failure(const char* file, int line, const std::string& what);

struct Register {
  Register(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

}  // namespace edgevision::testing

#define EV_CONCAT2(a, b) a##b
#define EV_CONCAT(a, b) EV_CONCAT2(a, b)
#define TEST(name)                                                                   \
  static void name();                                                                \
  static ::edgevision::testing::Register EV_CONCAT(register_, name)(#name, &name);   \
  static void name()
#define CHECK(cond)                                                                                  \
  do {                                                                                               \
    if (!(cond)) ::edgevision::testing::record_failure(__FILE__, __LINE__, #cond);                   \
  } while (0)
#define CHECK_MSG(cond, msg)                                                                         \
  do {                                                                                               \
    if (!(cond)) ::edgevision::testing::record_failure(__FILE__, __LINE__, std::string(#cond) + ": " + (msg)); \
  } while (0)
