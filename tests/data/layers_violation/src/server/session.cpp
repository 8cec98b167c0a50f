// A server file that sees an upstream: cmake/check_layers.cmake must refuse it.
#include "upstream/upstream_client.hpp"
