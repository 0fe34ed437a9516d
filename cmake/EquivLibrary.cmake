# equiv's libraries and the layering between them.
#
#   equiv_add_library(metrics FOLDERS libequiv/metrics SOURCES ... DEPENDS base)
#
# makes equiv_metrics with the alias equiv::metrics, linked to equiv::base. DEPENDS names only
# equiv libraries: they are the layers below this one. Other libraries go in LIBS.
# equiv_check_layering() (after the last library) then
#   - fails the configure step when the DEPENDS graph has a cycle, and
#   - adds a build step that fails when a file of a library's FOLDERS includes a header of a
#     library that is not among its transitive DEPENDS (a cycle in disguise, or a layer
#     violation) and that every library waits for: no build passes with a dependency the
#     layering forbids.

function(equiv_add_library name)
  cmake_parse_arguments(ARG "INTERFACE" "" "FOLDERS;SOURCES;DEPENDS;LIBS" ${ARGN})
  set(target equiv_${name})
  set(deps)
  foreach(dep IN LISTS ARG_DEPENDS)
    list(APPEND deps equiv::${dep})
  endforeach()
  add_library(${target} ${ARG_SOURCES})
  add_library(equiv::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME ${target})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:include/equiv>)
  target_link_libraries(${target} PUBLIC ${deps} ${ARG_LIBS})
  # No FMA contraction: the same inputs give the same bits on every machine.
  target_compile_options(${target} PRIVATE -ffp-contract=off)
  equiv_set_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY EQUIV_LIBRARIES ${name})
  set_property(GLOBAL PROPERTY EQUIV_LIBRARY_${name}_FOLDERS ${ARG_FOLDERS})
  set_property(GLOBAL PROPERTY EQUIV_LIBRARY_${name}_DEPENDS ${ARG_DEPENDS})
endfunction()

# The transitive DEPENDS of `name` in `out`; a cycle stops the configure step, naming it.
function(_equiv_closure name path out)
  if(name IN_LIST path)
    list(APPEND path ${name})
    list(JOIN path " -> " cycle)
    message(FATAL_ERROR "equiv: the libraries depend on each other in a cycle: ${cycle}")
  endif()
  list(APPEND path ${name})
  get_property(direct GLOBAL PROPERTY EQUIV_LIBRARY_${name}_DEPENDS)
  set(all ${direct})
  foreach(dep IN LISTS direct)
    _equiv_closure(${dep} "${path}" below)
    list(APPEND all ${below})
  endforeach()
  list(REMOVE_DUPLICATES all)
  set(${out} ${all} PARENT_SCOPE)
endfunction()

function(equiv_check_layering)
  get_property(libraries GLOBAL PROPERTY EQUIV_LIBRARIES)
  set(manifest "")
  set(files)
  foreach(name IN LISTS libraries)
    _equiv_closure(${name} "" allowed)
    get_property(folders GLOBAL PROPERTY EQUIV_LIBRARY_${name}_FOLDERS)
    string(APPEND manifest "set(EQUIV_LIBRARY_${name}_FOLDERS \"${folders}\")\n"
                           "set(EQUIV_LIBRARY_${name}_ALLOWED \"${allowed}\")\n")
    foreach(folder IN LISTS folders)
      file(GLOB_RECURSE found CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/${folder}/*.h"
           "${PROJECT_SOURCE_DIR}/${folder}/*.cc" "${PROJECT_SOURCE_DIR}/${folder}/*.inc")
      list(APPEND files ${found})
    endforeach()
  endforeach()
  file(GLOB_RECURSE examples CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/examples/*.cpp"
       "${PROJECT_SOURCE_DIR}/examples/*.cc" "${PROJECT_SOURCE_DIR}/examples/*.h")
  list(APPEND files ${examples})
  string(APPEND manifest "set(EQUIV_LIBRARIES \"${libraries}\")\n")
  set(manifest_file "${PROJECT_BINARY_DIR}/equiv_layering.cmake")
  file(WRITE "${manifest_file}" "${manifest}")
  set(stamp "${PROJECT_BINARY_DIR}/equiv_layering.stamp")
  add_custom_command(
    OUTPUT "${stamp}"
    COMMAND ${CMAKE_COMMAND} -DMANIFEST=${manifest_file} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
            -DSTAMP=${stamp} -P ${PROJECT_SOURCE_DIR}/cmake/EquivCheckLayering.cmake
    DEPENDS ${files} "${manifest_file}" "${PROJECT_SOURCE_DIR}/cmake/EquivCheckLayering.cmake"
    COMMENT "Checking that every #include respects the library layering"
    VERBATIM)
  add_custom_target(equiv_layering ALL DEPENDS "${stamp}")
  # Every library waits for the check, so building any one target cannot skip it.
  foreach(name IN LISTS libraries)
    add_dependencies(equiv_${name} equiv_layering)
  endforeach()
endfunction()
