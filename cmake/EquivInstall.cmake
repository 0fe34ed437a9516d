# Installs equiv as a CMake package: after `cmake --install build/release --prefix P`,
# a project with -DCMAKE_PREFIX_PATH=P uses
#   find_package(equiv REQUIRED)
#   target_link_libraries(my_test PRIVATE equiv::core equiv::matchers equiv::fixtures)
#   equiv_add_component_suite(...)
#   equiv_add_dump_suite(...)
# Headers keep their paths under include/equiv ("libequiv/...", "matchers/...", "fixtures/...").
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EQUIV_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/equiv")

# Every library but the command line's own (equiv::cli), and equiv::core over them.
get_property(equiv_libraries GLOBAL PROPERTY EQUIV_LIBRARIES)
list(REMOVE_ITEM equiv_libraries cli)
list(TRANSFORM equiv_libraries PREPEND equiv_)
install(TARGETS equiv_core ${equiv_libraries}
        EXPORT equivTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/equiv)
install(TARGETS equiv RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The dump suites' program, imported as equiv::dump_suite by equiv_add_dump_suite.
install(TARGETS equiv_dump_suite EXPORT equivTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir libequiv generators matchers fixtures)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/equiv/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "*.inc")
endforeach()
install(EXPORT equivTargets NAMESPACE equiv:: DESTINATION ${EQUIV_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/equivConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/equivConfig.cmake
                              INSTALL_DESTINATION ${EQUIV_INSTALL_CMAKEDIR}
                              PATH_VARS CMAKE_INSTALL_DATADIR)
# 0.x: minor versions may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/equivConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
# The suite function finds its main program beside itself once installed.
install(FILES ${PROJECT_BINARY_DIR}/equivConfig.cmake
              ${PROJECT_BINARY_DIR}/equivConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/generators/EquivComponentSuite.cmake
              ${PROJECT_SOURCE_DIR}/generators/EquivDumpSuite.cmake
              ${PROJECT_SOURCE_DIR}/fixtures/suite_main.cc
        DESTINATION ${EQUIV_INSTALL_CMAKEDIR})
# The shipped model configs and the built-in port's mapping, for suites and the CLI.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/equiv/configs)
