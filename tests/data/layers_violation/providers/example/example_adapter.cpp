// A provider that reaches for the network: cmake/check_layers.cmake must refuse it.
#include <boost/asio/io_context.hpp>
