# What `cmake --install` and the Debian packages carry beyond the binaries:
# man pages and shell completion (cmake/Docs.cmake), the docs and examples
# under share/doc, the LICENSE; and the CPack setup that splits an install
# into Debian packages the way distributions ship plugin engines:
#
#   benchctl         the core: bin/benchctl, the local and slurm hosts, the probes, publishers,
#                    collectors, validators, the proc monitor and the perf profiler
#                    (Suggests: linux-perf), man pages, completion, docs
#   benchctl-ssh     the ssh host transport (Depends: libssh, from shlibdeps)
#   benchctl-gnuplot the gnuplot plot emitter (Recommends: gnuplot)
#   benchctl-dev     the SDK: headers, helper library, benchctl.pc, the
#                    Benchctl CMake package
#
# Every install() names its component; one without lands in `core`
# (CMAKE_INSTALL_DEFAULT_COMPONENT_NAME in the top CMakeLists.txt).
# scripts/package.sh builds the packages; tests/cli/test_package.sh checks them.
include(${CMAKE_CURRENT_LIST_DIR}/Docs.cmake)

set(BENCHCTL_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/benchctl)
install(FILES README.md LICENSE DESTINATION ${BENCHCTL_DOCDIR} COMPONENT core)
install(FILES LICENSE DESTINATION ${BENCHCTL_DOCDIR} RENAME copyright COMPONENT core)
install(DIRECTORY docs/ DESTINATION ${BENCHCTL_DOCDIR}/docs COMPONENT core
        FILES_MATCHING PATTERN "*.md" PATTERN "*.json" PATTERN "man" EXCLUDE)
install(DIRECTORY examples/ DESTINATION ${BENCHCTL_DOCDIR}/examples COMPONENT core
        USE_SOURCE_PERMISSIONS PATTERN "results" EXCLUDE PATTERN "report.md" EXCLUDE PATTERN "plugins" EXCLUDE)
# The slurm transport is in the core package (it needs only libc; the cluster
# provides Slurm's commands), its README beside the docs.
install(FILES plugins/hosts/slurm/README.md DESTINATION ${BENCHCTL_DOCDIR}
        RENAME README.slurm.md COMPONENT core)
# Debian: every package has its copyright file in /usr/share/doc/<package>.
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/benchctl-ssh RENAME copyright
        COMPONENT ssh)
install(FILES plugins/hosts/ssh/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/benchctl-ssh
        COMPONENT ssh)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/benchctl-gnuplot RENAME copyright
        COMPONENT gnuplot)
install(FILES plugins/plots/gnuplot/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/benchctl-gnuplot COMPONENT gnuplot)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/benchctl-dev RENAME copyright
        COMPONENT dev)
install(DIRECTORY examples/plugins DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/benchctl-dev/examples
        USE_SOURCE_PERMISSIONS COMPONENT dev)

# ---- CPack: Debian packages ------------------------------------------------------
set(BENCHCTL_PACKAGE_MAINTAINER "benchctl maintainers <benchctl@localhost>"
    CACHE STRING "Maintainer field of the Debian packages (a distribution sets its own)")
set(BENCHCTL_PACKAGE_RELEASE 1 CACHE STRING "Debian revision of the packages")

# Debian: a non-native package has /usr/share/doc/<package>/changelog.Debian.gz.
# One entry, dated by SOURCE_DATE_EPOCH when set (reproducible builds).
string(TIMESTAMP _bc_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
find_program(BENCHCTL_GZIP gzip)
if(BENCHCTL_GZIP)
  set(_bc_changelogs)
  foreach(pkg benchctl benchctl-ssh benchctl-gnuplot benchctl-dev)
    set(_f ${CMAKE_BINARY_DIR}/debian/${pkg}/changelog.Debian)
    file(WRITE ${_f} "${pkg} (${PROJECT_VERSION}-${BENCHCTL_PACKAGE_RELEASE}) unstable; urgency=medium

  * benchctl ${PROJECT_VERSION}, built with CPack (cmake/Packaging.cmake).

 -- ${BENCHCTL_PACKAGE_MAINTAINER}  ${_bc_date}
")
    add_custom_command(OUTPUT ${_f}.gz COMMAND ${BENCHCTL_GZIP} -9nkf ${_f} DEPENDS ${_f} VERBATIM)
    list(APPEND _bc_changelogs ${_f}.gz)
    if(pkg STREQUAL benchctl)
      set(_comp core)
    else()
      string(REPLACE "benchctl-" "" _comp ${pkg})
    endif()
    install(FILES ${_f}.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${_comp})
  endforeach()
  add_custom_target(benchctl-changelogs ALL DEPENDS ${_bc_changelogs})
endif()

set(CPACK_PACKAGE_NAME benchctl)
set(CPACK_PACKAGE_VENDOR "benchctl")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${BENCHCTL_PACKAGE_MAINTAINER}")
# Each package's own first description line is its synopsis: CPackDeb
# prepends the summary to every package's description unless it is CPack's
# default text, so that is what it is set to (no generator here shows it).
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_NAME} built using CMake")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
find_program(BENCHCTL_DPKG dpkg)
if(BENCHCTL_DPKG)
  set(CPACK_GENERATOR DEB)
else()
  set(CPACK_GENERATOR TGZ)
endif()
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_COMPONENTS_ALL core ssh gnuplot dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_ARCHIVE_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${BENCHCTL_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)          # Depends: from the ELF files' libraries
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)   # Depends: benchctl (= VERSION)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)                       # debug symbols stay in the build tree

set(CPACK_DEBIAN_CORE_PACKAGE_NAME benchctl)
set(CPACK_DEBIAN_CORE_PACKAGE_RECOMMENDS "benchctl-gnuplot")
set(CPACK_DEBIAN_CORE_PACKAGE_SUGGESTS "benchctl-ssh, git, rclone, slurm-client, linux-perf")
set(CPACK_DEBIAN_CORE_DESCRIPTION
  "benchmark orchestrator
Declare a benchmark once in YAML - hosts, stages, readiness checks, result
files, plots - and `benchctl run` does the plumbing and stores every run
with the parameters and metadata that produced it; `benchctl compare` tests
runs against each other.

This package has the benchctl command with its local and slurm host
transports, health probes, collectors and validators. The ssh transport and the gnuplot plot
emitter are the packages benchctl-ssh and benchctl-gnuplot.")

set(CPACK_DEBIAN_SSH_PACKAGE_NAME benchctl-ssh)
set(CPACK_COMPONENT_SSH_DEPENDS core)
set(CPACK_DEBIAN_SSH_DESCRIPTION
  "benchctl ssh host transport (libssh)
The benchctl plugin that runs stages on remote hosts over SSH: keys,
passphrases, passwords, agent, known_hosts checking, SFTP.")

set(CPACK_DEBIAN_GNUPLOT_PACKAGE_NAME benchctl-gnuplot)
set(CPACK_COMPONENT_GNUPLOT_DEPENDS core)
set(CPACK_DEBIAN_GNUPLOT_PACKAGE_RECOMMENDS "gnuplot-nox | gnuplot")
set(CPACK_DEBIAN_GNUPLOT_DESCRIPTION
  "benchctl gnuplot plot emitter
The benchctl plugin that draws a run's plots[] with gnuplot (PNG, SVG,
PDF), run as a child process.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME benchctl-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION devel)
set(CPACK_COMPONENT_DEV_DEPENDS core)
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "pkg-config, cmake")
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "benchctl plugin SDK
Headers, the static helper library, the pkg-config file (benchctl.pc) and
the Benchctl CMake package for building benchctl plugins out of tree
(plugin ABI ${BENCHCTL_ABI_VERSION}).")

include(CPack)
