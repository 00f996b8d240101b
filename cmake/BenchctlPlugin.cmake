# benchctl_add_plugin(<kind> <name> SOURCES <file>... [LIBRARIES <lib>...]
#                     [COMPONENT <install component>])
#
# Builds a benchctl plugin as <kind>-<name>.so against the SDK (target
# benchctl::sdk) with the helper library (benchctl::helpers, linked into
# the plugin; see <benchctl/helpers.h>), with hidden symbols except the entry point and
# -Wl,--no-undefined (plugins never link against benchctl), and installs it
# into BENCHCTL_PLUGIN_INSTALL_DIR (as COMPONENT, when given: benchctl's
# own packages put each plugin in a Debian package by it).  Used by the plugins in benchctl's own
# tree and, through find_package(Benchctl), by out-of-tree plugins.
function(benchctl_add_plugin kind name)
  cmake_parse_arguments(ARG "" "COMPONENT" "SOURCES;LIBRARIES" ${ARGN})
  set(_kinds host probe collector validator plot publisher monitor profiler)
  if(NOT kind IN_LIST _kinds)
    message(FATAL_ERROR "benchctl_add_plugin: unknown kind '${kind}' (one of: ${_kinds})")
  endif()
  set(target "${kind}-${name}")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE benchctl::sdk ${ARG_LIBRARIES})
  if(TARGET benchctl::helpers)
    target_link_libraries(${target} PRIVATE benchctl::helpers)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${kind}-${name}"
    C_VISIBILITY_PRESET hidden)
  target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  if(DEFINED BENCHCTL_BUILD_PLUGIN_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${BENCHCTL_BUILD_PLUGIN_DIR}")
  endif()
  if(DEFINED BENCHCTL_PLUGIN_INSTALL_DIR)
    if(ARG_COMPONENT)
      install(TARGETS ${target} LIBRARY DESTINATION "${BENCHCTL_PLUGIN_INSTALL_DIR}"
              COMPONENT ${ARG_COMPONENT})
    else()
      install(TARGETS ${target} LIBRARY DESTINATION "${BENCHCTL_PLUGIN_INSTALL_DIR}")
    endif()
  endif()
endfunction()
