# Every dependency comes from a Debian package through find_package; a missing one stops
# the configure step with the name of the package that provides it.
function(equiv_require package debian_package)
  find_package(${package} ${ARGN} QUIET)
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR
      "equiv: ${package} not found. Install the Debian package '${debian_package}' "
      "(or run scripts/bootstrap.sh, which installs everything missing).")
  endif()
endfunction()

find_package(Threads REQUIRED)
equiv_require(Eigen3 libeigen3-dev 3.4 NO_MODULE)
equiv_require(nlohmann_json nlohmann-json3-dev 3.10)
equiv_require(CLI11 libcli11-dev 2.1 CONFIG)
# equiv::matchers extends GoogleTest/GoogleMock, so they are always needed.
equiv_require(GTest "libgtest-dev and libgmock-dev")
include(GoogleTest)
if(EQUIV_BUILD_BENCHMARKS)
  equiv_require(benchmark libbenchmark-dev)
endif()

# oneDNN (libdnnl-dev), optional: gemm_benchmark measures our GEMM against its matmul. The
# library itself never links it (docs/precision.md: its sums are not the same across thread
# counts and row counts). Found by header and library, not by dnnl-config.cmake, which also
# requires OpenCL for the GPU runtime Debian's build enables.
option(EQUIV_WITH_ONEDNN "Measure against oneDNN in gemm_benchmark when libdnnl-dev is installed" ON)
set(EQUIV_ONEDNN_FOUND OFF)
if(EQUIV_BUILD_BENCHMARKS AND EQUIV_WITH_ONEDNN)
  find_path(EQUIV_ONEDNN_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
  find_library(EQUIV_ONEDNN_LIBRARY dnnl)
  find_package(OpenMP QUIET COMPONENTS CXX)
  if(EQUIV_ONEDNN_INCLUDE_DIR AND EQUIV_ONEDNN_LIBRARY AND OpenMP_CXX_FOUND)
    set(EQUIV_ONEDNN_FOUND ON)
    message(STATUS "equiv: oneDNN found (${EQUIV_ONEDNN_LIBRARY}): gemm_benchmark measures it")
  else()
    message(STATUS "equiv: oneDNN not found (Debian: libdnnl-dev): gemm_benchmark without it")
  endif()
endif()
