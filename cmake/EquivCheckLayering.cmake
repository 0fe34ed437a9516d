# Run by the build (cmake -P): every #include "folder/..." of a library's files must name a
# header of the library itself or of a library below it (EquivLibrary.cmake), and a header in
# an internal/ folder only from its own library (examples: never). Prints every violation,
# then fails; on success touches STAMP.
#   cmake -DMANIFEST=equiv_layering.cmake -DSOURCE_DIR=... -DSTAMP=... -P EquivCheckLayering.cmake
cmake_minimum_required(VERSION 3.25)
include("${MANIFEST}")

# The library that owns a header path ("libequiv/metrics/band.h" -> metrics), or "".
function(_owner path out)
  set(best "")
  set(best_length 0)
  foreach(name IN LISTS EQUIV_LIBRARIES)
    foreach(folder IN LISTS EQUIV_LIBRARY_${name}_FOLDERS)
      string(LENGTH "${folder}/" length)
      string(SUBSTRING "${path}" 0 ${length} head)
      if(head STREQUAL "${folder}/" AND length GREATER best_length)
        set(best ${name})
        set(best_length ${length})
      endif()
    endforeach()
  endforeach()
  set(${out} "${best}" PARENT_SCOPE)
endfunction()

set(violations "")
foreach(name IN LISTS EQUIV_LIBRARIES)
  foreach(folder IN LISTS EQUIV_LIBRARY_${name}_FOLDERS)
    file(GLOB_RECURSE files "${SOURCE_DIR}/${folder}/*.h" "${SOURCE_DIR}/${folder}/*.cc"
         "${SOURCE_DIR}/${folder}/*.inc")
    foreach(file IN LISTS files)
      file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
      file(RELATIVE_PATH relative "${SOURCE_DIR}" "${file}")
      _owner("${relative}" file_owner)
      if(NOT file_owner STREQUAL name)
        continue()  # a nested folder of another library
      endif()
      foreach(line IN LISTS includes)
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" header "${line}")
        _owner("${header}" owner)
        if(header MATCHES "/internal/" AND NOT owner STREQUAL "" AND NOT owner STREQUAL name)
          string(APPEND violations
                 "  ${relative} includes ${header}: an internal/ header is for equiv::${owner}'s "
                 "own files (include a public header of equiv::${owner} instead)\n")
          continue()
        endif()
        if(owner STREQUAL "" OR owner STREQUAL name OR owner IN_LIST EQUIV_LIBRARY_${name}_ALLOWED)
          continue()
        endif()
        set(below "${EQUIV_LIBRARY_${name}_ALLOWED}")
        if(below STREQUAL "")
          set(below "none")
        endif()
        string(REPLACE ";" ", " below "${below}")
        string(APPEND violations
               "  ${relative} includes ${header}: equiv::${name} may not depend on "
               "equiv::${owner} (the libraries below it: ${below})\n")
      endforeach()
    endforeach()
  endforeach()
endforeach()

# The examples are what users write: public headers only.
file(GLOB_RECURSE example_files "${SOURCE_DIR}/examples/*.cpp" "${SOURCE_DIR}/examples/*.cc"
     "${SOURCE_DIR}/examples/*.h")
foreach(file IN LISTS example_files)
  file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"]*/internal/")
  file(RELATIVE_PATH relative "${SOURCE_DIR}" "${file}")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" header "${line}")
    string(APPEND violations
           "  ${relative} includes ${header}: an example uses the public headers only\n")
  endforeach()
endforeach()

if(NOT violations STREQUAL "")
  message(FATAL_ERROR "equiv: #include against the library layering (cmake/EquivLibrary.cmake):\n"
                      "${violations}")
endif()
file(TOUCH "${STAMP}")
