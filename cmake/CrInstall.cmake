# What `cmake --install` (and cpack) puts where (GNUInstallDirs; the
# README's "Install" section shows the tree).  Two components, one Debian
# package each (cmake/CrPackage.cmake):
#
#   chaosrun           bin/chaosrun, libexec/chaosrun/cr_tgt_server (the
#                      stand-in service of `chaosrun init`), the man page
#                      chaosrun(1), the docs (share/doc/chaosrun/), the
#                      examples (share/chaosrun/examples/: small scenarios
#                      and the CI jobs of examples/ci/)
#   examples           the shipped scenarios (share/chaosrun/scenarios/) and
#                      every helper program they name as
#                      ${CHAOSRUN_BINDIR}/<program> (crp, crp-rabbitmq.sh,
#                      test targets), in libexec/chaosrun/
#
# A shipped scenario is installed only when the build makes every helper it
# names (with CR_BUILD_PIPELINE=OFF, those that run crp are left out).

install(TARGETS chaosrun RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT chaosrun)
install(TARGETS cr_tgt_server RUNTIME DESTINATION ${CR_HELPER_INSTALL_DIR}
        COMPONENT chaosrun)

# ---- docs (relative links between them kept: same tree) -----------------
foreach(doc README.md scenarios/README.md harness/README.md
        harness/checks/CHECKS.md reports/README.md)
  get_filename_component(sub ${doc} DIRECTORY)
  install(FILES ${CMAKE_SOURCE_DIR}/${doc}
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/${sub} COMPONENT chaosrun)
endforeach()
if(CR_BUILD_PIPELINE)
  install(FILES ${CMAKE_SOURCE_DIR}/sample_pipeline/README.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/sample_pipeline COMPONENT examples)
endif()

# ---- examples -----------------------------------------------------------
file(GLOB CR_EXAMPLE_SCENARIOS ${CMAKE_SOURCE_DIR}/scenarios/examples/*.json
     ${CMAKE_SOURCE_DIR}/scenarios/examples/*.yaml)
install(FILES ${CR_EXAMPLE_SCENARIOS}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/chaosrun/examples COMPONENT chaosrun)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ci
        DESTINATION ${CMAKE_INSTALL_DATADIR}/chaosrun/examples COMPONENT chaosrun)

# ---- the man page: help2man from `chaosrun --help` ----------------------
# One source for the options and commands (the --help text, which a test
# holds to the command table), plus harness/cli/chaosrun.h2m for the
# sections --help does not carry.  Without help2man there is no man page
# (a warning; tests/test_cli.c then skips its man page test).
find_program(CR_HELP2MAN help2man)
if(CR_HELP2MAN)
  set(CR_MAN ${CMAKE_BINARY_DIR}/man/chaosrun.1)
  add_custom_command(
    OUTPUT ${CR_MAN} ${CR_MAN}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND ${CR_HELP2MAN} --no-info --no-discard-stderr
            --name "chaos and resilience testing harness"
            --include ${CMAKE_SOURCE_DIR}/harness/cli/chaosrun.h2m
            --output ${CR_MAN} $<TARGET_FILE:chaosrun>
    COMMAND gzip -9nf -k ${CR_MAN}
    DEPENDS chaosrun ${CMAKE_SOURCE_DIR}/harness/cli/chaosrun.h2m
    COMMENT "man page chaosrun(1) (help2man)"
    VERBATIM)
  add_custom_target(man ALL DEPENDS ${CR_MAN} ${CR_MAN}.gz)
  install(FILES ${CR_MAN}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
          COMPONENT chaosrun)
else()
  message(WARNING "help2man not found: no man page (apt-get install help2man)")
endif()

# ---- the shipped scenarios and the helpers they run ---------------------
# Helpers that are scripts, not targets: name -> source.
set(CR_HELPER_SCRIPT_crp-rabbitmq.sh ${CMAKE_SOURCE_DIR}/sample_pipeline/scripts/rabbitmq.sh)
set(CR_HELPERS_INSTALLED "")
file(GLOB CR_SHIPPED ${CMAKE_SOURCE_DIR}/scenarios/*.json)
foreach(scen ${CR_SHIPPED})
  file(READ ${scen} text)
  string(REGEX MATCHALL "\\\${CHAOSRUN_BINDIR}/[A-Za-z0-9_.-]+" uses "${text}")
  set(helpers "")
  set(ok 1)
  foreach(u ${uses})
    string(REPLACE "\${CHAOSRUN_BINDIR}/" "" h "${u}")
    if(TARGET ${h} OR (DEFINED CR_HELPER_SCRIPT_${h} AND TARGET crp))
      list(APPEND helpers ${h})
    else()
      set(ok 0)
    endif()
  endforeach()
  if(NOT ok)
    continue()
  endif()
  install(FILES ${scen} DESTINATION ${CMAKE_INSTALL_DATADIR}/chaosrun/scenarios
          COMPONENT examples)
  list(APPEND CR_HELPERS_INSTALLED ${helpers})
endforeach()
list(REMOVE_DUPLICATES CR_HELPERS_INSTALLED)
list(REMOVE_ITEM CR_HELPERS_INSTALLED cr_tgt_server) # in the chaosrun component
foreach(h ${CR_HELPERS_INSTALLED})
  if(TARGET ${h})
    install(TARGETS ${h} RUNTIME DESTINATION ${CR_HELPER_INSTALL_DIR}
            COMPONENT examples)
  else()
    install(PROGRAMS ${CR_HELPER_SCRIPT_${h}} RENAME ${h}
            DESTINATION ${CR_HELPER_INSTALL_DIR} COMPONENT examples)
  endif()
endforeach()
