# Build options shared by every target of the project.

option(POSD_WERROR "Treat warnings in posd's own code as errors" ON)
option(POSD_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

# posd_warnings applies the project's warning policy to one of our own targets.
# Generated code (protobuf) does not get it: we do not control its warnings.
add_library(posd_warnings INTERFACE)
target_compile_options(posd_warnings INTERFACE -Wall -Wextra -Wshadow=local
  -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${POSD_WERROR}>:-Werror>)

if(POSD_SANITIZE)
  set(POSD_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  add_compile_options(${POSD_SANITIZER_FLAGS})
  add_link_options(${POSD_SANITIZER_FLAGS})
endif()

# ccache, when installed, shares compiled objects between builds and between
# clones of the checkout: CCACHE_BASEDIR makes the cached paths relative to the
# source root, so two clones at different paths hit the same entries.
option(POSD_CCACHE "Compile through ccache when it is installed" ON)
find_program(POSD_CCACHE_PROGRAM ccache)
if(POSD_CCACHE AND POSD_CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(POSD_LAUNCHER /usr/bin/env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
      CCACHE_NOHASHDIR=1 ${POSD_CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${POSD_LAUNCHER})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${POSD_LAUNCHER})
endif()
