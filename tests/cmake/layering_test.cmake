# The layering check (cmake/EquivLibrary.cmake, EquivCheckLayering.cmake) refuses what it must:
# an #include of a library that is not below the includer, an internal/ header included from
# outside its library or from an example, and libraries that depend on each other in a cycle. Run by CTest:
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -P layering_test.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "layering_test: -D${var}= is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")

# A tree of two libraries, low and high (high depends on low), where low includes high.
set(tree "${WORK_DIR}/tree")
file(WRITE "${tree}/low/low.h" "#include \"high/high.h\"\n")
file(WRITE "${tree}/high/high.h" "#include \"low/low.h\"\n")
# An internal/ header: low's own files may include it; high and an example may not.
file(WRITE "${tree}/low/internal/detail.h" "int Detail();\n")
file(WRITE "${tree}/low/low.cc" "#include \"low/internal/detail.h\"\n")
file(WRITE "${tree}/high/high.cc" "#include \"low/internal/detail.h\"\n")
file(WRITE "${tree}/examples/100-use.cpp" "#include \"low/internal/detail.h\"\n")
file(WRITE "${WORK_DIR}/manifest.cmake"
     "set(EQUIV_LIBRARIES \"low;high\")\n"
     "set(EQUIV_LIBRARY_low_FOLDERS \"low\")\nset(EQUIV_LIBRARY_low_ALLOWED \"\")\n"
     "set(EQUIV_LIBRARY_high_FOLDERS \"high\")\nset(EQUIV_LIBRARY_high_ALLOWED \"low\")\n")
execute_process(
  COMMAND ${CMAKE_COMMAND} -DMANIFEST=${WORK_DIR}/manifest.cmake -DSOURCE_DIR=${tree}
          -DSTAMP=${WORK_DIR}/stamp -P ${SOURCE_DIR}/cmake/EquivCheckLayering.cmake
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "layering_test: low including high passed the check")
endif()
string(FIND "${err}" "low/low.h includes high/high.h: equiv::low may not depend on equiv::high"
       at)
if(at EQUAL -1)
  message(FATAL_ERROR "layering_test: the check failed without naming the include:\n${err}")
endif()
foreach(expected
    "high/high.cc includes low/internal/detail.h: an internal/ header is for equiv::low's own files"
    "examples/100-use.cpp includes low/internal/detail.h: an example uses the public headers only")
  string(FIND "${err}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "layering_test: the check let an internal include pass:\n${err}")
  endif()
endforeach()
string(FIND "${err}" "low/low.cc includes" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "layering_test: low including its own internal header was refused:\n${err}")
endif()
string(FIND "${err}" "high/high.h includes" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "layering_test: high including low (allowed) was refused:\n${err}")
endif()

# Two libraries depending on each other: the configure step stops, naming the cycle.
set(project "${WORK_DIR}/cycle")
file(WRITE "${project}/a.cc" "int A() { return 1; }\n")
file(WRITE "${project}/b.cc" "int B() { return 2; }\n")
file(WRITE "${project}/CMakeLists.txt"
     "cmake_minimum_required(VERSION 3.25)\nproject(cycle CXX)\n"
     "list(APPEND CMAKE_MODULE_PATH \"${SOURCE_DIR}/cmake\")\n"
     "include(EquivWarnings)\ninclude(EquivLibrary)\n"
     "equiv_add_library(a FOLDERS a SOURCES a.cc DEPENDS b)\n"
     "equiv_add_library(b FOLDERS b SOURCES b.cc DEPENDS a)\n"
     "equiv_check_layering()\n")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${project} -B ${project}/build
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "layering_test: a cycle of libraries configured")
endif()
string(FIND "${err}" "the libraries depend on each other in a cycle: a -> b -> a" at)
if(at EQUAL -1)
  message(FATAL_ERROR "layering_test: the configure failed without naming the cycle:\n${err}")
endif()
message(STATUS "layering_test: a bad include, an internal include and a cycle are all refused")
