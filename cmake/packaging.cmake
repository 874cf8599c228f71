# install() rules and the Debian package (CPack DEB):
#   cmake --workflow --preset release && cpack --config build/release/CPackConfig.cmake -B build/deb
# gives reactord_<VERSION>_<arch>.deb: reactord, reactorctl, reactor-client in /usr/bin, the
# systemd unit (Type=notify, sandboxed), /etc/default/reactord (a conffile), README as the doc.
# Dependencies come from dpkg-shlibdeps (the Debian packages of the libraries the binaries
# load). tests/packages builds the .deb, inspects it and installs it into a clean container.
include(GNUInstallDirs)

set(reactord_installed_programs reactord reactorctl reactor-client)
install(TARGETS ${reactord_installed_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES deploy/systemd/reactord.service DESTINATION lib/systemd/system)
install(FILES deploy/systemd/reactord.default DESTINATION /etc/default RENAME reactord)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME reactord)
set(CPACK_PACKAGE_VENDOR "reactord")
set(CPACK_PACKAGE_CONTACT "reactord developers <reactord@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "TCP echo service on its own event loop, with a gRPC control plane and Prometheus metrics")
set(CPACK_PACKAGE_DESCRIPTION
    "reactord greets each TCP client and echoes what it sends. Operators inspect and steer it\n\
through a gRPC control plane (reactorctl) and watch it through Prometheus metrics.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
include(CPack)
