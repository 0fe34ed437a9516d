# equiv_set_warnings(target): the project's warning flags; errors when EQUIV_WERROR is on.
function(equiv_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(EQUIV_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
