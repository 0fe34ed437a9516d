# equiv_add_dump_suite: the triples a port that runs elsewhere dumped (python/equiv_dump), as a
# CTest suite: one test per triple, labelled from its module path through the family's
# component table (component kind, layer, bottom-up order), judged and recorded as a generated
# suite's cases are. The tests are listed when ctest runs, by the installed program
# equiv::dump_suite reading the dumps, so a new dump file runs without a rebuild.
#
#   equiv_add_dump_suite(my_llama_dumps
#     DUMPS      ${CMAKE_CURRENT_SOURCE_DIR}/dumps        # a folder of .safetensors, or one file
#     CONFIG     ${CMAKE_CURRENT_SOURCE_DIR}/config.json  # the reference model's config.json
#     MAPPING    component_mapping.json                   # optional: the port's module paths
#     THRESHOLDS thresholds.json                          # optional: tau and per-component taus
#     REGIME     mxfp4-weight                             # optional: the port's precision regime (bf16)
#     RESULTS    ${CMAKE_BINARY_DIR}/results/my_llama_dumps.json   # optional (this is the default)
#     LABELS     device)                                  # optional; every test also has dump, suite
#
# Relative DUMPS, CONFIG, MAPPING and THRESHOLDS are relative to the calling CMakeLists.txt's
# folder, a relative RESULTS to its build folder. Tests are named NAME.<case>/<input>
# ("my_llama_dumps.layers_0_attention/long_sequence"). When the dumps cannot be listed (none
# yet, a malformed file), the one test NAME.listing fails with the reason.
function(equiv_add_dump_suite name)
  cmake_parse_arguments(ARG "" "DUMPS;CONFIG;MAPPING;THRESHOLDS;RESULTS;REGIME" "LABELS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "equiv_add_dump_suite(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  foreach(required DUMPS CONFIG)
    if(NOT ARG_${required})
      message(FATAL_ERROR "equiv_add_dump_suite(${name}): ${required} is required")
    endif()
  endforeach()
  if(NOT TARGET equiv::dump_suite)
    message(FATAL_ERROR "equiv_add_dump_suite(${name}): the program equiv::dump_suite is not "
                        "known here: find_package(equiv) first")
  endif()
  set(args --suite ${name})
  foreach(option DUMPS CONFIG MAPPING THRESHOLDS)
    if(ARG_${option})
      get_filename_component(path "${ARG_${option}}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      string(TOLOWER "${option}" flag)
      list(APPEND args --${flag} "${path}")
    endif()
  endforeach()
  if(ARG_REGIME)
    list(APPEND args --regime ${ARG_REGIME})
  endif()
  if(NOT ARG_RESULTS)
    set(ARG_RESULTS "${CMAKE_BINARY_DIR}/results/${name}.json")
  endif()
  get_filename_component(results "${ARG_RESULTS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  list(APPEND args --results "${results}")
  set(quoted "")
  foreach(arg IN LISTS args)
    string(APPEND quoted " [==[${arg}]==]")
  endforeach()
  set(labels dump suite ${ARG_LABELS})
  # ctest reads this after the directory's tests, at every run: the program lists the triples
  # of the dumps there now, and each becomes a test that runs the program on that triple.
  file(GENERATE OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/${name}_dump_tests.cmake" CONTENT
"set(_equiv_program [==[$<TARGET_FILE:equiv::dump_suite>]==])
set(_equiv_args${quoted})
set(_equiv_labels [==[${labels}]==])
if(NOT EXISTS \"\${_equiv_program}\")
  add_test([==[${name}_NOT_BUILT]==] \"\${_equiv_program}\")
  set_tests_properties([==[${name}_NOT_BUILT]==] PROPERTIES LABELS \"\${_equiv_labels}\")
  return()
endif()
execute_process(COMMAND \"\${_equiv_program}\" \${_equiv_args} --gtest_list_tests
                OUTPUT_VARIABLE _equiv_out ERROR_VARIABLE _equiv_err RESULT_VARIABLE _equiv_rc
                TIMEOUT 120)
if(NOT _equiv_rc EQUAL 0)
  add_test([==[${name}.listing]==] \"\${_equiv_program}\" \${_equiv_args} --gtest_list_tests)
  set_tests_properties([==[${name}.listing]==] PROPERTIES LABELS \"\${_equiv_labels}\")
  return()
endif()
string(REPLACE \"\\n\" \";\" _equiv_lines \"\${_equiv_out}\")
foreach(_equiv_line IN LISTS _equiv_lines)
  if(_equiv_line MATCHES \"^  ([^ #]+)\")
    set(_equiv_test \"${name}.\${CMAKE_MATCH_1}\")
    add_test(\"\${_equiv_test}\" \"\${_equiv_program}\" \${_equiv_args}
             \"--gtest_filter=\${_equiv_test}\")
    set_tests_properties(\"\${_equiv_test}\" PROPERTIES LABELS \"\${_equiv_labels}\")
  endif()
endforeach()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
               "${CMAKE_CURRENT_BINARY_DIR}/${name}_dump_tests.cmake")
endfunction()
