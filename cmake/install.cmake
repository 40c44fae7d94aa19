# `cmake --install`: the binary, its man page (help2man, from --help), bash completion, the
# scenario JSON Schema, the guest ABI headers with their pkg-config file, the catalogue, explore and sweep scenarios and
# recordings (which --help and the man page cite), and the README with docs/
# (share/doc/vcpusim). `cpack` (in the build directory) turns the
# same layout into a .deb whose dependencies dpkg-shlibdeps reads from the binary.
include(GNUInstallDirs)

install(TARGETS vcpusim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The completion is generated from the command table (`vcpusim completion`), like the man page.
set(_completion ${CMAKE_BINARY_DIR}/vcpusim.bash-completion)
add_custom_command(
  OUTPUT ${_completion}
  COMMAND $<TARGET_FILE:vcpusim> completion > ${_completion}
  DEPENDS vcpusim
  COMMENT "Writing the bash completion from the command table")
add_custom_target(vcpusim_completion ALL DEPENDS ${_completion})
install(FILES ${_completion}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME vcpusim)
file(GLOB VCPUSIM_CATALOGUE CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scenarios/*.json)
install(FILES ${VCPUSIM_CATALOGUE} ${CMAKE_SOURCE_DIR}/scenarios/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/vcpusim/scenarios)
# The sweep specs name their scenarios, and trace loads their recordings, relative to
# themselves: the layout is kept.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/scenarios/explore ${CMAKE_SOURCE_DIR}/scenarios/sweeps
        ${CMAKE_SOURCE_DIR}/scenarios/recordings
        DESTINATION ${CMAKE_INSTALL_DATADIR}/vcpusim/scenarios)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# C guest code (docs/c-guest-code.md): the guest ABI headers and the examples, so an installed
# vcpusim builds plugins (`vcpusim cc`) without the source tree.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/vcpusim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs DESTINATION ${CMAKE_INSTALL_DOCDIR})

find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(_man ${CMAKE_BINARY_DIR}/vcpusim.1.gz)
  add_custom_command(
    OUTPUT ${_man}
    COMMAND ${CMAKE_SOURCE_DIR}/tools/scripts/make_man.sh $<TARGET_FILE:vcpusim> ${_man}
    DEPENDS vcpusim ${CMAKE_SOURCE_DIR}/tools/scripts/make_man.sh
    COMMENT "Writing the man page from vcpusim --help")
  add_custom_target(vcpusim_man ALL DEPENDS ${_man})
  install(FILES ${_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  install(CODE "message(STATUS \"help2man is missing (tools/scripts/setup.sh --tests): no man page\")")
endif()

file(STRINGS ${CMAKE_SOURCE_DIR}/tools/version.hpp _version REGEX "kVersion = ")
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" VCPUSIM_VERSION "${_version}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/vcpusim.pc.in ${CMAKE_BINARY_DIR}/vcpusim.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/vcpusim.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vcpusim)
set(CPACK_PACKAGE_VERSION ${VCPUSIM_VERSION})
set(CPACK_PACKAGE_CONTACT "vcpusim developers <vcpusim@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "deterministic discrete-event simulator of multi-vCPU VM hosts")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
