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
