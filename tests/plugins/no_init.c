/* A plugin built against <vcpusim/guest.h> that forgot its entry point (tests/c_plugin_test.cpp). */
#include <vcpusim/guest.h>

int vcpusim_plugin_entry(const struct vcpusim_host_api *api, unsigned abi_version) {
  return vcpusim_begin(api, abi_version);
}
