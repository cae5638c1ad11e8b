# The .deb, by CPack from the install rules (cmake/InstallLayout.cmake) with prefix /usr, so the
# package and `cmake --install --prefix /usr` lay out the same files. scripts/package builds it;
# tests/packaging checks it with lintian, dpkg -x and dpkg --root.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME esim-sync)
set(CPACK_PACKAGE_VERSION ${ESIM_SYNC_VERSION})  # the one version (CMakeLists.txt)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Install with DESTDIR and the real prefix, so cmake/InstallSystemFiles.cmake sees /usr and puts
# the example config in /etc and the unit in /lib/systemd/system.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the binary ships stripped, as Debian wants
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # esim-sync_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_CONTACT "${ESIM_SYNC_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ESIM_SYNC_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "mirror Betatel eSIM packages into PostgreSQL")
# CPack puts the summary first; this is the extended description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "esim-sync lists every eSIM package of a Betatel reseller account through the
API and keeps a copy in PostgreSQL, with a history row for every status
change, so dashboards can answer how many packages are active now and how many
were terminated last week in plain SQL.
.
It runs as a hardened systemd service, removes a package from the mirror only
on proof, and serves Prometheus metrics. Alert rules and Grafana dashboards
are in /usr/share/esim-sync.")
# Depends: computed by dpkg-shlibdeps from the libraries the binary links.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
include(CPack)
