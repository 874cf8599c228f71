# reactord_headers(<target> PREFIX <dir> [PUBLIC <header>...])
#
# A library of ours exposes only the headers its users include. Its folder's headers are
# linked (symbolic links, made at configure time) into two folders of the build tree:
#   public/<target>/<dir>/  only the headers listed after PUBLIC: the target's PUBLIC include
#                           directory, so a user writes "<dir>/<header>" and cannot reach the
#                           rest (a build error names the include that crossed the boundary);
#   own/<target>/<dir>/     every header of the folder: PRIVATE, for the target's own sources.
# No library puts the project root on its users' include path.
function(reactord_headers target)
  cmake_parse_arguments(H "" "PREFIX" "PUBLIC" ${ARGN})
  set(public_dir ${CMAKE_BINARY_DIR}/public/${target})
  set(own_dir ${CMAKE_BINARY_DIR}/own/${target})
  file(REMOVE_RECURSE ${public_dir} ${own_dir})
  file(MAKE_DIRECTORY ${public_dir}/${H_PREFIX} ${own_dir}/${H_PREFIX})
  foreach(header IN LISTS H_PUBLIC)
    if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${header})
      message(FATAL_ERROR "${target}: public header ${header} is not in ${CMAKE_CURRENT_SOURCE_DIR}")
    endif()
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/${header} ${public_dir}/${H_PREFIX}/${header} SYMBOLIC)
  endforeach()
  file(GLOB own_headers RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*.h)
  foreach(header IN LISTS own_headers)
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/${header} ${own_dir}/${H_PREFIX}/${header} SYMBOLIC)
  endforeach()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${public_dir})
  else()
    target_include_directories(${target} PUBLIC ${public_dir} PRIVATE ${own_dir})
  endif()
endfunction()
