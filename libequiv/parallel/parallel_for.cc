#include "libequiv/parallel/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace equiv {

int ResolveThreadCount(int requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("EQUIV_THREADS")) {
    const int from_env = std::atoi(env);
    if (from_env > 0) return from_env;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

void ParallelForChunks(std::int64_t chunks, int threads,
                       const std::function<void(std::int64_t)>& fn) {
  const auto workers =
      static_cast<int>(std::min<std::int64_t>(ResolveThreadCount(threads), chunks));
  if (workers <= 1) {
    for (std::int64_t c = 0; c < chunks; ++c) fn(c);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (std::int64_t c; (c = next.fetch_add(1)) < chunks;) {
      try {
        fn(c);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::jthread> pool;
  for (int w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones running (and this one) do the rest
    }
  }
  work();
  pool.clear();  // joins
  if (error) std::rethrow_exception(error);
}

}  // namespace equiv
