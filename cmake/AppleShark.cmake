# appleshark's CMake logic, includable from another project's CMakeLists.txt after setting
# APPLESHARK_ROOT to the appleshark checkout. Defines the target `appleshark` (the plugin .so),
# its install rule, and the test `appleshark-tests`.
#
# SPDX-License-Identifier: GPL-2.0-or-later
find_package(PkgConfig REQUIRED)
pkg_check_modules(WIRESHARK REQUIRED wireshark>=4.0)
find_program(CARGO cargo HINTS $ENV{HOME}/.cargo/bin REQUIRED)

string(REGEX MATCH "^[0-9]+\\.[0-9]+" APPLESHARK_WS_MAJOR_MINOR "${WIRESHARK_VERSION}")
if(NOT APPLESHARK_WS_MAJOR_MINOR MATCHES "^4\\.(0|4|6)$")
  message(FATAL_ERROR "appleshark supports Wireshark 4.0, 4.4 and 4.6; found ${WIRESHARK_VERSION}")
endif()
pkg_get_variable(WIRESHARK_PLUGINDIR wireshark plugindir)

option(APPLESHARK_USER_INSTALL "Install into the personal plugin folder" OFF)
if(NOT APPLESHARK_INSTALL_DIR)
  if(APPLESHARK_USER_INSTALL)
    set(APPLESHARK_INSTALL_DIR "$ENV{HOME}/.local/lib/wireshark/plugins/${APPLESHARK_WS_MAJOR_MINOR}/epan")
  else()
    set(APPLESHARK_INSTALL_DIR "${WIRESHARK_PLUGINDIR}/epan")
  endif()
endif()
set(APPLESHARK_INSTALL_DIR "${APPLESHARK_INSTALL_DIR}" CACHE PATH "Where the plugin is installed")

set(APPLESHARK_TARGET_DIR "${CMAKE_CURRENT_BINARY_DIR}/cargo-target")
set(APPLESHARK_SO "${APPLESHARK_TARGET_DIR}/release/libappleshark.so")
# cargo decides what is stale, so the target always asks it (a no-op build takes ~0.5 s).
add_custom_target(appleshark ALL
  COMMAND ${CMAKE_COMMAND} -E env CARGO_TARGET_DIR=${APPLESHARK_TARGET_DIR}
          ${CARGO} build --release --lib --manifest-path ${APPLESHARK_ROOT}/Cargo.toml
  BYPRODUCTS "${APPLESHARK_SO}"
  WORKING_DIRECTORY "${APPLESHARK_ROOT}"
  COMMENT "Building appleshark for Wireshark ${WIRESHARK_VERSION} with cargo"
  USES_TERMINAL
  VERBATIM)

install(FILES "${APPLESHARK_SO}" DESTINATION "${APPLESHARK_INSTALL_DIR}"
        RENAME appleshark.so PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

enable_testing()
add_test(NAME appleshark-tests
         COMMAND ${CARGO} test --manifest-path ${APPLESHARK_ROOT}/Cargo.toml
         WORKING_DIRECTORY "${APPLESHARK_ROOT}")
message(STATUS "appleshark: Wireshark ${WIRESHARK_VERSION}; plugin goes to ${APPLESHARK_INSTALL_DIR}")
