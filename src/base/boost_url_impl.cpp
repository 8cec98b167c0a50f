// Compiles Boost.URL's implementation once for the whole project (it is not header-only in 1.81
// and Debian ships no separate library in libboost1.81-dev).
#include <boost/url/src.hpp>
