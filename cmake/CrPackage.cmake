# Debian packages with CPack: `cpack -G DEB` in the build directory (or
# `cmake --build build --target package`) writes
#   chaosrun_<version>_<arch>.deb           the chaosrun component
#   chaosrun-examples_<version>_<arch>.deb  the examples component
# (cmake/CrInstall.cmake says what each holds), installed under /usr.
# Dependencies on shared libraries come from dpkg-shlibdeps, which reads
# the binaries (libjansson4, libnl-3-200, libnl-route-3-200, libcurl4,
# libmicrohttpd12, and for crp libsqlite3-0, libssl3, librabbitmq4);
# tests/e2e/install_deb.sh installs both into a scratch root with dpkg -x
# and runs the quickstart from there.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chaosrun)
set(CPACK_PACKAGE_VENDOR "chaosrun")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "chaosrun developers <dev@chaosrun.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL chaosrun)
if(CR_BUILD_PIPELINE)
  list(APPEND CPACK_COMPONENTS_ALL examples)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Stripped, as Debian ships binaries (no build paths in debug info).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_CHAOSRUN_PACKAGE_NAME chaosrun)
# One string each (the first line is the summary): quoted pieces side by
# side would make a CMake list.
set(CPACK_COMPONENT_CHAOSRUN_DESCRIPTION "chaos and resilience testing harness
chaosrun runs a system under test from a JSON scenario, injects seeded
faults (process kills and pauses, syscall failures, TCP faults through
its proxy, network delay, loss and partitions) and proves that the system
recovered: probes, retries, breakers, checkpoints, failover, no loss.
It writes junit.xml, report.html and report.md for CI and people.")
# Optional back-ends: syscall faults preload libfiu's libraries; partitions
# and emulated loss run nft.
set(CPACK_DEBIAN_CHAOSRUN_PACKAGE_RECOMMENDS "libfiu0, nftables")

set(CPACK_DEBIAN_EXAMPLES_PACKAGE_NAME chaosrun-examples)
set(CPACK_DEBIAN_EXAMPLES_PACKAGE_DEPENDS "chaosrun (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_EXAMPLES_DESCRIPTION "shipped scenarios and the reference pipeline of chaosrun
The scenarios of /usr/share/chaosrun/scenarios (the quickstart among
them) and the programs they run: crp, the reference asynchronous ML
pipeline, and small test services, in /usr/libexec/chaosrun.")
set(CPACK_DEBIAN_EXAMPLES_PACKAGE_SUGGESTS "rabbitmq-server")
include(CPack)
