# equiv_add_component_suite: a component suite declared in a few lines, built as one gtest
# program and discovered by CTest (one test per component, layer and input kind).
#
#   equiv_add_component_suite(tiny_llama_suite
#     CONFIG   ${PROJECT_SOURCE_DIR}/configs/tiny-llama.json
#     MAPPING  builtin                     # or a component_mapping.json
#     DEVICE   tp2_bucket32-64             # a DeviceConfig name
#     FAULTS   softmax_bf16                # catalog faults to switch on (none: a clean port)
#     SAMPLING first-middle-last           # all (default), first-middle-last, every:K
#     THRESHOLDS thresholds.json           # optional: tau and per-component taus
#     RESULTS  ${CMAKE_BINARY_DIR}/results/tiny_llama_suite.json
#     LABELS   component)
set(EQUIV_SUITE_MAIN "${CMAKE_CURRENT_LIST_DIR}/../fixtures/suite_main.cc" CACHE INTERNAL "")

function(equiv_add_component_suite name)
  cmake_parse_arguments(ARG "" "CONFIG;MAPPING;DEVICE;SAMPLING;THRESHOLDS;RESULTS"
                        "FAULTS;LABELS" ${ARGN})
  if(NOT ARG_CONFIG)
    message(FATAL_ERROR "equiv_add_component_suite(${name}): CONFIG is required")
  endif()
  if(NOT ARG_MAPPING)
    set(ARG_MAPPING builtin)
  endif()
  if(NOT ARG_DEVICE)
    set(ARG_DEVICE tp1)
  endif()
  if(NOT ARG_SAMPLING)
    set(ARG_SAMPLING all)
  endif()
  if(NOT ARG_RESULTS)
    set(ARG_RESULTS "${CMAKE_BINARY_DIR}/results/${name}.json")
  endif()
  list(JOIN ARG_FAULTS "," faults)
  get_filename_component(model "${ARG_CONFIG}" NAME_WE)
  add_executable(${name} "${EQUIV_SUITE_MAIN}")
  target_link_libraries(${name} PRIVATE equiv::fixtures)
  target_compile_definitions(${name} PRIVATE
    EQUIV_SUITE_NAME="${name}"
    EQUIV_SUITE_CONFIG="${ARG_CONFIG}"
    EQUIV_SUITE_MODEL="${model}"
    EQUIV_SUITE_MAPPING="${ARG_MAPPING}"
    EQUIV_SUITE_DEVICE="${ARG_DEVICE}"
    EQUIV_SUITE_FAULTS="${faults}"
    EQUIV_SUITE_SAMPLING="${ARG_SAMPLING}"
    EQUIV_SUITE_THRESHOLDS="${ARG_THRESHOLDS}"
    EQUIV_SUITE_RESULTS="${ARG_RESULTS}")
  # The gtest names already start with "${name}." (the test suite is the suite's name).
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_LIST ${name}_TESTS)
  # Labels are set after discovery: gtest_discover_tests' PROPERTIES flattens a list value,
  # so LABELS "suite;component" would lose every label after the first (CMake 3.25).
  set(labels suite ${ARG_LABELS})
  set(labels_script "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${labels_script}"
       "if(${name}_TESTS)\n"
       "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS [==[${labels}]==])\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_script}")
endfunction()
