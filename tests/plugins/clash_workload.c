/* A plugin whose workload parameter takes a built-in workload key, "count" (tests/
 * c_workload_test.cpp: the load fails with one message). */
#include <vcpusim/guest.h>

static void run(const int64_t* p) {}
static const struct vcpusim_param params[] = {
    {"count", VCPUSIM_PARAM_INT, "count", 0, 10, 1, "rounds"},
};
static const struct vcpusim_workload_ops ops = {"c:clash", "a taken key", params, 1, run};

int vcpusim_plugin_init(const struct vcpusim_host_api* api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_workload(&ops);
}
