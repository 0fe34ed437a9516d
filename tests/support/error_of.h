// The message of the equiv::Error a callable throws, for tests that assert on its words.
#ifndef EQUIV_TESTS_SUPPORT_ERROR_OF_H_
#define EQUIV_TESTS_SUPPORT_ERROR_OF_H_

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::testing_support {

// "no error" when `f` returns normally.
template <typename F>
std::string ErrorOf(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_ERROR_OF_H_
