# Where a Debian admin looks: /usr/bin, the systemd system unit directory, /etc/esim-sync (an
# example to copy, never a config of its own), the man page, /usr/share/doc/esim-sync, and
# /usr/share/esim-sync (alert rules, dashboards, the migrations for reference: the binary carries
# its own copy). The .deb (cmake/DebianPackage.cmake) installs exactly this with prefix /usr.
include(GNUInstallDirs)

install(TARGETS esim-sync RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The man page gets the version from project() and is compressed as Debian wants it (gzip -9n:
# no name or time stamp inside, so the same source always gives the same bytes).
set(ESIM_SYNC_MAN_PAGE ${CMAKE_BINARY_DIR}/man/esim-sync.8)
configure_file(man/esim-sync.8.in ${ESIM_SYNC_MAN_PAGE} @ONLY)
add_custom_command(
  OUTPUT ${ESIM_SYNC_MAN_PAGE}.gz
  COMMAND gzip -9nkf ${ESIM_SYNC_MAN_PAGE}
  DEPENDS ${ESIM_SYNC_MAN_PAGE}
  VERBATIM)
add_custom_target(man_page ALL DEPENDS ${ESIM_SYNC_MAN_PAGE}.gz)
install(FILES ${ESIM_SYNC_MAN_PAGE}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# CHANGELOG.md ships as changelog.gz in Debian's format (cmake/DebianChangelog.cmake), which
# is what dpkg and lintian expect of a native package.
set(ESIM_SYNC_CHANGELOG ${CMAKE_BINARY_DIR}/debian/changelog.gz)
add_custom_command(
  OUTPUT ${ESIM_SYNC_CHANGELOG}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_SOURCE_DIR}/CHANGELOG.md -DOUTPUT=${ESIM_SYNC_CHANGELOG}
          -DVERSION=${ESIM_SYNC_VERSION} "-DMAINTAINER=${ESIM_SYNC_MAINTAINER}"
          -P ${CMAKE_SOURCE_DIR}/cmake/DebianChangelog.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/CHANGELOG.md ${CMAKE_SOURCE_DIR}/cmake/DebianChangelog.cmake
  VERBATIM)
add_custom_target(debian_changelog ALL DEPENDS ${ESIM_SYNC_CHANGELOG})
install(FILES README.md ARCHITECTURE.md packaging/copyright deploy/esim-sync.example.yaml ${ESIM_SYNC_CHANGELOG}
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The README's links point into docs/, so the pages go beside it.
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
install(DIRECTORY migrations/ DESTINATION ${CMAKE_INSTALL_DATADIR}/esim-sync/migrations)
install(FILES deploy/grafana/esim-sync.json deploy/grafana/esim-sync-ops.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/esim-sync/grafana)
install(FILES deploy/prometheus/esim-sync.rules.yml DESTINATION ${CMAKE_INSTALL_DATADIR}/esim-sync/prometheus)

# /etc and the unit directory depend on the prefix, which `cmake --install --prefix` changes
# only at install time: decided then, by cmake/InstallSystemFiles.cmake.
pkg_get_variable(ESIM_SYNC_SYSTEM_UNIT_DIR systemd systemdsystemunitdir)
if(NOT ESIM_SYNC_SYSTEM_UNIT_DIR)
  set(ESIM_SYNC_SYSTEM_UNIT_DIR /lib/systemd/system)  # Debian 12's, when systemd.pc is absent
endif()
install(CODE "
  set(ESIM_SYNC_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
  set(ESIM_SYNC_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(ESIM_SYNC_SYSTEM_UNIT_DIR \"${ESIM_SYNC_SYSTEM_UNIT_DIR}\")")
install(SCRIPT cmake/InstallSystemFiles.cmake)
