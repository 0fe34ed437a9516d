# The package test: installs this build to a fresh prefix, then builds examples/ alone
# against it with find_package(equiv) and runs the given examples' tests there.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DTARGETS="a;b" -DTESTS=regex
#         [-DCXX=... -DCXX_FLAGS=... -DLINKER_FLAGS=... -DBUILD_TYPE=... -DWERROR=ON]
#         -P find_package_test.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR TARGETS TESTS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "find_package_test: -D${var}= is required")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "find_package_test: ${what} failed (${rc}): ${ARGN}")
  endif()
endfunction()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/examples")
file(REMOVE_RECURSE "${WORK_DIR}")
run("install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
# Only the installed tree may be used: no path into the source or build tree of equiv.
run("configure examples/ against the package" ${CMAKE_COMMAND}
    -S "${SOURCE_DIR}/examples" -B "${build}"
    -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DCMAKE_CXX_COMPILER=${CXX}
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
    -DCMAKE_COMPILE_WARNING_AS_ERROR=${WERROR})
run("build" ${CMAKE_COMMAND} --build "${build}" --target ${TARGETS})
run("run the examples' tests" ${CMAKE_CTEST_COMMAND} --test-dir "${build}" -R "${TESTS}"
    --output-on-failure --no-tests=error)
