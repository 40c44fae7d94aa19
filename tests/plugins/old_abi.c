/* A plugin that says it was built for guest ABI version 99 (tests/c_plugin_test.cpp): it does not
 * include <vcpusim/guest.h>, whose version it would get, and declares its own. */
struct vcpusim_host_api;
const unsigned vcpusim_plugin_abi_version = 99;
int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) { return 0; }
