# equiv_add_component_suite: a component suite declared in a few lines, built as one gtest
# program and discovered by CTest (one test per component, layer and input kind).
#
#   equiv_add_component_suite(tiny_llama_suite
#     CONFIG   ${PROJECT_SOURCE_DIR}/configs/tiny-llama.json
#     PORT     builtin                     # or a port your SOURCES register (RegisterPort)
#     SOURCES  my_port.cc                  # compiled into the suite program
#     MAPPING  builtin                     # or a component_mapping.json
#     DEVICE   tp2_bucket32-64             # a DeviceConfig name
#     REGIME   int8-weight                 # the precision regime (default bf16; docs/regimes.md)
#     FAULTS   softmax_bf16                # catalog faults to switch on (none: a clean port)
#     SAMPLING first-middle-last           # all (default), first-middle-last, every:K
#     THRESHOLDS thresholds.json           # optional: tau and per-component taus
#     RESULTS  ${CMAKE_BINARY_DIR}/results/tiny_llama_suite.json
#     LABELS   component)
# The suite's main program: beside this file once installed, in fixtures/ in the source tree.
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/suite_main.cc")
  set(EQUIV_SUITE_MAIN "${CMAKE_CURRENT_LIST_DIR}/suite_main.cc" CACHE INTERNAL "")
else()  # the source tree: this file is in generators/
  set(EQUIV_SUITE_MAIN "${CMAKE_CURRENT_LIST_DIR}/../fixtures/suite_main.cc" CACHE INTERNAL "")
endif()

function(equiv_add_component_suite name)
  cmake_parse_arguments(ARG "" "CONFIG;PORT;MAPPING;DEVICE;REGIME;SAMPLING;THRESHOLDS;RESULTS"
                        "SOURCES;FAULTS;LABELS" ${ARGN})
  if(NOT ARG_CONFIG)
    message(FATAL_ERROR "equiv_add_component_suite(${name}): CONFIG is required")
  endif()
  if(NOT ARG_PORT)
    set(ARG_PORT builtin)
  endif()
  if(NOT ARG_PORT STREQUAL "builtin" AND NOT ARG_SOURCES)
    message(FATAL_ERROR "equiv_add_component_suite(${name}): PORT ${ARG_PORT} needs the SOURCES "
                        "that register it (equiv::RegisterPort)")
  endif()
  if(NOT ARG_MAPPING)
    set(ARG_MAPPING builtin)
  endif()
  if(NOT ARG_DEVICE)
    set(ARG_DEVICE tp1)
  endif()
  if(NOT ARG_REGIME)
    set(ARG_REGIME bf16)
  endif()
  if(NOT ARG_SAMPLING)
    set(ARG_SAMPLING all)
  endif()
  if(NOT ARG_RESULTS)
    set(ARG_RESULTS "${CMAKE_BINARY_DIR}/results/${name}.json")
  endif()
  list(JOIN ARG_FAULTS "," faults)
  get_filename_component(model "${ARG_CONFIG}" NAME_WE)
  add_executable(${name} "${EQUIV_SUITE_MAIN}" ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE equiv::fixtures)
  target_compile_definitions(${name} PRIVATE
    EQUIV_SUITE_NAME="${name}"
    EQUIV_SUITE_CONFIG="${ARG_CONFIG}"
    EQUIV_SUITE_MODEL="${model}"
    EQUIV_SUITE_PORT="${ARG_PORT}"
    EQUIV_SUITE_MAPPING="${ARG_MAPPING}"
    EQUIV_SUITE_DEVICE="${ARG_DEVICE}"
    EQUIV_SUITE_REGIME="${ARG_REGIME}"
    EQUIV_SUITE_FAULTS="${faults}"
    EQUIV_SUITE_SAMPLING="${ARG_SAMPLING}"
    EQUIV_SUITE_THRESHOLDS="${ARG_THRESHOLDS}"
    EQUIV_SUITE_RESULTS="${ARG_RESULTS}")
  # The gtest names already start with the suite's name: no TEST_PREFIX.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests splits a list-valued property ("suite;component" becomes LABELS
  # suite plus a stray argument, CMake issue 17812), so the labels are set by a script ctest
  # reads after the discovered tests, over the list of their names.
  set(labels suite ${ARG_LABELS})
  set(labels_script "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${labels_script}"
       "foreach(test IN LISTS ${name}_TESTS)\n"
       "  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${labels}\")\n"
       "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_script}")
endfunction()
