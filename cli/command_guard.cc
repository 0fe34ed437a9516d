#include "cli/command_guard.h"

namespace equiv::cli {

std::string DescribeCurrentException() {
  try {
    throw;
  } catch (const Error& e) {
    return Printable(e.what());
  } catch (const std::bad_alloc&) {
    return "out of memory (std::bad_alloc): the input needs more memory than the process may "
           "use";
  } catch (const std::system_error& e) {
    return "system error: " + Printable(e.what()) + " (" + e.code().category().name() + " " +
           std::to_string(e.code().value()) + ")";
  } catch (const std::exception& e) {
    return Printable(e.what());
  } catch (...) {
    return "an unknown exception";
  }
}

}  // namespace equiv::cli
