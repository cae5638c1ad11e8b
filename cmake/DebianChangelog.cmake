# CHANGELOG.md -> a Debian changelog (Debian policy 4.4), gzipped, for the .deb's
# /usr/share/doc/esim-sync/changelog.gz: a native package's changelog is its upstream one, and
# dpkg and lintian read it in Debian's format. CHANGELOG.md stays the one place to write to.
#   cmake -DINPUT=CHANGELOG.md -DOUTPUT=changelog.gz -DVERSION=x.y.z -DMAINTAINER="n <e>"
#         -P DebianChangelog.cmake
# Each "## x.y.z (YYYY-MM-DD)" section becomes an entry, its
# "### Heading" a "* Heading:" item, its "- " bullets and paragraphs items, rewrapped to fit 80
# columns. "## Unreleased" becomes the entry "x.y.z+unreleased" (distribution UNRELEASED, dated
# SOURCE_DATE_EPOCH or now) when VERSION is that, and is skipped otherwise (it is empty).
# The newest entry must be VERSION, so a version bump without a CHANGELOG.md section fails the
# build.
cmake_minimum_required(VERSION 3.18)

# Appends `text` to `out`, wrapped at 78 columns: the first line after `first`, the rest after
# `rest` (both indents).
function(wrap_item out text first rest)
  string(REGEX REPLACE "[ \t\n]+" ";" words "${text}")
  set(result "${${out}}")
  set(line "${first}")
  set(fresh TRUE)
  foreach(word IN LISTS words)
    if(word STREQUAL "")
      continue()
    endif()
    # Measured as printed: each stand-in token is one character.
    string(REGEX REPLACE "@(SEMICOLON|OPEN|CLOSE)@" "x" printed "${line} ${word}")
    string(LENGTH "${printed}" length)
    if(fresh)
      string(APPEND line "${word}")
      set(fresh FALSE)
    elseif(length GREATER 78)
      string(APPEND result "${line}\n")
      set(line "${rest}${word}")
    else()
      string(APPEND line " ${word}")
    endif()
  endforeach()
  string(APPEND result "${line}\n")
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# A CMake list splits on ";" and brackets hold it together: both stand in as tokens until the end.
file(READ "${INPUT}" text)
string(REPLACE ";" "@SEMICOLON@" text "${text}")
string(REPLACE "[" "@OPEN@" text "${text}")
string(REPLACE "]" "@CLOSE@" text "${text}")
string(REPLACE "\n" ";" lines "${text}")
set(changelog "")
set(entry_open FALSE)  # inside a released section
set(item "")           # the item being gathered (a bullet or a paragraph)
set(item_indent "  * ")
set(item_rest "    ")
set(first_version "")

macro(flush_item)
  if(NOT item STREQUAL "")
    wrap_item(changelog "${item}" "${item_indent}" "${item_rest}")
    set(item "")
  endif()
endmacro()

macro(close_entry)
  if(entry_open)
    flush_item()
    if(entry_date STREQUAL "now")
      if(DEFINED ENV{SOURCE_DATE_EPOCH})
        set(when "@$ENV{SOURCE_DATE_EPOCH}")
      else()
        set(when "now")
      endif()
      execute_process(COMMAND date -u -R -d "${when}" OUTPUT_VARIABLE rfc_date
                      OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
    else()
      execute_process(COMMAND date -u -R -d "${entry_date} 00:00:00" OUTPUT_VARIABLE rfc_date
                      OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
    endif()
    string(APPEND changelog "\n -- ${MAINTAINER}  ${rfc_date}\n\n")
    set(entry_open FALSE)
  endif()
endmacro()

set(in_heading FALSE)  # a "### Heading" turns the bullets under it into sub-items
foreach(line IN LISTS lines)
  if(line MATCHES "^## ([0-9]+\\.[0-9]+\\.[0-9]+) \\(([0-9]+-[0-9]+-[0-9]+)\\)$")
    close_entry()
    if(first_version STREQUAL "")
      set(first_version "${CMAKE_MATCH_1}")
    endif()
    string(APPEND changelog "esim-sync (${CMAKE_MATCH_1}) unstable; urgency=medium\n\n")
    set(entry_date "${CMAKE_MATCH_2}")
    set(entry_open TRUE)
    set(in_heading FALSE)
    set(item_indent "  * ")
    set(item_rest "    ")
  elseif(line MATCHES "^## Unreleased" AND VERSION MATCHES "\\+unreleased$")
    close_entry()
    set(first_version "${VERSION}")
    string(APPEND changelog "esim-sync (${VERSION}) UNRELEASED; urgency=medium\n\n")
    set(entry_date "now")
    set(entry_open TRUE)
    set(in_heading FALSE)
    set(item_indent "  * ")
    set(item_rest "    ")
  elseif(line MATCHES "^## ")
    close_entry()  # "Unreleased" (empty), or anything that is not a release
  elseif(NOT entry_open)
    continue()
  elseif(line MATCHES "^### (.*)$")
    flush_item()
    string(APPEND changelog "  * ${CMAKE_MATCH_1}:\n")
    set(in_heading TRUE)
  elseif(line MATCHES "^- (.*)$")
    flush_item()
    set(item "${CMAKE_MATCH_1}")
    if(in_heading)
      set(item_indent "    - ")
      set(item_rest "      ")
    endif()
  elseif(line MATCHES "^[ \t]*$")
    flush_item()
  else()
    if(item STREQUAL "" AND NOT in_heading)
      set(item_indent "  * ")
      set(item_rest "    ")
    endif()
    string(APPEND item " ${line}")
  endif()
endforeach()
close_entry()

if(NOT first_version STREQUAL VERSION)
  message(FATAL_ERROR "CHANGELOG.md: the newest release is '${first_version}', but project() says ${VERSION}: "
                      "add a \"## ${VERSION} (YYYY-MM-DD)\" section")
endif()

string(REGEX REPLACE "\n+$" "\n" changelog "${changelog}")
string(REPLACE "@SEMICOLON@" ";" changelog "${changelog}")
string(REPLACE "@OPEN@" "[" changelog "${changelog}")
string(REPLACE "@CLOSE@" "]" changelog "${changelog}")
get_filename_component(plain "${OUTPUT}" NAME_WLE)
get_filename_component(dir "${OUTPUT}" DIRECTORY)
file(WRITE "${dir}/${plain}" "${changelog}")
execute_process(COMMAND gzip -9nf "${dir}/${plain}" COMMAND_ERROR_IS_FATAL ANY)
