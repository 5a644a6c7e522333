# posd_add_test(NAME name SOURCES ... [LIBS ...] LABELS unit|integration|faults|fuzz
#               [TIMEOUT seconds])
#
# One GoogleTest executable registered as one CTest test with its labels. Tests
# run from their build folder; they must create their own temporary files.
function(posd_add_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    message(FATAL_ERROR "posd_add_test(${ARG_NAME}): LABELS is required")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} posd_test_support
    GTest::gtest GTest::gmock GTest::gtest_main posd_warnings)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}"
    TIMEOUT ${ARG_TIMEOUT})
  if("integration" IN_LIST ARG_LABELS OR "faults" IN_LIST ARG_LABELS)
    posd_add_race_test_target(${ARG_NAME})
  endif()
endfunction()

# posd_add_race_test_target(target): `target` is run by a test labelled
# integration or faults, so the optimised build's posd_race_tests target
# (CI's second stage, `ctest --preset release-races`) must build it.
function(posd_add_race_test_target target)
  set_property(GLOBAL APPEND PROPERTY POSD_RACE_TEST_TARGETS ${target})
endfunction()
