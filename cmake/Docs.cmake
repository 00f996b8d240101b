# Man pages and shell completion, generated at build time by
# scripts/gendocs.py from their one source each:
#   benchctl(1)           `benchctl help` and `benchctl COMMAND --help` (the CLI's
#                         option table) + docs/man/benchctl.1.md (description,
#                         exit status, environment, files)
#   benchctl.yaml(5)      docs/config.md
#   benchctl-plugins(7)   docs/man/plugins.7.md (the shipped plugins, the search
#                         path) + docs/plugins.md (writing one)
#   bash, zsh, fish       `benchctl help` and `benchctl COMMAND --help`
# tests/cli/test_docs.sh checks them against the built binary.
option(BENCHCTL_BUILD_DOCS "Generate the man pages and shell completion" ON)
if(NOT BENCHCTL_BUILD_DOCS)
  return()
endif()
find_program(BENCHCTL_PYTHON NAMES python3 HINTS /usr/bin)
if(NOT BENCHCTL_PYTHON)
  message(WARNING "python3 not found: no man pages or shell completion are generated")
  return()
endif()

set(_gen ${PROJECT_SOURCE_DIR}/scripts/gendocs.py)
set(_out ${CMAKE_BINARY_DIR}/docs)
file(MAKE_DIRECTORY ${_out}/man ${_out}/completion)
# (A sanitizer build runs its binary here too: no leak report is wanted from `help`.)
set(_env ${CMAKE_COMMAND} -E env BENCHCTL_DOCS_VERSION=${PROJECT_VERSION} ASAN_OPTIONS=detect_leaks=0)

add_custom_command(OUTPUT ${_out}/man/benchctl.1
  COMMAND ${_env} ${BENCHCTL_PYTHON} ${_gen} man1 $<TARGET_FILE:benchctl> ${_out}/man/benchctl.1
          ${PROJECT_SOURCE_DIR}/docs/man/benchctl.1.md
  DEPENDS benchctl ${_gen} ${PROJECT_SOURCE_DIR}/docs/man/benchctl.1.md
  COMMENT "Generating benchctl(1)" VERBATIM)
add_custom_command(OUTPUT ${_out}/man/benchctl.yaml.5
  COMMAND ${_env} ${BENCHCTL_PYTHON} ${_gen} md2man ${PROJECT_SOURCE_DIR}/docs/config.md
          benchctl.yaml 5 ${_out}/man/benchctl.yaml.5
  DEPENDS ${_gen} ${PROJECT_SOURCE_DIR}/docs/config.md
  COMMENT "Generating benchctl.yaml(5)" VERBATIM)
add_custom_command(OUTPUT ${_out}/man/benchctl-plugins.7
  COMMAND ${_env} ${BENCHCTL_PYTHON} ${_gen} md2man ${PROJECT_SOURCE_DIR}/docs/plugins.md
          benchctl-plugins 7 ${_out}/man/benchctl-plugins.7 ${PROJECT_SOURCE_DIR}/docs/man/plugins.7.md
  DEPENDS ${_gen} ${PROJECT_SOURCE_DIR}/docs/plugins.md ${PROJECT_SOURCE_DIR}/docs/man/plugins.7.md
  COMMENT "Generating benchctl-plugins(7)" VERBATIM)
set(_completions bash:benchctl zsh:_benchctl fish:benchctl.fish)
set(_docs ${_out}/man/benchctl.1 ${_out}/man/benchctl.yaml.5 ${_out}/man/benchctl-plugins.7)
foreach(pair ${_completions})
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 sh)
  list(GET pair 1 file)
  add_custom_command(OUTPUT ${_out}/completion/${sh}/${file}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_out}/completion/${sh}
    COMMAND ${_env} ${BENCHCTL_PYTHON} ${_gen} completion ${sh} $<TARGET_FILE:benchctl>
            ${_out}/completion/${sh}/${file}
    DEPENDS benchctl ${_gen}
    COMMENT "Generating ${sh} completion" VERBATIM)
  list(APPEND _docs ${_out}/completion/${sh}/${file})
endforeach()
# Installed compressed, as Debian ships man pages (gzip -n: no time stamp).
find_program(BENCHCTL_GZIP gzip)
foreach(page benchctl.1 benchctl.yaml.5 benchctl-plugins.7)
  string(REGEX MATCH "[0-9]$" sec "${page}")
  if(BENCHCTL_GZIP)
    add_custom_command(OUTPUT ${_out}/man/${page}.gz
      COMMAND ${BENCHCTL_GZIP} -9nkf ${_out}/man/${page}
      DEPENDS ${_out}/man/${page} VERBATIM)
    list(APPEND _docs ${_out}/man/${page}.gz)
    install(FILES ${_out}/man/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sec} COMPONENT core)
  else()
    install(FILES ${_out}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sec} COMPONENT core)
  endif()
endforeach()
add_custom_target(benchctl-docs ALL DEPENDS ${_docs})

install(FILES ${_out}/completion/bash/benchctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT core)
install(FILES ${_out}/completion/zsh/_benchctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT core)
install(FILES ${_out}/completion/fish/benchctl.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d COMPONENT core)
