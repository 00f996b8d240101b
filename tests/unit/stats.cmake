# The statistics library (core/analysis/stats) against numpy/scipy reference values
# (tests/fixtures/stats/reference.json, from gen_reference.py there), plus
# the radix selection over sample files against the in-memory sort and the
# Hodges-Lehmann selection against brute force.  `test_stats DIR bench`
# prints timings (10M-value summary, 1M x 1M tests); not run by ctest.
add_executable(test_stats test_stats.c)
target_link_libraries(test_stats PRIVATE benchctl_stats PkgConfig::CJSON m)
add_test(NAME unit.test_stats
         COMMAND test_stats ${PROJECT_SOURCE_DIR}/tests/fixtures/stats)
set_tests_properties(unit.test_stats PROPERTIES TIMEOUT 120
                     ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
