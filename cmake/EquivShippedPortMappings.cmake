# The built-in ports' component mappings are the files users copy and adapt,
# configs/mappings/<family>-port.json, compiled into the library: the text exists once.
#
#   equiv_shipped_port_mappings(OUT_FILE)
#
# writes a source defining ShippedPortMappingJson(family) (libequiv/families/
# internal/shipped_port_mappings.h) and sets OUT_FILE to its path. A new or edited file re-runs it.
function(equiv_shipped_port_mappings out_file)
  file(GLOB mapping_files CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/configs/mappings/*-port.json")
  list(SORT mapping_files)
  set(cases "")
  foreach(file IN LISTS mapping_files)
    get_filename_component(name "${file}" NAME)
    string(REGEX REPLACE "-port\\.json$" "" family "${name}")
    file(READ "${file}" text)
    if(text MATCHES "\\)equiv_json")
      message(FATAL_ERROR "equiv: ${file} contains ')equiv_json', which ends the C++ raw string it is compiled into")
    endif()
    string(APPEND cases "  if (family == \"${family}\") return R\"equiv_json(${text})equiv_json\";\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
  endforeach()
  set(EQUIV_MAPPING_CASES "${cases}")
  set(path "${CMAKE_CURRENT_BINARY_DIR}/generated/shipped_port_mappings.cc")
  configure_file("${PROJECT_SOURCE_DIR}/libequiv/families/internal/shipped_port_mappings.cc.in" "${path}" @ONLY)
  set(${out_file} "${path}" PARENT_SCOPE)
endfunction()
