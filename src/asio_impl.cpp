// The one translation unit that compiles Asio, Asio-SSL, Beast and Boost.URL, so that no other
// file pays for their implementation (BOOST_*_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
