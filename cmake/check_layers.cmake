# Fails the build when a file crosses a layer (run by the portico_layers target with -DROOT=...).
# The rules are in CMakeLists.txt next to the target; each failure names the file and the line.
set(problems "")

function(check_files glob pattern why)
  file(GLOB_RECURSE files "${ROOT}/${glob}")
  set(found "${problems}")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" lines REGEX "${pattern}")
    foreach(line IN LISTS lines)
      file(RELATIVE_PATH rel "${ROOT}" "${file}")
      string(APPEND found "\n  ${rel}: ${line}  (${why})")
    endforeach()
  endforeach()
  set(problems "${found}" PARENT_SCOPE)
endfunction()

foreach(ext hpp cpp)
  check_files("providers/*.${ext}" "#include [<\"]boost/(asio|beast)"
    "providers are pure: no Asio or Beast")
  check_files("providers/*.${ext}" "#include \"(base|stream|routing|proxy|server|upstream|http|openai|apis)/"
    "providers see only include/ and providers/")
  check_files("src/server/*.${ext}" "#include \"(upstream|common|anthropic|azure_openai|bedrock|cohere|google|mistral_ai|openai_compatible|vertex_ai)/"
    "the server sees the pipeline, not upstreams or providers")
  foreach(dir base stream routing openai apis proxy server telemetry redis keys)
    check_files("src/${dir}/*.${ext}" "#include [<\"](boost/beast/http|http/beast_http)"
      "Beast's HTTP types stay in src/http/ and src/upstream/")
  endforeach()
  check_files("src/*.${ext}" "\"(openai|anthropic|azure-openai|google|vertex-ai|bedrock|cohere|ollama|triton)\""
    "the core names no provider; providers declare what they need")
endforeach()

if(problems)
  if(NOT LEVEL)
    set(LEVEL FATAL_ERROR)
  endif()
  message(${LEVEL} "Layering broken:${problems}")
endif()
