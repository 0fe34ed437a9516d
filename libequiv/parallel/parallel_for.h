// Deterministic parallelism: work is cut into chunks whose boundaries depend only on the
// data size, each chunk writes only its own result slot, and results are combined in chunk
// order by the caller. So the outcome is bit-identical whatever the thread count.
#ifndef EQUIV_LIBEQUIV_PARALLEL_PARALLEL_FOR_H_
#define EQUIV_LIBEQUIV_PARALLEL_PARALLEL_FOR_H_

#include <cstdint>
#include <functional>

namespace equiv {

// `requested` > 0 is taken as it is; 0 means the EQUIV_THREADS environment variable if set,
// else the hardware concurrency.
int ResolveThreadCount(int requested);

// Calls fn(chunk) once for every chunk in [0, chunks), on up to `threads` threads (0: see
// ResolveThreadCount). Returns when all calls have returned; rethrows the first exception. A
// thread the system refuses to start (std::system_error) is done without: fewer threads run the
// chunks, and results never depend on how many.
void ParallelForChunks(std::int64_t chunks, int threads,
                       const std::function<void(std::int64_t)>& fn);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_PARALLEL_PARALLEL_FOR_H_
