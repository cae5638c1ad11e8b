# Runs at install time, when the prefix is final. Prefix /usr is the system's own place: the
# example config goes to /etc/esim-sync and the unit to the systemd system unit directory
# (/lib/systemd/system on Debian 12), where the .deb must have them. Any other prefix (/usr/local,
# /opt/esim-sync, a staging folder) keeps everything inside it: PREFIX/etc/esim-sync and
# PREFIX/lib/systemd/system. An absolute CMAKE_INSTALL_SYSCONFDIR is taken as given.
# file(INSTALL) adds DESTDIR itself and records each file in install_manifest.txt.
if(IS_ABSOLUTE "${ESIM_SYNC_SYSCONFDIR}")
  set(etc "${ESIM_SYNC_SYSCONFDIR}")
elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc "/${ESIM_SYNC_SYSCONFDIR}")
else()
  set(etc "${CMAKE_INSTALL_PREFIX}/${ESIM_SYNC_SYSCONFDIR}")
endif()
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(unit_dir "${ESIM_SYNC_SYSTEM_UNIT_DIR}")
else()
  set(unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

set(readable OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${ESIM_SYNC_SOURCE_DIR}/deploy/esim-sync.example.yaml"
     DESTINATION "${etc}/esim-sync" PERMISSIONS ${readable})
file(INSTALL "${ESIM_SYNC_SOURCE_DIR}/systemd/esim-sync.service"
     DESTINATION "${unit_dir}" PERMISSIONS ${readable})
