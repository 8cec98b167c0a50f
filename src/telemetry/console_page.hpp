#pragma once

#include <string>
#include <string_view>

namespace portico::telemetry {

// The console: one self-contained HTML page (inline CSS and JS, nothing fetched but its own
// /console/api/ data) that holds no data itself. `nonce` (base64 or hex characters only) is
// put in its Content-Security-Policy and on its one <style> and one <script>.
std::string consolePage(std::string_view nonce);

namespace console_parts {
extern const std::string_view kStyle;   // console_page_style.cpp
extern const std::string_view kScript;  // console_page_script.cpp
}  // namespace console_parts

}  // namespace portico::telemetry
