# A Node test suite: one ctest <label>.<name> per <suite dir>/<name>.test.js, run with Node's
# built-in test runner and labelled <label>. <suite dir>/install.sh (npm ci) runs as a ctest
# fixture before them, so `ctest -L <label>` works on a fresh checkout. ENVIRONMENT: the
# tests' environment (binaries to start, where to write artifacts).
function(q_add_node_suite label)
  # Not PARSE_ARGV: that would keep the ;-separated ENVIRONMENT string as one escaped item.
  cmake_parse_arguments(ARG "" "" "ENVIRONMENT" ${ARGN})
  find_program(NODE_EXECUTABLE node)
  if(NOT NODE_EXECUTABLE)
    message(WARNING "node not found: the ${label} tests are not registered")
    return()
  endif()

  set(suite_dir ${CMAKE_CURRENT_SOURCE_DIR})
  add_test(NAME ${label}.install COMMAND bash ${suite_dir}/install.sh)
  set_tests_properties(${label}.install PROPERTIES
    FIXTURES_SETUP ${label}_node_modules
    LABELS ${label}
    TIMEOUT 300
    WORKING_DIRECTORY ${suite_dir})

  file(GLOB test_files CONFIGURE_DEPENDS ${suite_dir}/*.test.js)
  foreach(test_file IN LISTS test_files)
    get_filename_component(test_file_name ${test_file} NAME)
    string(REGEX REPLACE "\\.test\\.js$" "" test_name ${test_file_name})
    add_test(NAME ${label}.${test_name}
             COMMAND ${NODE_EXECUTABLE} --test ${test_file}
             WORKING_DIRECTORY ${suite_dir})
    set_tests_properties(${label}.${test_name} PROPERTIES
      ENVIRONMENT "${ARG_ENVIRONMENT}"
      LABELS ${label}
      TIMEOUT 120
      FIXTURES_REQUIRED ${label}_node_modules)
  endforeach()
endfunction()
